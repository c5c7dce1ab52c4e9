"""A soname Lambda lacks, served by an ABI-compatible copy another wheel vendors (auditwheel
naming), placed in the layer's lib/ and loaded as on Lambda; real gcc, pip and sandbox."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from lambda_slim.native.borrow import plain_name
from lambda_slim.target.sandbox import sandbox_unavailable
from tests.wheels import make_wheel, wheelhouse_requirements

RunCli = Callable[..., int]
pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")


def _lib(build: Path, soname: str, version: str, out_name: str | None = None) -> Path:
    src = build / f"{out_name or soname}.c"
    src.write_text("int foo(void) { return 7; }\nint foo2(void) { return 8; }\n")
    vmap = build / f"{out_name or soname}.map"
    vmap.write_text(f"{version} {{ global: foo; foo2; local: *; }};\n")
    out = build / (out_name or soname)
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(out), str(src), f"-Wl,-soname,{soname}",
                    f"-Wl,--version-script={vmap}"], check=True)
    return out


def _user(build: Path, against: Path, name: str, rpath: str = "") -> Path:
    src = build / f"{name}.c"
    src.write_text("int foo(void);\nint use(void) { return foo(); }\n")
    out = build / name
    extra = [f"-Wl,-rpath,{rpath}"] if rpath else []
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(out), str(src), "-Wl,--no-as-needed",
                    *extra, str(against)], check=True)
    return out


def _house(tmp: Path, user_version: str) -> Path:
    build = tmp / "gcc"
    build.mkdir()
    hashed = "libfoo-1a2b3c4d.so.1.0.0"
    vendored = _lib(build, hashed, "FOO_1.0", hashed)  # auditwheel: SONAME = hashed name
    vendor_ext = _user(build, vendored, "_vendor.so", rpath="$ORIGIN/../vendor.libs")
    plain = _lib(tmp / "gcc", "libfoo.so.1", user_version, "libfoo.so.1")
    user_ext = _user(build, plain, "_native.so")  # DT_NEEDED libfoo.so.1, no RUNPATH
    house = tmp / "house"
    make_wheel(house, "vendor", "1.0", {"vendor/__init__.py": "", "vendor/_vendor.so":
                                        vendor_ext.read_bytes(),
                                        f"vendor.libs/{hashed}": vendored.read_bytes()})
    make_wheel(house, "user", "1.0", {"user/__init__.py": "", "user/_native.so":
                                      user_ext.read_bytes()})
    return house


def test_plain_name() -> None:
    assert plain_name("libgomp-e985bcbb.so.1.0.0") == "libgomp.so.1.0.0"
    assert plain_name("libgomp.so.1") == "libgomp.so.1"


def test_missing_soname_served_by_a_vendored_copy(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    req = wheelhouse_requirements(tmp_path / "requirements.txt", _house(tmp_path, "FOO_1.0"),
                                  "vendor", "user")
    out = tmp_path / "layer.zip"
    code = run_cli("build", str(req), "-o", str(out), "--json", str(tmp_path / "r.json"),
                   "--no-compile", cwd=tmp_path)
    printed = capsys.readouterr()
    assert code == 0, printed.err
    rep = json.loads((tmp_path / "r.json").read_text())
    (b,) = rep["borrowed"]
    assert b["soname"] == "libfoo.so.1" and b["to"] == "lib/libfoo.so.1"
    assert b["from"] == "python/vendor.libs/libfoo-1a2b3c4d.so.1.0.0"
    assert b["versions"] == ["FOO_1.0"] and b["distribution"] == "vendor"
    assert b["needed_by"] == ["/opt/python/user/_native.so"]
    expected = "sandbox" if sandbox_unavailable(dict(os.environ)) is None else "host"
    assert b["verified"] == expected
    assert "system library: libfoo.so.1 is not on Lambda" in printed.out
    with zipfile.ZipFile(out) as zf:
        info = zf.getinfo("lib/libfoo.so.1")
        assert (info.external_attr >> 16) & 0o170000 == 0o100000  # a regular file, no symlink
        assert zf.read("lib/libfoo.so.1") == zf.read(
            "python/vendor.libs/libfoo-1a2b3c4d.so.1.0.0")
    assert rep["final_bytes"] == sum(i.file_size for i in zipfile.ZipFile(out).infolist())
    manifest = json.loads((tmp_path / "layer.manifest.json").read_text())
    assert manifest["borrowed"][0]["soname"] == "libfoo.so.1"


def test_a_copy_without_the_needed_symbol_versions_is_not_used(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    req = wheelhouse_requirements(tmp_path / "requirements.txt", _house(tmp_path, "FOO_2.0"),
                                  "vendor", "user")
    code = run_cli("build", str(req), "-o", str(tmp_path / "layer.zip"), "--no-compile",
                   "--json", str(tmp_path / "r.json"), cwd=tmp_path)
    # nothing imported loads user/_native.so: an optional part that cannot load, not borrowed
    assert code == 0, capsys.readouterr().err
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["borrowed"] == []
    (miss,) = rep["verify"]["optional_failures"]
    assert miss["item"] == "/opt/python/user/_native.so" and "libfoo.so.1" in miss["reason"]
    code = run_cli("build", str(req), "-o", str(tmp_path / "layer.zip"), "--no-compile",
                   "--strict", cwd=tmp_path)
    assert code == 4
    err = capsys.readouterr().err
    assert "needs libfoo.so.1, which Lambda does not provide" in err


@pytest.mark.slow
def test_lightgbm_gets_libgomp_from_scikit_learns_copy(
        tmp_path: Path, run_cli: RunCli, py312: Path) -> None:
    """LightGBM's wheel links libgomp.so.1 from the system (Lambda has none); scikit-learn
    vendors one. Real PyPI wheels."""
    req = tmp_path / "requirements.txt"
    req.write_text("lightgbm\nscikit-learn\n")
    out = tmp_path / "layer.zip"
    code = run_cli("build", str(req), "-o", str(out), "--json", str(tmp_path / "r.json"),
                   cwd=tmp_path)
    assert code == 0
    rep = json.loads((tmp_path / "r.json").read_text())
    (b,) = rep["borrowed"]
    assert b["soname"] == "libgomp.so.1" and b["distribution"] == "scikit-learn"
    assert "GOMP_4.0" in b["versions"]
    assert any(f.endswith("lib_lightgbm.so") for f in b["needed_by"])
    expected = "sandbox" if sandbox_unavailable(dict(os.environ)) is None else "host"
    assert b["verified"] == expected and rep["verify"]["status"] == "passed"
    with zipfile.ZipFile(out) as zf:
        assert "lib/libgomp.so.1" in zf.namelist()
