"""Fuzz the safe zip reader: whatever the bytes, it answers with a listing or InputError.

Honest zips are built from random trees, then damaged (byte flips, field overwrites,
truncation, splices). Example counts are bounded so this runs in seconds; interesting
inputs found here are kept in ``tests/regressions/``.
"""

from __future__ import annotations

import contextlib
import itertools
import struct
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lambda_slim.artifact.zipread import ZipLimits, _bad_name, read_entry, read_zip_listing
from lambda_slim.check import check_paths
from lambda_slim.errors import InputError
from tests.regressions.zipcraft import make_zip

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
LIMITS = ZipLimits(max_entries=1000, max_ratio=50, ratio_floor=64 * 1024)

_SIGS = (b"\x01\x02", b"\x03\x04", b"\x05\x06", b"\x06\x06", b"\x06\x07")

names = st.lists(
    st.text(st.sampled_from("ab./_\\é"), min_size=1, max_size=8).map(lambda s: "python/" + s),
    min_size=0, max_size=6, unique=True,
)
payloads = st.one_of(st.binary(max_size=300), st.integers(0, 4000).map(lambda n: b"z" * n))


@st.composite
def honest_zips(draw: st.DrawFn) -> bytes:
    entries = [(n, draw(payloads)) for n in draw(names)]
    return make_zip(entries, compress=draw(st.booleans()))


@st.composite
def damaged_zips(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(honest_zips()))
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        kind = draw(st.sampled_from(["flip", "u32", "u16", "truncate", "splice", "field"]))
        pos = draw(st.integers(0, len(data) - 1))
        if kind == "field":
            # overwrite a header field: sizes, offsets, name/extra lengths, flags, method
            starts = [i for i in range(len(data) - 4)
                      if data[i:i + 2] == b"PK" and data[i + 2:i + 4] in _SIGS]
            if starts:
                base = draw(st.sampled_from(starts))
                off = base + draw(st.sampled_from([6, 8, 10, 14, 18, 20, 22, 24, 26, 28, 30,
                                                   32, 34, 42]))
                if off + 4 <= len(data):
                    value = draw(st.sampled_from([0, 1, 2, 30, 0xFFFF, 0xFFFFFFFF, len(data)]))
                    struct.pack_into("<I" if value > 0xFFFF else "<H", data, off, value)
        elif kind == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "u32" and pos + 4 <= len(data):
            value = draw(st.sampled_from([0, 1, 0xFFFF, 0xFFFFFFFF, len(data), pos]))
            struct.pack_into("<I", data, pos, value)
        elif kind == "u16" and pos + 2 <= len(data):
            struct.pack_into("<H", data, pos, draw(st.sampled_from([0, 1, 8, 0x800, 0xFFFF])))
        elif kind == "truncate":
            del data[pos:]
        else:
            data[pos:pos] = draw(st.binary(min_size=1, max_size=40))
    return bytes(data)


def _exercise(data: bytes) -> None:
    """The reader's contract: InputError or a listing that is safe to use."""
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "f.zip"
        p.write_bytes(data)
        try:
            listing = read_zip_listing(p, LIMITS)
        except InputError as exc:
            assert exc.hint and str(p) in exc.message
            return
        seen = set()
        spans = []
        for e in listing.entries:
            assert _bad_name(e.name) is None
            assert e.name not in seen
            seen.add(e.name)
            assert e.data_offset + e.compressed_size <= listing.zip_bytes
            spans.append((e.header_offset, e.data_offset + e.compressed_size))
        spans.sort()
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert end <= start
        for e in listing.files:
            try:
                got = read_entry(listing, e)
            except InputError:
                continue
            assert len(got) == e.file_size
        with contextlib.suppress(InputError):
            check_paths([p], limits=LIMITS)


@FUZZ
@given(honest_zips())
def test_honest_zips_round_trip(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "ok.zip"
        p.write_bytes(data)
        try:
            listing = read_zip_listing(p)
        except InputError as exc:
            # the only honest zips refused are ones whose names are unsafe or duplicates
            assert "'..'" in exc.message or "more than once" in exc.message \
                or "absolute" in exc.message, exc.message
            return
        for e in listing.files:
            assert len(read_entry(listing, e)) == e.file_size


@FUZZ
@given(damaged_zips())
def test_damaged_zips_are_refused_or_safe(data: bytes) -> None:
    _exercise(data)


@FUZZ
@given(st.binary(max_size=400))
@example(b"PK\x05\x06" + b"\0" * 18)
@example(b"PK\x03\x04" + b"\0" * 40)
def test_random_bytes(data: bytes) -> None:
    _exercise(data)
