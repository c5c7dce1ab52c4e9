"""Why a child run failed, read from its output: the causes no pruning rule can excuse.

A failure of the import check or a smoke script is one of: a shared library the loader (or
ctypes) could not find, a write into the read-only layer, a timeout, or an ordinary Python
error (which the differential diagnosis then attributes to pruning or not).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MISSING_LIBRARY = "missing-library"
READ_ONLY = "read-only"
TIMEOUT = "timeout"
ERROR = "error"

_LOADER = re.compile(r"(?P<so>[^\s:'\"/]+\.so(?:\.[\w]+)*): cannot open shared object file")
#: ctypes users that look a library up by name and give up (python-magic, …).
_CTYPES = re.compile(
    r"(?:failed to|could not|couldn't|unable to|cannot) (?:find|load|locate)\s+(?:the\s+)?"
    r"(?:shared\s+)?(?:library\s+)?['\"`]?(?P<name>lib[\w+-]+(?:\.so[\w.]*)?)",
    re.IGNORECASE)
_READ_ONLY = re.compile(r"\[Errno (?:30|13)\] (?:Read-only file system|Permission denied): "
                        r"'(?P<path>/(?:opt|var/task)/[^']*)'")
_TIMEOUT = re.compile(r"\[timed out after (?P<secs>\d+)s\]")


@dataclass(frozen=True)
class Cause:
    kind: str  # MISSING_LIBRARY | READ_ONLY | TIMEOUT | ERROR
    detail: str  # the soname, the path, the seconds, or the error's last line

    @property
    def excusable(self) -> bool:
        """Only an ordinary error of an optional submodule may be excused as "fails before
        pruning too"; a missing library, a write to /opt or a timeout never are."""
        return self.kind == ERROR

    def describe(self) -> str:
        if self.kind == MISSING_LIBRARY:
            return (f"missing system library {self.detail}: Lambda's runtime does not provide "
                    "it (provide it in a layer's lib/ and pass --system-lib, or use a variant "
                    "that does not need it)")
        if self.kind == READ_ONLY:
            return (f"write to the read-only layer: {self.detail} (on Lambda /opt and /var/task "
                    "are read-only; write under /tmp)")
        if self.kind == TIMEOUT:
            return f"timeout: still running after {self.detail} s"
        return self.detail


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else text.strip()


def classify(output: str) -> Cause:
    """The cause of a failed run from its traceback/output."""
    m = _TIMEOUT.search(output)
    if m:
        return Cause(TIMEOUT, m.group("secs"))
    m = _LOADER.search(output)
    if m:
        return Cause(MISSING_LIBRARY, m.group("so"))
    m = _CTYPES.search(output)
    if m:
        return Cause(MISSING_LIBRARY, m.group("name"))
    m = _READ_ONLY.search(output)
    if m:
        return Cause(READ_ONLY, m.group("path"))
    return Cause(ERROR, _last_line(output)[:300])
