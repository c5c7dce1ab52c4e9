"""Installing by linking each wheel's unpacked copy from the cache: the same tree as a
plain unpack, links on the second install, a copy changed on disk unpacked again (real
wheels, real files)."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from lambda_slim.artifact.atomic import sha256_file
from lambda_slim.artifact.zipreuse import WheelStreams
from lambda_slim.artifact.zipwrite import write_layer_zip
from lambda_slim.errors import ResolveError
from lambda_slim.resolve.unpack import unpack_wheels
from lambda_slim.resolve.unpacked import install_linked
from tests.wheels import make_wheel


def _wheels(house: Path) -> list[Path]:
    a = make_wheel(house, "alpha", "1.0", {"alpha/__init__.py": "X = 1\n" * 100,
                                            "alpha/data/table.txt": "row\n" * 500,
                                            "alpha/_ext.so": b"\x7fELF" + bytes(300)})
    b = make_wheel(house, "beta", "2.0", {"beta.py": "import alpha\n"})
    deflated = house / "gamma-1.0-py3-none-any.whl"  # members deflated at level 1
    with zipfile.ZipFile(deflated, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("gamma/__init__.py", "Y = 2\n" * 400)
        zf.writestr("gamma-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: gamma\n"
                    "Version: 1.0\n")
        zf.writestr("gamma-1.0.dist-info/RECORD", "")
    return [a, b, deflated]


def _tree(root: Path) -> dict[str, tuple[bytes, int]]:
    return {p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mode & 0o777)
            for p in root.rglob("*") if p.is_file()}


def _install(wheels: list[Path], dest: Path, cache: Path,
             streams: WheelStreams | None = None) -> None:
    install_linked([(w, sha256_file(w)) for w in wheels], dest, cache, 2, streams)


def test_links_give_the_plain_unpacks_tree(tmp_path: Path) -> None:
    wheels = _wheels(tmp_path / "house")
    cache = tmp_path / "cache" / "unpacked"
    unpack_wheels(wheels, tmp_path / "plain", 2)
    _install(wheels, tmp_path / "first", cache)
    _install(wheels, tmp_path / "second", cache)
    want = _tree(tmp_path / "plain")
    assert _tree(tmp_path / "first") == _tree(tmp_path / "second") == want
    assert "alpha-1.0.dist-info/INSTALLER" in want and "alpha/_ext.so" in want
    second = tmp_path / "second" / "alpha" / "__init__.py"
    assert os.stat(second).st_nlink >= 3  # the cache's copy and both installs


def test_a_copy_changed_on_disk_is_unpacked_again(tmp_path: Path) -> None:
    wheels = _wheels(tmp_path / "house")
    cache = tmp_path / "cache" / "unpacked"
    _install(wheels, tmp_path / "first", cache)
    cached = next(cache.rglob("alpha/__init__.py"))
    cached.write_text("X = 'tampered'\n")  # (also the first install's file: one inode)
    _install(wheels, tmp_path / "again", cache)
    assert (tmp_path / "again" / "alpha" / "__init__.py").read_text() == "X = 1\n" * 100
    assert next(cache.rglob("alpha/__init__.py")).read_text() == "X = 1\n" * 100


def test_linked_files_keep_their_wheels_streams(tmp_path: Path) -> None:
    wheels = _wheels(tmp_path / "house")
    cache = tmp_path / "cache" / "unpacked"
    _install(wheels, tmp_path / "first", cache)
    streams = WheelStreams()
    root = tmp_path / "second"
    _install(wheels, root, cache, streams)
    out = write_layer_zip(root, tmp_path / "l.zip", level=6, reuse=streams).path
    with zipfile.ZipFile(wheels[2]) as zf:
        in_wheel = zf.getinfo("gamma/__init__.py").compress_size
    with zipfile.ZipFile(out) as zf:
        assert zf.testzip() is None
        assert zf.getinfo("python/gamma/__init__.py").compress_size == in_wheel
        assert zf.read("python/gamma/__init__.py") == b"Y = 2\n" * 400


def test_a_file_against_a_folder_is_refused(tmp_path: Path) -> None:
    house = tmp_path / "house"
    one = make_wheel(house, "one", "1.0", {"shared/x": "file"})
    two = make_wheel(house, "two", "1.0", {"shared/x/y.py": ""})
    with pytest.raises(ResolveError, match="puts a file where another wheel has a folder"):
        _install([one, two], tmp_path / "t", tmp_path / "cache")
