from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest

from lambda_slim.artifact.zipwrite import DOS_EPOCH, source_date_epoch, write_layer_zip, write_zip
from lambda_slim.errors import InputError


def tree(root: Path) -> Path:
    (root / "pkg/sub").mkdir(parents=True)
    (root / "pkg/__init__.py").write_text("x = 1\n" * 1000)
    (root / "pkg/sub/data.bin").write_bytes(os.urandom(5000))  # incompressible: stored
    (root / "pkg/tool.sh").write_text("#!/bin/sh\n")
    (root / "pkg/tool.sh").chmod(0o700)
    (root / "pkg/ünï.txt").write_text("utf8 name")
    return root


def test_deterministic_and_layout(tmp_path: Path) -> None:
    src = tree(tmp_path / "t")
    a = write_layer_zip(src, tmp_path / "a.zip", jobs=4)
    os.utime(src / "pkg/__init__.py", (1e9, 1e9))  # mtimes must not matter
    (src / "pkg/sub/data.bin").chmod(0o600)  # nor non-exec permission bits
    b = write_layer_zip(src, tmp_path / "b.zip", jobs=1, window_bytes=1)
    assert a.sha256 == b.sha256
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        assert zf.testzip() is None
        names = zf.namelist()
        assert names == sorted(names, key=lambda n: n.encode())
        assert all(n.startswith("python/") for n in names)
        info = {i.filename: i for i in zf.infolist()}
        assert info["python/pkg/tool.sh"].external_attr >> 16 & 0o777 == 0o755
        assert info["python/pkg/__init__.py"].external_attr >> 16 & 0o777 == 0o644
        assert info["python/pkg/__init__.py"].date_time == (1980, 1, 1, 0, 0, 0)
        assert info["python/pkg/sub/data.bin"].compress_type == zipfile.ZIP_STORED
        assert info["python/pkg/__init__.py"].compress_type == zipfile.ZIP_DEFLATED
        assert zf.read("python/pkg/ünï.txt") == b"utf8 name"
    assert a.unzipped_bytes == sum(p.stat().st_size for p in src.rglob("*") if p.is_file())


def test_source_date_epoch(tmp_path: Path) -> None:
    assert source_date_epoch({}) == DOS_EPOCH
    assert source_date_epoch({"SOURCE_DATE_EPOCH": "5"}) == DOS_EPOCH
    epoch = source_date_epoch({"SOURCE_DATE_EPOCH": "1700000000"})
    src = tree(tmp_path / "t")
    write_layer_zip(src, tmp_path / "a.zip", epoch=epoch)
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        assert zf.infolist()[0].date_time[:3] == (2023, 11, 14)
    with pytest.raises(InputError):
        source_date_epoch({"SOURCE_DATE_EPOCH": "yesterday"})


def test_symlink_out_of_tree_is_refused(tmp_path: Path) -> None:
    src = tree(tmp_path / "t")
    (tmp_path / "secret").write_text("no")
    os.symlink(tmp_path / "secret", src / "pkg/leak")
    with pytest.raises(InputError, match="outside the layer tree"):
        write_layer_zip(src, tmp_path / "a.zip")
    assert not (tmp_path / "a.zip").exists()


def test_failure_leaves_previous_zip_and_no_temp(tmp_path: Path) -> None:
    src = tree(tmp_path / "t")
    dest = tmp_path / "out.zip"
    dest.write_bytes(b"previous")

    def boom(_n: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_zip([("a", src / "pkg/__init__.py")], dest, on_file=boom)
    assert dest.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.zip", "t"]


def test_missing_output_dir(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        write_zip([], tmp_path / "nope" / "x.zip")


def test_many_entries_use_zip64_end_record(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_bytes(b"")
    entries = [(f"e{i:05d}", f) for i in range(70000)]
    res = write_zip(entries, tmp_path / "big.zip", level=0, jobs=2)
    with zipfile.ZipFile(tmp_path / "big.zip") as zf:
        assert len(zf.infolist()) == 70000
    assert res.files == 70000
    assert stat.S_IMODE((tmp_path / "big.zip").stat().st_mode) == 0o644
