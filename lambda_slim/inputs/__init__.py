"""Inputs: requirements files and configuration layered into one frozen BuildConfig."""
