"""The parallel zip writer against its serial reference: byte-identical for any number of
workers and any window, and with files deflated ahead; each entry exactly what one serial
zlib deflate of the file gives; a veto from work running beside the zip leaves the previous
zip in place."""

from __future__ import annotations

import os
import random
import struct
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from lambda_slim.artifact.zipahead import Ahead
from lambda_slim.artifact.zipwrite import ahead_of, walk_files, write_layer_zip, write_zip
from lambda_slim.errors import VerifyError


def _mixed_tree(root: Path, files: int = 60) -> Path:
    """Sources, incompressible blobs, empty files, one file far larger than any window."""
    rng = random.Random(7)
    for i in range(files):
        d = root / f"pkg{i % 5}" / ("sub" if i % 3 else "")
        d.mkdir(parents=True, exist_ok=True)
        kind = i % 4
        if kind == 0:
            data = f"def f{i}(x):\n    return x * {i}\n".encode() * rng.randint(1, 400)
        elif kind == 1:
            data = rng.randbytes(rng.randint(1, 20_000))
        elif kind == 2:
            data = b""
        else:
            data = bytes(rng.choice(b"ACGT") for _ in range(rng.randint(100, 50_000)))
        (d / f"f{i}.bin").write_bytes(data)
    (root / "big.so").write_bytes(rng.randbytes(300_000) + b"\0" * 900_000)
    return root


@pytest.mark.parametrize("level", [0, 1, 6, 9])
def test_parallel_is_byte_identical_to_serial(tmp_path: Path, level: int) -> None:
    src = _mixed_tree(tmp_path / "t")
    serial = write_layer_zip(src, tmp_path / "serial.zip", level=level, jobs=1)
    expected = (tmp_path / "serial.zip").read_bytes()
    for jobs, window in ((2, 64 * 1024 * 1024), (4, 1), (8, 50_000), (3, 10**9)):
        out = tmp_path / f"p{jobs}.zip"
        got = write_layer_zip(src, out, level=level, jobs=jobs, window_bytes=window)
        assert out.read_bytes() == expected, (jobs, window)
        assert got.sha256 == serial.sha256 and got.compressed == serial.compressed


def test_each_entry_is_one_serial_deflate_of_the_file(tmp_path: Path) -> None:
    """Independent of the writer: parse the local headers and compare every entry's payload
    with zlib's raw deflate of the file at the same level (stored when that is not smaller)."""
    src = _mixed_tree(tmp_path / "t")
    dest = tmp_path / "l.zip"
    write_layer_zip(src, dest, level=6, jobs=4, window_bytes=10_000)
    blob = dest.read_bytes()
    files = dict(walk_files(src))
    with zipfile.ZipFile(dest) as zf:
        assert zf.testzip() is None
        infos = zf.infolist()
    assert [i.filename for i in infos] == ["python/" + rel for rel in sorted(files,
                                                                         key=str.encode)]
    for info in infos:
        data = files[info.filename[len("python/"):]].read_bytes()
        name_len, extra_len = struct.unpack("<HH", blob[info.header_offset + 26:
                                                        info.header_offset + 30])
        start = info.header_offset + 30 + name_len + extra_len
        payload = blob[start:start + info.compress_size]
        co = zlib.compressobj(6, zlib.DEFLATED, -15)
        packed = co.compress(data) + co.flush()
        if data and len(packed) < len(data):
            assert info.compress_type == zipfile.ZIP_DEFLATED and payload == packed
        else:
            assert info.compress_type == zipfile.ZIP_STORED and payload == data
        assert zlib.crc32(data) == info.CRC


def test_reproducible_across_runs_and_mtimes(tmp_path: Path) -> None:
    src = _mixed_tree(tmp_path / "t")
    a = write_layer_zip(src, tmp_path / "a.zip", jobs=4)
    for p in src.rglob("*"):
        if p.is_file():
            os.utime(p, (1.5e9, 1.5e9))
    b = write_layer_zip(src, tmp_path / "b.zip", jobs=2)
    assert a.sha256 == b.sha256


def test_a_veto_before_commit_keeps_the_previous_zip(tmp_path: Path) -> None:
    src = _mixed_tree(tmp_path / "t", files=8)
    dest = tmp_path / "layer.zip"
    dest.write_bytes(b"previous")
    seen: list[int] = []

    def veto() -> None:
        seen.append(len(list(tmp_path.glob(".layer.zip.*.tmp"))))
        raise VerifyError("the measurement said no")

    with pytest.raises(VerifyError):
        write_zip(walk_files(src), dest, jobs=2, before_commit=veto)
    assert seen == [1]  # the finished temp file existed when the veto ran
    assert dest.read_bytes() == b"previous"
    assert not list(tmp_path.glob(".layer.zip.*"))
    called: list[bool] = []
    write_zip(walk_files(src), dest, jobs=2, before_commit=lambda: called.append(True))
    assert called == [True] and zipfile.is_zipfile(dest)


def _ahead_done(ahead: Ahead) -> Ahead:
    with ahead:
        deadline = time.monotonic() + 60
        while ahead.ready < len(ahead._files) and time.monotonic() < deadline:
            time.sleep(0.01)
    return ahead


def test_deflated_ahead_is_byte_identical_and_used(tmp_path: Path) -> None:
    src = _mixed_tree(tmp_path / "t")
    (src / "pkg0" / "__pycache__").mkdir()
    (src / "pkg0" / "__pycache__" / "m.cpython-312.pyc").write_bytes(b"\x00" * 3000)
    plain = write_layer_zip(src, tmp_path / "plain.zip", jobs=2)
    ahead = _ahead_done(ahead_of(src, 6))
    files = len(ahead._files)
    assert ahead.ready == files and files == len(walk_files(src)) - 1  # bytecode left out
    helped = write_layer_zip(src, tmp_path / "helped.zip", jobs=2, ahead=ahead)
    assert (tmp_path / "helped.zip").read_bytes() == (tmp_path / "plain.zip").read_bytes()
    assert helped.sha256 == plain.sha256
    assert ahead.ready == 0  # every result was taken
    other = _ahead_done(ahead_of(src, 6))
    write_layer_zip(src, tmp_path / "l9.zip", jobs=2, level=9, ahead=other)
    assert other.ready == 0  # taken, but at another level: deflated again, not reused
    assert (tmp_path / "l9.zip").read_bytes() == write_layer_zip(
        src, tmp_path / "l9b.zip", jobs=1, level=9).path.read_bytes()


def test_a_file_changed_after_deflating_ahead_is_deflated_again(tmp_path: Path) -> None:
    src = _mixed_tree(tmp_path / "t")
    ahead = _ahead_done(ahead_of(src, 6))
    target = src / "pkg0" / "f0.bin"
    st = target.stat()
    data = target.read_bytes()
    target.write_bytes(data[::-1])  # same size ...
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))  # ... same mtime: only ctime moved
    helped = write_layer_zip(src, tmp_path / "helped.zip", jobs=2, ahead=ahead)
    fresh = write_layer_zip(src, tmp_path / "fresh.zip", jobs=1)
    assert helped.sha256 == fresh.sha256
    with zipfile.ZipFile(tmp_path / "helped.zip") as zf:
        assert zf.read("python/pkg0/f0.bin") == data[::-1]


def test_stopping_ahead_is_prompt(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(random.Random(1).randbytes(1 << 20) * 48)
    ahead = Ahead([big] * 20, 9)
    t0 = time.monotonic()
    with ahead:
        time.sleep(0.05)
    assert time.monotonic() - t0 < 5 and ahead.ready < 20


def test_ahead_holds_at_most_its_memory_cap(tmp_path: Path) -> None:
    rng = random.Random(3)
    files = []
    for i in range(10):
        p = tmp_path / f"r{i}.bin"
        p.write_bytes(rng.randbytes(10_000))  # incompressible: results as large as the input
        files.append(p)
    ahead = Ahead(files, 6, max_bytes=25_000)
    with ahead:
        deadline = time.monotonic() + 30
        while ahead._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
    assert ahead.ready == 3  # stops once 25,000 bytes are held (10,000 each)
