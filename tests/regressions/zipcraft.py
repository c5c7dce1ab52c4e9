"""Small helpers to build honest zips in memory and then make them hostile."""

from __future__ import annotations

import io
import struct
import warnings
import zipfile
from pathlib import Path


def make_zip(files: list[tuple[str, bytes]], compress: bool = True) -> bytes:
    buf = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are written on purpose
        with zipfile.ZipFile(buf, "w", method) as zf:
            for name, data in files:
                zf.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data,
                            compress_type=method)
    return buf.getvalue()


def central_offsets(data: bytes) -> list[int]:
    """Offsets of every central directory record."""
    eocd = data.rfind(b"PK\x05\x06")
    cd_size, cd_off = struct.unpack_from("<II", data, eocd + 12)
    out, pos = [], cd_off
    while pos < cd_off + cd_size:
        out.append(pos)
        n, e, c = struct.unpack_from("<HHH", data, pos + 28)
        pos += 46 + n + e + c
    return out


def patch(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    b = bytearray(data)
    struct.pack_into(fmt, b, offset, value)
    return bytes(b)


def find_real_elf(
    low: tuple[int, int] | None, high: tuple[int, int] | None, max_size: int = 400_000
) -> Path | None:
    """A small real shared library on this machine whose newest GLIBC_ need lies in
    ``[low, high]`` (None: needs no versioned glibc symbol at all, when ``low`` is None)."""
    import glob
    import sys

    from lambda_slim.native.elf import inspect_elf

    pats = ["/usr/lib/*-linux-gnu/*.so*", "/lib/*-linux-gnu/*.so*", "/usr/lib64/*.so*",
            f"{sys.prefix}/lib/python3*/site-packages/**/*.so"]
    cands: list[Path] = []
    for pat in pats:
        for f in glob.glob(pat, recursive=True):
            p = Path(f)
            if not p.is_symlink() and p.is_file() and p.stat().st_size <= max_size:
                cands.append(p)
    for p in sorted(cands, key=lambda c: c.stat().st_size):
        try:
            info = inspect_elf(p)
        except Exception:
            continue
        g = info.max_glibc
        if g is None:
            if low is None:
                return p
            continue
        if (low is None or g >= low) and (high is None or g <= high):
            return p
    return None


def set_elf_machine(data: bytes, e_machine: int) -> bytes:
    """Patch e_machine (EM_X86_64 = 62, EM_AARCH64 = 183) of a little-endian ELF."""
    return patch(data, 18, "<H", e_machine)
