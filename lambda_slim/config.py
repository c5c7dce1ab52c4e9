"""Configuration: frozen dataclasses and how flags, env vars and pyproject.toml layer.

Precedence, lowest to highest: built-in defaults < ``[tool.lambda-slim]`` in the
``pyproject.toml`` beside the requirements file (and its ``layers.<name>`` table) <
``LAMBDA_SLIM_*`` environment variables < command-line flags.
"""

from __future__ import annotations

import difflib
import re

from .errors import InputError

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")
_UNITS = {
    "": 1, "b": 1,
    "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3,
}


def parse_size(text: str | int) -> int:
    """``262144000``, ``250MiB``, ``262.1MB``, ``1GiB`` -> bytes (MB = 10^6, MiB = 2^20)."""
    if isinstance(text, int):
        if text <= 0:
            raise InputError(f"Size {text} must be positive.")
        return text
    m = _SIZE.match(str(text))
    unit = m.group(2).lower() if m else ""
    if not m or unit not in _UNITS:
        raise InputError(
            f"Cannot read the size {text!r}.",
            hint="Write bytes (262144000) or a number with a unit: 250MiB, 262MB, 1GiB.",
        )
    value = int(float(m.group(1)) * _UNITS[unit])
    if value <= 0:
        raise InputError(f"Size {text!r} must be positive.")
    return value


def did_you_mean(word: str, choices: list[str] | tuple[str, ...] | set[str]) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1)
    return f" Did you mean {close[0]!r}?" if close else ""
