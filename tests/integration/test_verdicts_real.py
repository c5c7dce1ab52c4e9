"""Verdicts Lambda would give, on real PyPI packages in the Lambda-like sandbox (python3.12
x86_64, default flags): optional parts that fail there too are warnings, what a function
uses is refused, and ``--strict`` refuses both.

- pillow: ``PIL.ImageTk`` needs libtk8.6.so, which Lambda lacks; nobody imports it there.
- numba: the ``omppool``/``tbbpool`` threading layers need libgomp/libtbb; numba compiles with
  its ``workqueue`` layer. The ``unloadable`` rule drops the two files.
- ``@numba.njit(cache=True)`` at import: no writable cache place on Lambda; the fix is
  ``NUMBA_CACHE_DIR`` under /tmp.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lambda_slim.target.sandbox import sandbox_unavailable
from tests.native_build import gomp_wheel
from tests.wheels import make_wheel

RunCli = Callable[..., int]
REASON = sandbox_unavailable(os.environ)
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"no sandbox here: {REASON}")


def _build(run_cli: RunCli, folder: Path, *extra: str) -> int:
    return run_cli("build", "-o", str(folder / "l.zip"), "--json", str(folder / "r.json"),
                   *extra, cwd=folder)


def _verify(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "r.json").read_text())["verify"]
    return data


def _optional(folder: Path) -> dict[str, str]:
    return {o["item"]: o["reason"] for o in _verify(folder)["optional_failures"]}


def test_pillow_builds_with_imagetk_listed_as_optional(
        tmp_path: Path, run_cli: RunCli, py312: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "requirements.txt").write_text("pillow==13.0.0\n")
    code = _build(run_cli, tmp_path)
    out = capsys.readouterr().out
    assert code == 0, out
    assert _verify(tmp_path)["environment"] == "sandbox"
    optional = _optional(tmp_path)
    assert "missing system library libtk8.6.so" in optional["PIL.ImageTk"]
    assert "optional parts that will not import on Lambda" in out
    heading = out.index("optional parts that will not import on Lambda")
    assert out.index("PIL.ImageTk", heading) > heading
    # --strict: the same optional part is a refusal
    code = _build(run_cli, tmp_path, "--strict")
    err = capsys.readouterr().err
    assert code in (4, 5), err
    assert "PIL.ImageTk: missing system library libtk8.6.so" in err


@pytest.mark.slow
def test_numba_compiles_and_its_threading_layers_are_optional_and_dropped(
        tmp_path: Path, run_cli: RunCli, py312: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "requirements.txt").write_text("numba==0.68.1\n")
    (tmp_path / "smoke.py").write_text(
        "import numba\n\n@numba.njit\ndef add(a, b):\n    return a + b\n\n"
        "assert add(2, 3) == 5\n")
    code = _build(run_cli, tmp_path, "--smoke", "smoke.py")
    out = capsys.readouterr().out
    assert code == 0, out
    optional = _optional(tmp_path)
    omp = [f for f in optional if "/numba/np/ufunc/omppool" in f]
    tbb = [f for f in optional if "/numba/np/ufunc/tbbpool" in f]
    assert omp and "libgomp.so.1" in optional[omp[0]] and "unloadable" in optional[omp[0]]
    assert tbb and "libtbb.so.12" in optional[tbb[0]]
    rules = {r["name"]: r for r in json.loads((tmp_path / "r.json").read_text())["rules"]}
    assert rules["unloadable"]["files"] >= 2 and rules["unloadable"]["bytes"] > 0
    manifest = json.loads((tmp_path / "l.manifest.json").read_text())
    gone = {e["path"] for e in manifest["removed"] if e["rule"] == "unloadable"}
    assert any("omppool" in p for p in gone) and any("tbbpool" in p for p in gone), gone
    # --strict: the audit's misses are refused before anything is verified
    code = _build(run_cli, tmp_path, "--smoke", "smoke.py", "--strict")
    err = capsys.readouterr().err
    assert code == 4, err
    assert "needs libgomp.so.1" in err and "omppool" in err


@pytest.mark.slow
def test_numba_cache_true_at_import_is_refused_naming_numba_cache_dir(
        tmp_path: Path, run_cli: RunCli, py312: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    house = tmp_path / "house"
    make_wheel(house, "cachedjit", "1.0", {"cachedjit/__init__.py": (
        "import numba\n\n@numba.njit(cache=True)\ndef inc(x):\n    return x + 1\n\n"
        "inc(1)\n")}, requires=("numba",))
    (tmp_path / "requirements.txt").write_text(f"--find-links {house}\ncachedjit\n")
    code = _build(run_cli, tmp_path)
    err = capsys.readouterr().err
    assert code == 5, err
    assert "requested package cachedjit" in err
    assert "NUMBA_CACHE_DIR" in err and "/tmp" in err
    assert not (tmp_path / "l.zip").exists()


def _extra_top_level(tmp_path: Path) -> Path:
    """``twopkgs`` ships its own package and ``twopkgs_dask``, which needs dask (an optional
    dependency nobody asked for)."""
    house = tmp_path / "house"
    make_wheel(house, "twopkgs", "1.0", {
        "twopkgs/__init__.py": "VALUE = 1\n",
        "twopkgs_dask/__init__.py": "import dask\n",
    })
    (tmp_path / "requirements.txt").write_text(f"--no-index\n--find-links {house}\ntwopkgs\n")
    return tmp_path


def test_an_extra_top_level_package_needing_an_unrequested_dependency_is_a_warning(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    folder = _extra_top_level(tmp_path)
    code = _build(run_cli, folder)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "No module named 'dask'" in _optional(folder)["twopkgs_dask"]
    assert "optional parts that will not import on Lambda" in out
    code = _build(run_cli, folder, "--strict")
    err = capsys.readouterr().err
    assert code == 5, err
    assert "twopkgs_dask: ModuleNotFoundError: No module named 'dask'" in err


def test_strict_from_pyproject(tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    folder = _extra_top_level(tmp_path)
    (folder / "pyproject.toml").write_text("[tool.lambda-slim]\nstrict = true\n")
    assert _build(run_cli, folder) == 5, capsys.readouterr().err


def test_python310_build_warns_that_the_runtime_is_deprecated(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, project: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    code = run_cli("build", "--runtime", "python3.10", "-o", str(project / "l.zip"),
                   cwd=project)
    err = capsys.readouterr().err
    assert code == 0, err
    assert "python3.10 is deprecated since 2026-10-31" in err
    assert "creating functions on it is blocked since 2026-11-30" in err
    assert "--runtime python3.13" in err


def test_a_file_the_requested_import_loads_is_refused_even_where_this_host_has_the_library(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """On this host libgomp loads, so only what the import mapped shows the file is used."""
    folder = gomp_wheel(tmp_path, at_import=True)
    code = _build(run_cli, folder, "--no-sandbox", "--no-strip")
    err = capsys.readouterr().err
    assert code == 4, err
    assert "/opt/python/gompuser/_ext.so (from gompuser) needs libgomp.so.1" in err
    assert not (folder / "l.zip").exists()


@pytest.mark.parametrize("sandbox", ["--sandbox", "--no-sandbox"])
def test_a_file_only_an_optional_plugin_loads_is_a_warning_and_dropped(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path, sandbox: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    import zipfile

    folder = gomp_wheel(tmp_path, at_import=False)
    code = _build(run_cli, folder, sandbox, "--no-strip")
    out = capsys.readouterr().out
    assert code == 0, out
    reason = _optional(folder)["/opt/python/gompuser/_ext.so"]
    assert "needs libgomp.so.1" in reason and "removed by rule `unloadable`" in reason
    with zipfile.ZipFile(folder / "l.zip") as zf:
        names = zf.namelist()
    assert "python/gompuser/__init__.py" in names and "python/gompuser/_ext.so" not in names
    rules = {r["name"]: r for r in json.loads((folder / "r.json").read_text())["rules"]}
    assert rules["unloadable"]["files"] == 1 and rules["unloadable"]["bytes"] > 0
    # --no-unloadable keeps it (still a warning); --strict refuses it
    assert _build(run_cli, folder, sandbox, "--no-strip", "--no-unloadable") == 0
    with zipfile.ZipFile(folder / "l.zip") as zf:
        assert "python/gompuser/_ext.so" in zf.namelist()
    assert _build(run_cli, folder, sandbox, "--no-strip", "--strict") == 4
    capsys.readouterr()
    # the rule's plan is shown by --dry-run like the others'
    assert run_cli("build", "--dry-run", "-v", sandbox, "--no-strip", cwd=folder) == 0
    out = capsys.readouterr().out
    assert "unloadable" in out and "python/gompuser/_ext.so" in out
