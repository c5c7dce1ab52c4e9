"""A layer file installed unchanged from a wheel keeps the wheel's deflate stream.

Unpacking inflates every wheel member; most of them (sources, data, libraries strip leaves
alone) then ship exactly as they were, and deflating them again for the layer's zip was
the largest single cost of a build. The unpacker records, per file it wrote, where the
member's compressed bytes lie in the wheel, their CRC-32 and size, and the file's stat key
right after it was written; the zip writer copies those bytes as the entry's payload when
the file is unchanged since (same device, inode, size, modification and change times: a
strip, a rename or a rewrite changes them; and, read again, the member's CRC-32) and the
wheel itself is unchanged, and deflates everything else. The same wheels give the same
zip, whatever ran in between. Wheel builders write with zlib at its default level, which
is the stream lambda-slim's own level-6 deflate writes (byte-identical zips on the
benchmark stack); a wheel written at another level keeps that level for its unchanged
files, and a ``--zip-level`` other than 6 deflates every file here.
"""

from __future__ import annotations

import os
import struct
import threading
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .zipahead import Key, Packed, file_key

#: The level at which unchanged wheel members keep their stream (zlib's default level).
REUSE_LEVEL = 6
_LFH_FIXED = 30
_LFH_SIG = b"PK\x03\x04"


@dataclass(frozen=True)
class Member:
    """Where one installed file's deflated bytes lie in its wheel."""

    wheel: Path
    wheel_key: Key
    header_offset: int  # of the member's local file header
    compressed: int
    crc: int
    size: int
    key: Key  # the installed file's, right after it was written


class WheelStreams:
    """The installed files' wheel members, by the file's path (thread-safe to add to)."""

    def __init__(self) -> None:
        self._members: dict[Path, Member] = {}
        #: path -> (SHA-256 the install verified, the file's key right after it was linked)
        self._hashes: dict[Path, tuple[str, Key]] = {}
        self._lock = threading.Lock()

    def add(self, path: Path, member: Member) -> None:
        with self._lock:
            self._members[path] = member

    def add_hash(self, path: Path, sha256: str, key: Key) -> None:
        """``path`` was installed with bytes verified to hash to ``sha256``; ``key``: its
        stat key right after."""
        with self._lock:
            self._hashes[path] = (sha256, key)

    @property
    def members(self) -> Mapping[Path, Member]:
        return self._members

    def reusable(self, path: Path) -> bool:
        """Whether ``path`` is still exactly the file its wheel member inflates to."""
        m = self._members.get(path)
        if m is None:
            return False
        try:
            return file_key(os.stat(path)) == m.key and file_key(os.stat(m.wheel)) == m.wheel_key
        except OSError:
            return False

    def known_sha256(self, path: Path) -> str | None:
        """The SHA-256 the install verified ``path`` against, while it is unchanged since
        (None when unknown: the caller hashes it)."""
        got = self._hashes.get(path)
        if got is None:
            return None
        try:
            return got[0] if file_key(os.stat(path)) == got[1] else None
        except OSError:
            return None

    def take(self, path: Path, level: int) -> Packed | None:
        """The entry for ``path`` from its wheel's bytes, or None (the caller deflates it):
        only at :data:`REUSE_LEVEL` and for a file unchanged since it was installed."""
        m = self._members.get(path)
        if (level != REUSE_LEVEL or m is None or m.compressed >= m.size
                or not self.reusable(path)):
            return None  # (an incompressible file is stored, as the zip writer would)
        try:
            with open(m.wheel, "rb") as fh:
                fh.seek(m.header_offset)
                head = fh.read(_LFH_FIXED)
                if len(head) != _LFH_FIXED or head[:4] != _LFH_SIG:
                    return None
                name_len, extra_len = struct.unpack_from("<HH", head, 26)
                fh.seek(m.header_offset + _LFH_FIXED + name_len + extra_len)
                payload = fh.read(m.compressed)
            with open(path, "rb") as fh:  # the bytes the entry must inflate to, checked
                st = os.fstat(fh.fileno())
                crc = 0
                while chunk := fh.read(1 << 20):
                    crc = zlib.crc32(chunk, crc)
        except OSError:
            return None
        if len(payload) != m.compressed or crc != m.crc or st.st_size != m.size:
            return None
        return payload, 8, m.crc, m.size, st.st_mode
