"""Deflating a layer's files ahead of its zip, on a CPU that would otherwise sit idle.

Verification runs one interpreter at a time, so while it imports the layer one CPU has
nothing to do; a thread deflates the files the zip will hold in the meantime (zlib releases
the GIL). The zip writer then takes each result whose file is provably unchanged (same
device, inode, size, modification and change times) and deflates the rest itself, with the
same function, so the archive is byte-identical to one written without help. Bytecode is
left for the zip pass: ``--compile=imported`` drops most of it after verification.
"""

from __future__ import annotations

import os
import threading
import zlib
from collections.abc import Callable
from pathlib import Path

#: (device, inode, size, mtime_ns, ctime_ns): a rename, a rewrite or a chmod changes it
Key = tuple[int, int, int, int, int]
#: (payload, method, crc32, size, st_mode), as the zip writer stores an entry
Packed = tuple[bytes, int, int, int, int]
_CHUNK = 1 << 20


def file_key(st: os.stat_result) -> Key:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def deflate(path: Path, level: int,
            stop: threading.Event | None = None) -> tuple[Packed, Key] | None:
    """Read and deflate one file in 1 MiB chunks (stored when that is not smaller), with the
    stat key it was read under; None when ``stop`` was set on the way. No buffer holds the
    whole file (several of these run at once on large libraries)."""
    with open(path, "rb") as fh:
        st = os.fstat(fh.fileno())
        crc = 0
        size = 0
        co = zlib.compressobj(level, zlib.DEFLATED, -15) if level > 0 else None
        parts = []
        while chunk := fh.read(_CHUNK):
            if stop is not None and stop.is_set():
                return None
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
            if co is not None:
                parts.append(co.compress(chunk))
        if co is not None and size:
            parts.append(co.flush())
            packed = b"".join(parts)
            del parts
            if len(packed) < size:
                return (packed, 8, crc, size, st.st_mode), file_key(st)
        fh.seek(0)
        data = fh.read()  # stored: what is stored is what its CRC describes
    return (data, 0, zlib.crc32(data), len(data), st.st_mode), file_key(st)


#: deflate one file (or take its stream from a cache), as :func:`deflate` does
Packer = Callable[[Path, "threading.Event | None"], "tuple[Packed, Key] | None"]


class Ahead:
    """Deflates ``files`` (in order) on one background thread until :meth:`stop`; holds at
    most ``max_bytes`` of results. ``packer``: what deflates one file (default
    :func:`deflate` at ``level``; the zip's cache of streams when there is one)."""

    def __init__(self, files: list[Path], level: int, *, max_bytes: int = 32 << 20,
                 packer: Packer | None = None) -> None:
        self._files = files
        self._level = level
        self._pack: Packer = packer or (lambda path, stop: deflate(path, level, stop))
        self._max = max_bytes
        self._stop = threading.Event()
        self._done: dict[Path, tuple[Packed, Key]] = {}
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="lambda-slim-zip-ahead",
                                        daemon=True)

    def __enter__(self) -> Ahead:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop deflating (within one chunk) and wait for the thread."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        held = 0
        for path in self._files:
            if self._stop.is_set() or held >= self._max:
                return
            try:
                got = self._pack(path, self._stop)
            except OSError:
                continue  # gone or unreadable now: the zip pass decides
            if got is None:
                return
            with self._lock:
                self._done[path] = got
            held += len(got[0][0])

    def take(self, path: Path, level: int) -> Packed | None:
        """The result for ``path`` if it was deflated at ``level`` and the file has not
        changed since; None otherwise (the caller deflates it)."""
        with self._lock:
            got = self._done.pop(path, None)
        if got is None or level != self._level:
            return None
        try:
            now = file_key(os.stat(path))
        except OSError:
            return None
        return got[0] if now == got[1] else None

    @property
    def ready(self) -> int:
        with self._lock:
            return len(self._done)
