"""A content-keyed cache of deflate streams, for the zip's files that no wheel holds as is.

Files installed unchanged keep their wheel's stream (:mod:`.zipreuse`); what a build makes
itself (stripped libraries, target bytecode, rewritten metadata) had to be deflated again on
every build, although the strip and bytecode caches hand out the same bytes each time. The
stream raw deflate writes depends only on the input's bytes and the settings (level, window,
memory level, strategy, and the zlib that runs: another zlib may write other bytes), so
those are the key: ``<settings>/<sha256 of the input>``. An entry holds the stream with the
input's CRC-32 and size and the stream's own SHA-256. On use, the file is read once (its
SHA-256 finds the entry, its CRC-32 and size must match the entry's) and the stream must
still hash to what was stored: anything else is deflated again (and stored over), never
copied. The same input gives the same zip with or without the cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import struct
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path

from .atomic import atomic_write_bytes
from .zipahead import Key, Packed, deflate, file_key

_MAGIC = b"LSDEFL1\n"
_HEAD = struct.Struct("<8sIQQ32s")  # magic, crc32, size, compressed, sha256(stream)
_CHUNK = 1 << 20
#: smaller files deflate faster than an entry is looked up (and would crowd the cache)
MIN_BYTES = 8 << 10
#: zlib's defaults besides the level, as :func:`.zipahead.deflate` uses them
_WBITS, _MEMLEVEL, _STRATEGY = -15, 8, zlib.Z_DEFAULT_STRATEGY


@dataclass(frozen=True)
class Probe:
    """One read of a file: what finds its entry and what the entry must match."""

    sha256: str
    crc: int
    size: int
    mode: int
    key: Key


def settings_id(level: int) -> str:
    """The part of the key that is not the input: the deflate settings and the zlib."""
    raw = "\0".join(map(str, ("raw-deflate", level, _WBITS, _MEMLEVEL, _STRATEGY,
                              zlib.ZLIB_RUNTIME_VERSION)))
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


class DeflateCache:
    """Deflate streams at one ``level`` in ``folder`` (``read``: False for ``--refresh``,
    which deflates everything and stores it)."""

    def __init__(self, folder: Path, level: int, *, read: bool = True) -> None:
        self.folder = folder / settings_id(level)
        self.level = level
        self.read = read
        self.hits = 0
        self._lock = threading.Lock()

    def _entry(self, sha: str) -> Path:
        return self.folder / sha[:2] / sha[2:]

    def pack(self, path: Path, stop: threading.Event | None = None) -> tuple[Packed, Key] | None:
        """``path``'s entry payload from the cache, else deflated (and stored); with the
        stat key it was read under. None only when ``stop`` was set on the way."""
        probe = _probe(path) if self.level > 0 else None
        if probe is None or probe.size < MIN_BYTES:
            return deflate(path, self.level, stop)
        if self.read:
            hit = self._take(probe)
            if hit is not None:
                with self._lock:
                    self.hits += 1
                return hit, probe.key
        got = deflate(path, self.level, stop)
        if got is not None:
            (data, method, crc, size, _mode), key = got
            if method == 8 and key == probe.key and (crc, size) == (probe.crc, probe.size):
                self._store(probe, data)
        return got

    def _take(self, probe: Probe) -> Packed | None:
        try:
            with open(self._entry(probe.sha256), "rb") as fh:
                head = fh.read(_HEAD.size)
                if len(head) != _HEAD.size:
                    return None
                magic, crc, size, compressed, digest = _HEAD.unpack(head)
                payload = fh.read(compressed + 1)
        except OSError:
            return None
        if (magic != _MAGIC or (crc, size) != (probe.crc, probe.size)
                or len(payload) != compressed or hashlib.sha256(payload).digest() != digest):
            return None
        return payload, 8, crc, size, probe.mode

    def _store(self, probe: Probe, data: bytes) -> None:
        """Keep one stream (a failure to store only costs time)."""
        dest = self._entry(probe.sha256)
        with contextlib.suppress(OSError):
            dest.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(dest, _HEAD.pack(_MAGIC, probe.crc, probe.size, len(data),
                                                hashlib.sha256(data).digest()) + data)


def _probe(path: Path) -> Probe | None:
    """Read ``path`` once: its SHA-256, CRC-32, size, mode and stat key."""
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            h = hashlib.sha256()
            crc = size = 0
            while chunk := fh.read(_CHUNK):
                h.update(chunk)
                crc = zlib.crc32(chunk, crc)
                size += len(chunk)
    except OSError:
        return None
    if size != st.st_size:
        return None  # (changing while read)
    return Probe(h.hexdigest(), crc, size, st.st_mode, file_key(st))
