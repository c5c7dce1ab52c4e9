"""Watching a running child from outside: its output as it comes, and its memory.

The runtime process lives for many invocations, so its output is read by a thread into a
list that each invocation takes its slice of, and its memory is read from ``/proc`` (the
``VmHWM``/``VmRSS`` of every process under the sandbox: bubblewrap's own are tiny).
"""

from __future__ import annotations

import contextlib
import fcntl
import struct
import termios
import threading
import time
from pathlib import Path
from typing import IO


class OutputLog:
    """Lines a child writes, read by a daemon thread."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._fd = stream.fileno()
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._last = time.monotonic()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[bytes]) -> None:
        try:
            for raw in iter(stream.readline, b""):
                text = raw.decode("utf-8", "replace").rstrip("\n")
                with self._lock:
                    # awslambdaric joins an error's lines with "\r" (one CloudWatch event)
                    self._lines.extend(text.split("\r"))
                    self._last = time.monotonic()
        finally:
            self._done.set()

    def mark(self) -> int:
        with self._lock:
            return len(self._lines)

    def _pending(self) -> int:
        """Bytes written to the pipe and not read yet."""
        try:
            raw = fcntl.ioctl(self._fd, termios.FIONREAD, b"\0\0\0\0")
            return int(struct.unpack("i", raw)[0])
        except OSError:
            return 0

    def since(self, mark: int, settle: float = 0.02, limit: float = 2.0) -> list[str]:
        """Lines after ``mark``, once what the child wrote so far has been read (output
        written just before a response may still be in the pipe)."""
        end = time.monotonic() + limit
        while time.monotonic() < end and not self._done.is_set():
            with self._lock:
                quiet = time.monotonic() - self._last
            if self._pending() == 0 and quiet >= settle:
                break
            time.sleep(settle / 2)
        with self._lock:
            return list(self._lines[mark:])

    def finish(self, timeout: float = 2.0) -> None:
        self._thread.join(timeout)


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError, ValueError):
            out += [int(x) for x in task.read_text().split()]
    return out


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    seen: list[int] = []
    todo = [pid]
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.append(p)
        todo += _children(p)
    return seen


def _status_kb(pid: int, field: str) -> int:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def peak_rss_bytes(pid: int) -> int:
    """The largest resident high-water mark among ``pid`` and its descendants."""
    return max((_status_kb(p, "VmHWM") for p in descendants(pid)), default=0) * 1024


def rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` and its descendants now."""
    return sum(_status_kb(p, "VmRSS") for p in descendants(pid)) * 1024
