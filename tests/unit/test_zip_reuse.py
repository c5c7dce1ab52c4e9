"""Files installed unchanged from a wheel keep the wheel's deflated bytes in the layer zip
(real wheels unpacked by the real unpacker, real zips read back by zipfile)."""

from __future__ import annotations

import os
import random
import zipfile
from pathlib import Path

import pytest

from lambda_slim.artifact.zipreuse import WheelStreams
from lambda_slim.artifact.zipwrite import write_layer_zip
from lambda_slim.resolve.unpack import unpack_wheels

DATA = {
    "pkg/__init__.py": b"from . import core\n" * 50,
    "pkg/core.py": b"def f(x):\n    return x * 2\n" * 400,
    "pkg/blob.bin": random.Random(7).randbytes(50_000),  # incompressible: stored
    "pkg/_ext.so": b"\x7fELF" + bytes(range(256)) * 200,
}


def _wheel(tmp_path: Path, level: int) -> Path:
    whl = tmp_path / "pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(whl, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        for name, data in DATA.items():
            zf.writestr(name, data)
        zf.writestr("pkg-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n")
        zf.writestr("pkg-1.0.dist-info/RECORD", "")
    return whl


def _install(tmp_path: Path, level: int) -> tuple[Path, Path, WheelStreams]:
    whl = _wheel(tmp_path, level)
    root = tmp_path / "python"
    streams = WheelStreams()
    unpack_wheels([whl], root, jobs=2, streams=streams)
    return whl, root, streams


def _payloads(path: Path) -> dict[str, int]:
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        for name, data in DATA.items():
            assert zf.read(f"python/{name}") == data
        return {i.filename.removeprefix("python/"): i.compress_size for i in zf.infolist()}


def test_unchanged_files_keep_the_wheels_stream(tmp_path: Path) -> None:
    # a wheel deflated at level 1: its streams differ from level 6's, so reuse shows
    whl, root, streams = _install(tmp_path, level=1)
    with zipfile.ZipFile(whl) as zf:
        wheel_sizes = {i.filename: i.compress_size for i in zf.infolist()}
    got = _payloads(write_layer_zip(root, tmp_path / "reused.zip", level=6, jobs=2,
                                    reuse=streams).path)
    fresh = _payloads(write_layer_zip(root, tmp_path / "fresh.zip", level=6, jobs=2).path)
    for name in ("pkg/__init__.py", "pkg/core.py", "pkg/_ext.so"):
        assert got[name] == wheel_sizes[name] != fresh[name]
    assert got["pkg/blob.bin"] == fresh["pkg/blob.bin"] == len(DATA["pkg/blob.bin"])  # stored
    assert set(streams.members) >= {(root / n).resolve() for n in DATA}
    # the dist-info's own files are rewritten by the unpacker: never taken from the wheel
    assert not any(p.parent.name.endswith(".dist-info") for p in streams.members)


def test_same_wheels_give_the_same_zip_whatever_the_jobs(tmp_path: Path) -> None:
    _whl, root, streams = _install(tmp_path, level=1)
    one = write_layer_zip(root, tmp_path / "a.zip", level=6, jobs=1, reuse=streams)
    two = write_layer_zip(root, tmp_path / "b.zip", level=6, jobs=4, reuse=streams)
    assert one.sha256 == two.sha256


def test_a_wheel_at_the_default_level_gives_the_fresh_zip(tmp_path: Path) -> None:
    """zipfile's default level is zlib's 6, as the zip writer's: the copy is byte-identical."""
    _whl, root, streams = _install(tmp_path, level=6)
    reused = write_layer_zip(root, tmp_path / "a.zip", level=6, reuse=streams)
    fresh = write_layer_zip(root, tmp_path / "b.zip", level=6)
    assert reused.sha256 == fresh.sha256


@pytest.mark.parametrize("change", ["rewrite", "replace", "chmod"])
def test_a_changed_file_is_deflated_again(tmp_path: Path, change: str) -> None:
    _whl, root, streams = _install(tmp_path, level=1)
    target = root / "pkg/core.py"
    new = b"def f(x):\n    return x * 3\n" * 400  # same size, other bytes
    before = os.stat(target)
    if change == "rewrite":
        target.write_bytes(new)  # even one that keeps the times (within a timestamp tick)
        os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    elif change == "replace":  # what the strip and staging do: a new file renamed in
        tmp = root / "pkg/.new"
        tmp.write_bytes(new)
        os.replace(tmp, target)
    else:
        new = DATA["pkg/core.py"]
        os.chmod(target, 0o600)
    out = write_layer_zip(root, tmp_path / "x.zip", level=6, reuse=streams).path
    with zipfile.ZipFile(out) as zf:
        assert zf.read("python/pkg/core.py") == new
        assert zf.testzip() is None


def test_other_levels_deflate_everything(tmp_path: Path) -> None:
    _whl, root, streams = _install(tmp_path, level=1)
    reused = write_layer_zip(root, tmp_path / "a.zip", level=9, reuse=streams)
    fresh = write_layer_zip(root, tmp_path / "b.zip", level=9)
    assert reused.sha256 == fresh.sha256


def test_a_wheel_changed_on_disk_is_not_read(tmp_path: Path) -> None:
    whl, root, streams = _install(tmp_path, level=1)
    whl.write_bytes(whl.read_bytes()[:100])  # truncated after the install
    got = _payloads(write_layer_zip(root, tmp_path / "a.zip", level=6, reuse=streams).path)
    fresh = _payloads(write_layer_zip(root, tmp_path / "b.zip", level=6).path)
    assert got == fresh
