"""The closure audit in `build` and `check`, with wheels whose extension is compiled here."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.native_build import extension, shared_lib
from tests.regressions.zipcraft import make_zip
from tests.wheels import make_wheel, wheelhouse_requirements

RunCli = Callable[..., int]
TAG = "py3-none-manylinux2014_x86_64"
LOADER = ("import ctypes, os\n"
          "_lib = ctypes.CDLL(os.path.join(os.path.dirname(__file__), '_ext.so'))\n"
          "VALUE = _lib.ext_value()\n")


def _needsstub_wheel(tmp_path: Path, vendored: bool) -> Path:
    """needsstub: an extension linking libstubdep.so.1, which Lambda does not have, either
    relying on the system or vendored auditwheel-style in needsstub.libs/ with RUNPATH."""
    build = tmp_path / ("vendored" if vendored else "system")
    stub_name = "libstubdep-1a2b3c4d.so.1" if vendored else "libstubdep.so.1"
    stub = shared_lib(build / stub_name, stub_name)
    ext = extension(build / "_ext.so", links=(str(stub),),
                    rpath="$ORIGIN/../needsstub.libs" if vendored else None, new_dtags=True)
    files: dict[str, str | bytes] = {"needsstub/__init__.py": LOADER,
                                     "needsstub/_ext.so": ext.read_bytes()}
    if vendored:
        files[f"needsstub.libs/{stub_name}"] = stub.read_bytes()
    house = tmp_path / ("house-v" if vendored else "house")
    make_wheel(house, "needsstub", "1.0", files, tag=TAG)
    return wheelhouse_requirements(tmp_path / f"req-{vendored}.txt", house, "needsstub")


def test_missing_system_library_is_exit_4_naming_file_soname_and_distribution(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
        capsys: pytest.CaptureFixture[str]) -> None:
    req = _needsstub_wheel(tmp_path, vendored=False)
    code = run_cli("build", str(req), "--no-strip", "-o", str(tmp_path / "l.zip"), "-q",
                   cwd=tmp_path)
    err = capsys.readouterr().err
    assert code == 4, err
    assert "/opt/python/needsstub/_ext.so (from needsstub) needs libstubdep.so.1" in err
    assert "Lambda's python3.12 (Amazon Linux 2023, x86_64) does not provide" in err
    assert "--system-lib libstubdep.so.1" in err and "lib/" in err
    assert not (tmp_path / "l.zip").exists()


def test_vendored_copy_with_runpath_passes(tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    req = _needsstub_wheel(tmp_path, vendored=True)
    code = run_cli("build", str(req), "--no-strip", "-o", str(tmp_path / "l.zip"), "-q",
                   "--json", str(tmp_path / "r.json"), cwd=tmp_path)
    assert code == 0, capsys.readouterr().err
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["verify"]["status"] == "passed"


def test_system_libs_from_pyproject_and_bad_sonames(tmp_path: Path, tmp_cache: Path,
                                                    run_cli: RunCli,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    req = _needsstub_wheel(tmp_path, vendored=False)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.lambda-slim]\nsystem-libs = ["/usr/lib/libstubdep.so.1"]\n')
    assert run_cli("build", str(req), "-o", str(tmp_path / "l.zip"), cwd=tmp_path) == 2
    err = capsys.readouterr().err
    assert "system-libs" in err and "not a shared-library soname" in err
    (tmp_path / "pyproject.toml").write_text('[tool.lambda-slim]\nsystem-libs = '
                                             '["libstubdep.so.1"]\n')
    # the audit now accepts it; the import still has to find it, and cannot: exit 4 (a
    # missing system library), named
    code = run_cli("build", str(req), "--no-strip", "-o", str(tmp_path / "l.zip"), "-q",
                   cwd=tmp_path)
    err = capsys.readouterr().err
    assert "needs libstubdep.so.1, which Lambda does not provide" not in err
    assert code == 4, err
    assert "requested package needsstub: missing system library libstubdep.so.1" in err
    assert not (tmp_path / "l.zip").exists()


def test_missing_smoke_or_trace_file_is_exit_2_before_any_work(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "requirements.txt").write_text("--no-index\nthis-does-not-exist-anywhere\n")
    for flag in ("--smoke", "--trace"):
        code = run_cli("build", flag, "nope.py", "-o", str(tmp_path / "l.zip"), cwd=tmp_path)
        err = capsys.readouterr().err
        assert code == 2, err
        assert f"The {flag} script {tmp_path / 'nope.py'} does not exist" in err
        assert not tmp_cache.exists() or not any((tmp_cache / "builds").glob("build-*"))


def test_check_warns_about_a_zip_from_any_tool_and_strict_refuses_it(
        tmp_path: Path, run_cli: RunCli, capsys: pytest.CaptureFixture[str]) -> None:
    """A zip made by another tool, with nothing that shows what its imports load: a missing
    library is a warning naming file, library and what it means; --strict refuses it (exit 4)
    with the build's message."""
    stub = shared_lib(tmp_path / "libstubdep.so.1", "libstubdep.so.1")
    ext = extension(tmp_path / "_ext.so", links=(str(stub),))
    record = "needsstub/__init__.py,,\nneedsstub/_ext.so,,\nneedsstub-1.0.dist-info/RECORD,,\n"
    data = make_zip([("python/needsstub/__init__.py", LOADER.encode()),
                     ("python/needsstub/_ext.so", ext.read_bytes()),
                     ("python/needsstub-1.0.dist-info/RECORD", record.encode())])
    zpath = tmp_path / "other-tool.zip"
    zpath.write_bytes(data)
    assert run_cli("check", str(zpath), "--json", str(tmp_path / "c.json")) == 0
    err = capsys.readouterr().err
    assert "/opt/python/needsstub/_ext.so needs libstubdep.so.1" in err
    assert "fails only if something loads it" in err and "--strict" in err
    rep = json.loads((tmp_path / "c.json").read_text())
    assert [(f["level"], f["code"]) for f in rep["findings"]] == [
        ("warning", "native-optional-library")]
    assert rep["exit_code"] == 0 and rep["strict"] is False
    assert run_cli("check", str(zpath), "--strict", "--json", str(tmp_path / "c.json")) == 4
    err = capsys.readouterr().err
    assert "/opt/python/needsstub/_ext.so (from needsstub) needs libstubdep.so.1" in err
    assert "--system-lib libstubdep.so.1" in err
    rep = json.loads((tmp_path / "c.json").read_text())
    assert [f["code"] for f in rep["findings"] if f["level"] == "error"] == [
        "native-missing-library"]
    # a second layer that ships the library in lib/ (= /opt/lib) satisfies it
    provider = tmp_path / "provider.zip"
    provider.write_bytes(make_zip([("lib/libstubdep.so.1", stub.read_bytes()),
                                   ("python/provider_marker.py", b"")]))
    assert run_cli("check", str(zpath), str(provider), "--strict") == 0
    assert run_cli("check", str(zpath), "--system-lib", "libstubdep.so.1", "--strict") == 0
    capsys.readouterr()
