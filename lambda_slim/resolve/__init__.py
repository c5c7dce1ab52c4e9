"""Wheels for the target: pip resolution and installation, the verified wheel cache, unpacking."""
