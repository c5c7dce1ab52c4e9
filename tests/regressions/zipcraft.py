"""Small helpers to build honest zips in memory and then make them hostile."""

from __future__ import annotations

import io
import struct
import warnings
import zipfile


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
