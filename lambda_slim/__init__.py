"""lambda-slim: the smallest AWS Lambda layer that still works."""

from __future__ import annotations

__version__ = "0.1.0"
