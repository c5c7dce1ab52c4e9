"""Safe zip reading for ``lambda-slim check`` and ``publish``.

Sizes come from the central directory; local headers are read only to prove that each
entry's data lies where the central directory says and that the two agree. Nothing is
extracted: ``read_entry`` inflates one entry into memory, bounded by its declared size.
Hostile input (truncated, traversal names, duplicates, lying sizes, bombs) is refused with
an :class:`InputError` that names the file.
"""

from __future__ import annotations

import mmap
import os
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ..errors import InputError
from .zipformat import (
    CDH,
    CDH_MAGIC,
    EOCD,
    EOCD64,
    EOCD64_LOCATOR,
    EOCD64_LOCATOR_MAGIC,
    EOCD64_MAGIC,
    EOCD_MAGIC,
    LFH,
    LFH_MAGIC,
)

_MAX_COMMENT = 0xFFFF
_U32 = 0xFFFFFFFF
#: Deflate cannot expand more than ~1032:1; a larger declared ratio is a lie.
_DEFLATE_MAX_RATIO = 1032
_READABLE_METHODS = {0: "stored", 8: "deflate"}


@dataclass(frozen=True)
class ZipLimits:
    """What ``read_zip_listing`` accepts before it calls a zip hostile."""

    max_entries: int = 100_000
    #: Refuse when the declared unzipped total exceeds ``max_ratio`` times the zip's size ...
    max_ratio: int = 200
    #: ... and also exceeds this floor (small, very compressible zips are harmless).
    ratio_floor: int = 64 * 1024 * 1024


@dataclass(frozen=True)
class ZipEntry:
    name: str
    method: int
    crc: int
    compressed_size: int
    file_size: int
    header_offset: int
    data_offset: int
    mode: int
    raw_name: bytes = field(default=b"", repr=False)

    @property
    def is_dir(self) -> bool:
        return self.name.endswith("/")


@dataclass(frozen=True)
class ZipListing:
    path: Path
    zip_bytes: int
    entries: tuple[ZipEntry, ...]

    @property
    def files(self) -> tuple[ZipEntry, ...]:
        return tuple(e for e in self.entries if not e.is_dir)

    @property
    def unzipped_bytes(self) -> int:
        return sum(e.file_size for e in self.entries)


def _hostile(path: Path, what: str) -> InputError:
    return InputError(
        f"{path} is not a zip lambda-slim will read: {what}.",
        hint="Rebuild it with `lambda-slim build` (or `zip -r`); if it came from elsewhere, "
        "do not deploy it.",
    )


def _bad_name(name: str) -> str | None:
    """Why an entry name is unsafe, or None."""
    if not name or "\x00" in name:
        return "an empty name or a NUL byte"
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        return "an absolute path"
    if any(part == ".." for part in norm.split("/")):
        return "a '..' component that escapes the extraction directory"
    return None


def _zip64_extra(extra: bytes, need: list[str], sizes: dict[str, int]) -> bool:
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4: pos + 4 + size]
        if len(body) != size:
            return False
        if tag == 0x0001:
            for i, field in enumerate(need):
                if 8 * i + 8 > len(body):
                    return False
                sizes[field] = struct.unpack_from("<Q", body, 8 * i)[0]
            return True
        pos += 4 + size
    return not need


def _find_eocd(fh: BinaryIO, size: int, path: Path) -> tuple[int, int, int, int]:
    """(entry count, cd size, cd offset, eocd offset), following a zip64 locator if any."""
    tail_len = min(size, EOCD.size + _MAX_COMMENT)
    fh.seek(size - tail_len)
    tail = fh.read(tail_len)
    pos = tail.rfind(EOCD_MAGIC)
    while pos >= 0:
        if pos + EOCD.size <= len(tail):
            rec = EOCD.unpack_from(tail, pos)
            if pos + EOCD.size + rec[7] == len(tail):
                break
        pos = tail.rfind(EOCD_MAGIC, 0, pos)
    if pos < 0:
        if size < 4:
            raise _hostile(path, "it is empty or truncated")
        fh.seek(0)
        head = fh.read(4)
        what = ("it has no end-of-central-directory record (truncated, or junk after it)"
                if head == LFH_MAGIC else "it is not a zip file")
        raise _hostile(path, what)
    eocd_off = size - tail_len + pos
    _sig, disk, cd_disk, n_disk, n_total, cd_size, cd_off, _clen = EOCD.unpack_from(tail, pos)
    if disk != 0 or cd_disk != 0 or n_disk != n_total:
        raise _hostile(path, "it is a multi-part (spanned) archive")
    if (n_total == 0xFFFF or cd_size == _U32 or cd_off == _U32) and eocd_off >= 20:
        fh.seek(eocd_off - EOCD64_LOCATOR.size)
        loc = fh.read(EOCD64_LOCATOR.size)
        if loc[:4] == EOCD64_LOCATOR_MAGIC:
            _s, _d, z64_off, _disks = EOCD64_LOCATOR.unpack(loc)
            if z64_off + EOCD64.size > eocd_off - EOCD64_LOCATOR.size:
                raise _hostile(path, "its zip64 end record points outside the file")
            fh.seek(z64_off)
            z = fh.read(EOCD64.size)
            if z[:4] != EOCD64_MAGIC:
                raise _hostile(path, "its zip64 end record is missing")
            rec64 = EOCD64.unpack(z)
            if rec64[4] != 0 or rec64[5] != 0 or rec64[6] != rec64[7]:
                raise _hostile(path, "it is a multi-part (spanned) archive")
            n_total, cd_size, cd_off = rec64[7], rec64[8], rec64[9]
            eocd_off = z64_off
    if cd_off + cd_size > eocd_off:
        raise _hostile(path, "its central directory runs past the end record (truncated?)")
    return n_total, cd_size, cd_off, eocd_off


def read_zip_listing(path: Path, limits: ZipLimits | None = None) -> ZipListing:
    """Read and validate a zip's central directory without extracting anything.

    Raises :class:`InputError` for a truncated file or not a zip, unsafe entry names
    (absolute, ``..``), duplicates, encrypted or unsupported entries, declared sizes that
    the data cannot back (overlapping entries, local headers that disagree with the central
    directory, impossible compression ratios) and zip bombs.
    """
    limits = limits or ZipLimits()
    path = Path(path)
    try:
        fh = open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise InputError(
            f"Cannot read {path}: {exc.strerror or exc}.",
            hint="Check the path; build the zip first with `lambda-slim build`.",
        ) from None
    with fh:
        size = os.fstat(fh.fileno()).st_size
        count, cd_size, cd_off, _eocd = _find_eocd(fh, size, path)
        if count > limits.max_entries:
            raise _hostile(path, f"it declares {count:,} entries (more than "
                           f"{limits.max_entries:,}: a zip bomb or not a Lambda artifact)")
        fh.seek(cd_off)
        cd = fh.read(cd_size)
        if len(cd) != cd_size:
            raise _hostile(path, "its central directory is truncated")
        entries = _parse_central(cd, count, path)
        if entries:
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                _check_local_headers(buf, entries, cd_off, path)
    total = sum(e.file_size for e in entries)
    if total > limits.ratio_floor and total > limits.max_ratio * max(size, 1):
        raise _hostile(path, f"it declares {total:,} bytes unzipped from {size:,} bytes "
                       f"(ratio {total // max(size, 1):,}:1, a zip bomb)")
    return ZipListing(path, size, tuple(entries))


def _parse_central(cd: bytes, count: int, path: Path) -> list[ZipEntry]:
    entries: list[ZipEntry] = []
    seen: set[str] = set()
    pos = 0
    for _ in range(count):
        if pos + CDH.size > len(cd) or cd[pos:pos + 4] != CDH_MAGIC:
            raise _hostile(path, "its central directory has fewer entries than it declares")
        (_sig, _vmade, _vneed, flags, method, _t, _d, crc, csize, usize, nlen, elen, clen,
         disk, _iattr, eattr, offset) = CDH.unpack_from(cd, pos)
        raw_name = cd[pos + CDH.size: pos + CDH.size + nlen]
        extra = cd[pos + CDH.size + nlen: pos + CDH.size + nlen + elen]
        end = pos + CDH.size + nlen + elen + clen
        if end > len(cd):
            raise _hostile(path, "a central directory record runs past its end")
        pos = end
        name = raw_name.decode("utf-8" if flags & 0x800 else "cp437", errors="replace")
        need = [k for k, v in (("usize", usize), ("csize", csize), ("offset", offset))
                if v == _U32]
        sizes = {"usize": usize, "csize": csize, "offset": offset}
        if need and not _zip64_extra(extra, need, sizes):
            raise _hostile(path, f"entry {name!r} has a broken zip64 size field")
        why = _bad_name(name)
        if why:
            raise _hostile(path, f"entry {name!r} has {why}")
        key = "/".join(p for p in name.replace("\\", "/").split("/") if p not in ("", "."))
        if name.endswith("/"):
            key += "/"
        if key in seen:
            raise _hostile(path, f"entry {name!r} appears more than once")
        seen.add(key)
        if flags & 0x1:
            raise _hostile(path, f"entry {name!r} is encrypted")
        if disk != 0:
            raise _hostile(path, "it is a multi-part (spanned) archive")
        if method not in _READABLE_METHODS:
            raise _hostile(path, f"entry {name!r} uses compression method {method} "
                           "(only stored and deflate are read)")
        usize, csize = sizes["usize"], sizes["csize"]
        if method == 0 and usize != csize:
            raise _hostile(path, f"entry {name!r} is stored uncompressed but declares "
                           f"{usize:,} bytes unzipped and {csize:,} bytes zipped")
        if method == 8 and usize > _DEFLATE_MAX_RATIO * csize + 1024:
            raise _hostile(path, f"entry {name!r} declares {usize:,} bytes from {csize:,} "
                           "compressed bytes, more than deflate can produce (a zip bomb)")
        entries.append(ZipEntry(name, method, crc, csize, usize, sizes["offset"], -1,
                                (eattr >> 16) & 0xFFFF, raw_name))
    if pos != len(cd):
        raise _hostile(path, "its central directory size does not match its entries")
    return entries


def _check_local_headers(buf: mmap.mmap, entries: list[ZipEntry], cd_off: int,
                         path: Path) -> None:
    """Each entry's data must fit between its local header and the next entry."""
    order = sorted(range(len(entries)), key=lambda i: entries[i].header_offset)
    for rank, i in enumerate(order):
        e = entries[i]
        head = buf[e.header_offset: e.header_offset + LFH.size]
        if len(head) != LFH.size or head[:4] != LFH_MAGIC:
            raise _hostile(path, f"entry {e.name!r} points at a missing local header")
        (_sig, _v, flags, method, _t, _d, crc, csize, usize, nlen, elen) = LFH.unpack(head)
        local_name = buf[e.header_offset + LFH.size: e.header_offset + LFH.size + nlen]
        if local_name != e.raw_name:
            raise _hostile(path, f"entry {e.name!r} has a different name in its local header")
        if method != e.method:
            raise _hostile(path, f"entry {e.name!r}: local header and central directory "
                           "disagree on the compression method")
        if not flags & 0x8:
            local = (crc, csize, usize)
            central = (e.crc, min(e.compressed_size, _U32), min(e.file_size, _U32))
            if local != central and not (csize == _U32 or usize == _U32):
                raise _hostile(path, f"entry {e.name!r}: local header and central directory "
                               "disagree on its size or checksum")
        data_off = e.header_offset + LFH.size + nlen + elen
        limit = entries[order[rank + 1]].header_offset if rank + 1 < len(order) else cd_off
        if data_off + e.compressed_size > limit:
            raise _hostile(path, f"entry {e.name!r} declares {e.compressed_size:,} compressed "
                           "bytes, which run past the next entry (overlapping or truncated data)")
        entries[i] = ZipEntry(e.name, e.method, e.crc, e.compressed_size, e.file_size,
                              e.header_offset, data_off, e.mode, e.raw_name)


def read_entry(
    listing: ZipListing, entry: ZipEntry, limit: int | None = None, fh: BinaryIO | None = None
) -> bytes:
    """Inflate one entry into memory: its first ``limit`` bytes, or all of it, CRC-checked,
    when ``limit`` is None. Raises :class:`InputError` when the data does not match its
    header. Pass an open ``fh`` of ``listing.path`` to read many entries cheaply."""
    if fh is None:
        with open(listing.path, "rb") as own:
            return read_entry(listing, entry, limit, own)
    want = entry.file_size if limit is None else min(limit, entry.file_size)
    fh.seek(entry.data_offset)
    if entry.method == 0:
        data = fh.read(want)
    else:
        d = zlib.decompressobj(-15)
        out = bytearray()
        left = entry.compressed_size
        step = 1 << 20 if limit is None else max(4096, 2 * want)
        try:
            while left > 0 and len(out) < want:
                chunk = fh.read(min(left, step))
                if not chunk:
                    break
                left -= len(chunk)
                out += d.decompress(chunk, want - len(out))
                while d.unconsumed_tail and len(out) < want:
                    out += d.decompress(d.unconsumed_tail, want - len(out))
        except zlib.error as exc:
            raise _hostile(listing.path, f"entry {entry.name!r} has corrupt data "
                           f"({exc})") from None
        data = bytes(out)
    if len(data) != want:
        raise _hostile(listing.path, f"entry {entry.name!r} holds less data than its "
                       f"declared {entry.file_size:,} bytes")
    if limit is None and zlib.crc32(data) != entry.crc:
        raise _hostile(listing.path, f"entry {entry.name!r} fails its CRC check")
    return data


def verify_entry(listing: ZipListing, entry: ZipEntry, fh: BinaryIO, head: int = 4) -> bytes:
    """Inflate one entry in bounded chunks, keeping nothing but its first ``head`` bytes, and
    prove its data has exactly the declared size and CRC. Output beyond the declared size is
    never produced, so a lying header cannot balloon memory."""
    fh.seek(entry.data_offset)
    left, produced, crc, first = entry.compressed_size, 0, 0, b""
    d = zlib.decompressobj(-15) if entry.method == 8 else None
    try:
        while left > 0 and produced <= entry.file_size:
            chunk = fh.read(min(left, 1 << 20))
            if not chunk:
                break
            left -= len(chunk)
            while chunk and produced <= entry.file_size:
                if d is None:
                    out, chunk = chunk, b""
                else:
                    out = d.decompress(chunk, 1 << 20)
                    chunk = d.unconsumed_tail
                crc = zlib.crc32(out, crc)
                if len(first) < head:
                    first += out[: head - len(first)]
                produced += len(out)
                if not out:
                    break
    except zlib.error as exc:
        raise _hostile(listing.path, f"entry {entry.name!r} has corrupt data ({exc})") from None
    if produced != entry.file_size:
        held = "more" if produced > entry.file_size else f"{produced:,} bytes"
        raise _hostile(listing.path, f"entry {entry.name!r} declares {entry.file_size:,} bytes "
                       f"but its data holds {held}")
    if crc != entry.crc:
        raise _hostile(listing.path, f"entry {entry.name!r} fails its CRC check")
    return first


def extract_listing(listing: ZipListing, dest: Path) -> None:
    """Write every file of a checked ``listing`` below ``dest`` (names were validated when it
    was read: no absolute paths, no ``..``), executables 0755, the rest 0644."""
    with open(listing.path, "rb") as fh:
        for entry in listing.files:
            out = dest / entry.name
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(read_entry(listing, entry, fh=fh))
            os.chmod(out, 0o755 if entry.mode & 0o111 else 0o644)
