"""Byte sizes: parsing ``250MiB``, printing binary units, and Lambda's size limits."""

from __future__ import annotations

import re
from decimal import Decimal

from .errors import InputError

#: Lambda's limit on a function's unzipped size, layers included (250 MiB).
DEFAULT_BUDGET = 262_144_000
#: The largest zip Lambda accepts uploaded directly (50 MiB); larger ones go through S3.
DIRECT_UPLOAD_LIMIT = 52_428_800
#: Lambda attaches at most five layers to one function.
MAX_LAYERS = 5
#: Larger sizes are typos: no budget or file of a Lambda layer comes near 1 PiB.
MAX_SIZE = 1 << 50

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")
_UNITS = {
    "": 1, "b": 1,
    "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3,
}


def parse_size(text: str | int) -> int:
    """``262144000``, ``250MiB``, ``262.1MB``, ``1GiB`` -> bytes (MB = 10^6, MiB = 2^20)."""
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise InputError(f"Cannot read the size {text!r}: give bytes or a size string.",
                         hint="Write bytes (262144000) or a quoted size: \"250MiB\".")
    if isinstance(text, int):
        value = text
    else:
        m = _SIZE.match(text)
        unit = m.group(2).lower() if m else ""
        if not m or unit not in _UNITS:
            raise InputError(
                f"Cannot read the size {text!r}.",
                hint="Write bytes (262144000) or a number with a unit: 250MiB, 262MB, 1GiB.",
            )
        value = int(Decimal(m.group(1)) * _UNITS[unit])  # exact: no float overflow
    if value <= 0:
        raise InputError(f"Size {text!r} must be positive.")
    if value > MAX_SIZE:
        raise InputError(f"Size {str(text)[:40]!r}{'…' if len(str(text)) > 40 else ''} is too "
                         f"large (over {MAX_SIZE:,} bytes, 1 PiB).",
                         hint="Lambda's limit is 262144000 bytes (250MiB); write a size near it.")
    return value


def human(n: float) -> str:
    """Bytes in binary units with one decimal (Lambda's "250 MB" limit is 250 MiB)."""
    sign = "-" if n < 0 else ""
    n = abs(n)
    if n >= 1024 * 1024:
        return f"{sign}{n / (1024 * 1024):.1f} MiB"
    if n >= 1024:
        return f"{sign}{n / 1024:.1f} KiB"
    return f"{sign}{int(n)} B"
