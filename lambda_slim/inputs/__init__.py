"""Inputs: requirements, lock files and pyproject dependencies, layered with configuration."""
