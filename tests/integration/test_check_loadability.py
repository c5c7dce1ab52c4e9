"""``check`` on real layers: zips of real PyPI wheels made by plain ``pip install --target``
(whose optional native plugins need libraries Lambda lacks) pass with warnings, ``--strict``
refuses them, and a zip made by ``lambda-slim build`` is judged by what that build's
verification saw loaded (its manifest)."""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from lambda_slim.errors import EXIT_NATIVE, EXIT_OK
from tests.native_build import LOAD_EXT, gomp_wheel
from tests.pipzip import pip_target_zip
from tests.wheels import make_wheel

RunCli = Callable[..., int]


def _findings(path: Path) -> list[tuple[str, str, str]]:
    doc = json.loads(path.read_text())
    return [(f["level"], f["code"], f["message"]) for f in doc["findings"]]


@pytest.mark.slow
@pytest.mark.network
def test_pip_made_numba_and_pillow_layers_pass_with_warnings_and_strict_refuses(
        tmp_path: Path, run_cli: RunCli, capsys: pytest.CaptureFixture[str]) -> None:
    """numba's threading layers (omppool: libgomp, tbbpool: libtbb) are never loaded unless
    chosen; pillow's plugins need nothing Lambda lacks: exit 0, the two files as warnings."""
    zpath = pip_target_zip(tmp_path, "numba==0.68.1", "pillow==13.0.0")
    out = tmp_path / "c.json"
    assert run_cli("check", str(zpath), "--json", str(out)) == EXIT_OK
    err = capsys.readouterr().err
    found = _findings(out)
    assert {(lv, code) for lv, code, _m in found} == {("warning", "native-optional-library")}
    files = sorted(m.split(" ", 1)[0] for _lv, _c, m in found)
    assert len(files) == 2, files
    assert "/opt/python/numba/np/ufunc/omppool" in files[0]
    assert "/opt/python/numba/np/ufunc/tbbpool" in files[1]
    assert "needs libgomp.so.1" in err and "needs libtbb.so.12" in err
    assert "fails only if something loads it" in err
    assert run_cli("check", str(zpath), "--strict", "--json", str(out)) == EXIT_NATIVE
    err = capsys.readouterr().err
    assert {(lv, code) for lv, code, _m in _findings(out)} == {("error", "native-missing-library")}
    assert "(from numba) needs libtbb.so.12" in err


@pytest.mark.slow
def test_check_judges_a_built_zip_by_what_its_build_saw_loaded(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    # an optional plugin the requested import never loads: the build keeps it (--no-unloadable)
    # and records what its verification loaded; check says the build judged it
    folder = gomp_wheel(tmp_path / "plugin", at_import=False)
    zpath = folder / "l.zip"
    assert run_cli("build", "-o", str(zpath), "--no-strip", "--no-unloadable", "-q",
                   cwd=folder) == EXIT_OK
    verify = json.loads((folder / "l.manifest.json").read_text())["verify"]
    assert verify["status"] == "passed" and verify["strict"] is False
    assert verify["loaded_native_files"] == []
    out = tmp_path / "c.json"
    assert run_cli("check", str(zpath), "--json", str(out)) == EXIT_OK
    ((level, code, msg),) = _findings(out)
    assert (level, code) == ("warning", "native-optional-library")
    assert msg.startswith("/opt/python/gompuser/_ext.so needs libgomp.so.1")
    assert (f"judged optional by the verification of the build that made this zip "
            f"({verify['environment']}, l.manifest.json)") in msg
    assert run_cli("check", str(zpath), "--strict") == EXIT_NATIVE
    capsys.readouterr()
    # the requested import loads it; that build was told another layer provides libgomp
    folder = gomp_wheel(tmp_path / "core", at_import=True)
    zpath = folder / "l.zip"
    assert run_cli("build", "-o", str(zpath), "--no-strip", "--no-sandbox", "--system-lib",
                   "libgomp.so.1", "-q", cwd=folder) == EXIT_OK
    verify = json.loads((folder / "l.manifest.json").read_text())["verify"]
    assert verify["loaded_native_files"] == ["python/gompuser/_ext.so"]
    assert verify["system_libs"] == ["libgomp.so.1"]
    assert run_cli("check", str(zpath), "--json", str(out)) == EXIT_NATIVE
    err = capsys.readouterr().err
    ((level, code, msg),) = _findings(out)
    assert (level, code) == ("error", "native-missing-library")
    assert msg.startswith("/opt/python/gompuser/_ext.so needs libgomp.so.1")
    assert "(host, l.manifest.json) loads it, so it fails on Lambda" in err
    assert "--system-lib libgomp.so.1" in msg
    assert run_cli("check", str(zpath), "--system-lib", "libgomp.so.1") == EXIT_OK
    # a zip changed after the build: its manifest proves nothing about it
    with zipfile.ZipFile(zpath, "a") as zf:
        zf.writestr("python/added_later.py", "X = 1\n")
    assert run_cli("check", str(zpath), "--json", str(out)) == EXIT_OK
    assert sorted((lv, code) for lv, code, _m in _findings(out)) == [
        ("warning", "manifest-stale"), ("warning", "native-optional-library")]


def _core_and_plugin_zip(tmp_path: Path) -> Path:
    """Two distributions linking libstubdep.so.1, which Lambda lacks (and pip does not ship):
    ``corepkg``'s own import loads its ``_ext.so``; ``plugpkg``'s ``_plugin.so`` is loaded only
    by its optional ``plugin`` submodule. Installed by plain pip --target and zipped."""
    from tests.native_build import extension, shared_lib

    stub = shared_lib(tmp_path / "build" / "libstubdep.so.1", "libstubdep.so.1")
    ext = extension(tmp_path / "build" / "_ext.so", links=(str(stub),)).read_bytes()
    house = tmp_path / "house"
    make_wheel(house, "corepkg", "1.0", {"corepkg/__init__.py": LOAD_EXT, "corepkg/_ext.so": ext},
               tag="py3-none-manylinux2014_x86_64")
    make_wheel(house, "plugpkg", "1.0", {
        "plugpkg/__init__.py": "VALUE = 1\n",
        "plugpkg/plugin.py": LOAD_EXT.replace("_ext.so", "_plugin.so"),
        "plugpkg/_plugin.so": ext}, tag="py3-none-manylinux2014_x86_64")
    return pip_target_zip(tmp_path, "corepkg", "plugpkg", wheelhouse=house)


@pytest.mark.slow
def test_check_verify_refuses_what_an_import_loads_and_judges_the_rest(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from lambda_slim.target.sandbox import sandbox_unavailable

    if sandbox_unavailable(dict(os.environ)) is not None:
        pytest.skip(f"no sandbox here: {sandbox_unavailable(dict(os.environ))}")
    zpath = _core_and_plugin_zip(tmp_path)
    out = tmp_path / "c.json"
    # the zip alone: both are warnings (nothing shows corepkg's import loads its _ext.so)
    assert run_cli("check", str(zpath), "--json", str(out)) == EXIT_OK
    assert {(lv, c) for lv, c, _m in _findings(out)} == {("warning", "native-optional-library")}
    capsys.readouterr()
    # --verify imports corepkg and plugpkg in the sandbox: corepkg's file is refused (exit 4)
    assert run_cli("check", str(zpath), "--verify", "--json", str(out)) == EXIT_NATIVE
    err = capsys.readouterr().err
    found = {m.split(" ", 1)[0]: (lv, c, m) for lv, c, m in _findings(out)}
    level, code, msg = found["/opt/python/corepkg/_ext.so"]
    assert (level, code) == ("error", "native-missing-library")
    assert "(from corepkg) needs libstubdep.so.1" in msg
    assert "`import corepkg` in the Lambda-like sandbox (check --verify) loads it" in msg
    level, code, msg = found["/opt/python/plugpkg/_plugin.so"]
    assert (level, code) == ("warning", "native-optional-library")
    assert "judged optional by importing the distributions' own packages in the Lambda-like " \
           "sandbox (check --verify)" in msg
    assert "--system-lib libstubdep.so.1" in err
    # without the sandbox: one line says so; the import runs on this host (which lacks the
    # library too), and --require-verify makes it fatal (exit 6)
    monkeypatch.setenv("LAMBDA_SLIM_BWRAP", "")
    assert run_cli("check", str(zpath), "--verify", "--json", str(out)) == EXIT_NATIVE
    notes = [m for lv, c, m in _findings(out) if c == "not-verified"]
    assert len(notes) == 1 and "sandbox is unavailable here" in notes[0]
    capsys.readouterr()
    assert run_cli("check", str(zpath), "--verify", "--require-verify") == 6
    err = capsys.readouterr().err
    assert "sandbox is unavailable here" in err and "LAMBDA_SLIM_BWRAP" in err


@pytest.mark.slow
@pytest.mark.network
def test_check_verify_imports_a_pip_made_numba_layer_and_judges_its_threading_layers(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path) -> None:
    """numba (with numpy and llvmlite) imports in the sandbox without libgomp or libtbb: its
    omppool/tbbpool files are judged optional by that import, as Lambda would run it."""
    from lambda_slim.target.sandbox import sandbox_unavailable

    if sandbox_unavailable(dict(os.environ)) is not None:
        pytest.skip(f"no sandbox here: {sandbox_unavailable(dict(os.environ))}")
    zpath = pip_target_zip(tmp_path, "numba==0.68.1", deps=True)
    out = tmp_path / "c.json"
    # unstripped llvmlite makes it ~270 MiB: the size gate is not what this test is about
    assert run_cli("check", str(zpath), "--verify", "--budget", "1GiB",
                   "--json", str(out)) == EXIT_OK
    native = [(lv, m) for lv, c, m in _findings(out) if c.startswith("native-")]
    assert {lv for lv, _m in native} == {"warning"}
    judged = sorted(m.split(" ", 1)[0] for _lv, m in native
                    if "judged optional by importing the distributions' own packages in the "
                       "Lambda-like sandbox" in m)
    assert len(judged) == 2 and "omppool" in judged[0] and "tbbpool" in judged[1], native
    assert not [m for _lv, c, m in _findings(out) if c == "verify-import-failed"]
