"""Variants and the gpu rule in real builds: real pip over wheels made in the test (a fake
"original" with a GPU payload, its CPU variant, gcc-built CUDA-like libraries), and the real
XGBoost stack from PyPI."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.wheels import make_wheel, wheelhouse_requirements

RunCli = Callable[..., int]
LIMIT = 262_144_000


def _elf(tmp: Path, soname: str, links: tuple[Path, ...] = (), rpath: str = "") -> bytes:
    src = tmp / f"{soname}.c"
    src.write_text(f"int f_{abs(hash(soname)) % 10**6}(void) {{ return 1; }}\n")
    out = tmp / soname
    extra = [f"-Wl,-rpath,{rpath}"] if rpath else []
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(out), str(src),
                    f"-Wl,-soname,{soname}", "-Wl,--no-as-needed", *extra, *map(str, links)],
                   check=True)
    return out.read_bytes()


def _house(tmp: Path, app_links_payload: bool = False) -> Path:
    house = tmp / "house"
    build = tmp / "gcc"
    build.mkdir()
    lib = _elf(build, "libfake.so.1")
    make_wheel(house, "nvidia-fake-cu12", "1.0", {"nvidia/fake/lib/libfake.so.1": lib})
    make_wheel(house, "helperdep", "1.0", {"helperdep.py": "H = 1\n"})
    for ver in ("1.0", "2.0"):
        make_wheel(house, "orig", ver, {"orig/__init__.py": "KIND = 'gpu'\n"},
                   requires=("nvidia-fake-cu12", "helperdep"))
    make_wheel(house, "orig-lite", "1.0", {"orig/__init__.py": "KIND = 'cpu'\n"})
    app_files: dict[str, str | bytes] = {"app/__init__.py": "import orig\nKIND = orig.KIND\n"}
    if app_links_payload:
        # linked like a real wheel: RUNPATH into the payload's folder
        app_files["app/_native.so"] = _elf(build, "_native.so", links=(build / "libfake.so.1",),
                                           rpath="$ORIGIN/../nvidia/fake/lib")
    make_wheel(house, "app", "1.0", app_files, requires=("orig>=1",))
    return house


def _build(tmp: Path, run_cli: RunCli, req: Path, *flags: str) -> tuple[int, dict[str, Any], list[str]]:
    out = tmp / "layer.zip"
    code = run_cli("build", str(req), "-o", str(out), "--json", str(tmp / "r.json"),
                   "--no-compile", *flags, cwd=tmp)
    report = json.loads((tmp / "r.json").read_text())
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
    return code, report, names


needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")


@needs_gcc
def test_dependency_on_the_original_is_satisfied_by_the_variant(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path) -> None:
    house = _house(tmp_path)
    req = wheelhouse_requirements(tmp_path / "requirements.txt", house, "app")
    code, rep, names = _build(tmp_path, run_cli, req, "--variant", "orig=orig-lite")
    assert code == 0
    assert {w["name"] for w in rep["resolved"]} == {"app", "orig_lite"} or \
        {w["name"].replace("_", "-") for w in rep["resolved"]} == {"app", "orig-lite"}
    (r,) = rep["variants"]["replacements"]
    assert (r["original"], r["variant"], r["version"], r["via"]) == \
        ("orig", "orig-lite", "1.0", "dependency of app")
    assert rep["variants"]["dropped"] == {
        "helperdep": "only a replaced original required it",
        "nvidia-fake-cu12": "only a replaced original required it",
        "orig": "replaced by orig-lite"}
    assert not any(n.startswith(("python/nvidia", "python/helperdep")) for n in names)
    assert rep["verify"]["status"] == "passed"
    with zipfile.ZipFile(tmp_path / "layer.zip") as zf:
        assert zf.read("python/orig/__init__.py") == b"KIND = 'cpu'\n"
    manifest = json.loads((tmp_path / "layer.manifest.json").read_text())
    assert manifest["variants"]["replacements"][0]["variant"] == "orig-lite"


@needs_gcc
def test_pins_orphaned_by_a_variant_and_cuda_payloads_are_dropped(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path) -> None:
    house = _house(tmp_path)
    # pip-compile style: every transitive pin is a line of its own
    req = wheelhouse_requirements(tmp_path / "requirements.txt", house, "app==1.0",
                                  "orig==1.0", "nvidia-fake-cu12==1.0", "helperdep==1.0")
    code, rep, names = _build(tmp_path, run_cli, req, "--variant", "orig=orig-lite")
    assert code == 0
    gpu = {d["name"]: d for d in rep["gpu"]}
    assert gpu["nvidia-fake-cu12"]["dropped"] and "libfake.so.1" in gpu["nvidia-fake-cu12"]["reason"]
    assert gpu["nvidia-fake-cu12"]["bytes"] > 5000
    assert gpu["helperdep"]["dropped"]
    assert gpu["helperdep"]["reason"] == \
        "orphaned pin: only orig required it, and orig-lite does not"
    assert not any(n.startswith(("python/nvidia", "python/helperdep")) for n in names)
    assert rep["verify"]["status"] == "passed"
    rules = {r["name"]: r for r in rep["rules"]}
    assert rules["gpu"]["files"] >= 4
    removed = json.loads((tmp_path / "layer.manifest.json").read_text())["removed"]
    assert "python/nvidia/fake/lib/libfake.so.1" in {e["path"] for e in removed if e["rule"] == "gpu"}


@needs_gcc
def test_a_payload_an_extension_links_is_kept_and_keep_keeps_one(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path) -> None:
    house = _house(tmp_path, app_links_payload=True)
    req = wheelhouse_requirements(tmp_path / "requirements.txt", house, "app", "orig")
    code, rep, names = _build(tmp_path, run_cli, req, "--no-variants")
    assert code == 0 and rep["variants"]["replacements"] == []
    (d,) = rep["gpu"]
    assert not d["dropped"] and d["needed_by"] == ["app/_native.so"]
    assert "python/nvidia/fake/lib/libfake.so.1" in names


@needs_gcc
def test_a_variant_without_the_pinned_release_keeps_the_original(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    house = _house(tmp_path)
    req = wheelhouse_requirements(tmp_path / "requirements.txt", house, "orig==2.0")
    code, rep, names = _build(tmp_path, run_cli, req, "--variant", "orig=orig-lite",
                              "--keep", "nvidia-fake-cu12")
    assert code == 0
    (r,) = rep["variants"]["replacements"]
    assert r["skipped"].startswith("no orig-lite release matches orig-lite==2.0")
    assert "kept orig" in capsys.readouterr().out
    assert "python/nvidia/fake/lib/libfake.so.1" in names  # --keep NAME keeps the payload
    assert rep["gpu"] == []


def test_bad_variant_is_a_usage_error(tmp_path: Path, run_cli: RunCli,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "requirements.txt").write_text("six\n")
    assert run_cli("build", "--variant", "xgboost", cwd=tmp_path) == 2
    assert "is not ORIGINAL=REPLACEMENT" in capsys.readouterr().err


@pytest.mark.slow
def test_issue_target_xgboost_stack_unpinned_fits_verified_and_announced(
        tmp_path: Path, run_cli: RunCli, py312: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 15's first target: the stack as people write it, default flags."""
    # its own big build, not the shared seed build: `xgboost` (the variant path) is the point
    req = tmp_path / "requirements.txt"
    req.write_text("xgboost\npandas\nnumpy\nscipy\njoblib\n")
    code, rep, _names = _build(tmp_path, run_cli, req)
    out = capsys.readouterr().out
    assert code == 0, out
    assert rep["final_bytes"] <= LIMIT
    assert rep["verify"]["status"] == "passed"
    assert {w["name"] for w in rep["resolved"]} >= {"xgboost_cpu", "pandas", "numpy", "scipy"} \
        or {w["name"].replace("_", "-") for w in rep["resolved"]} >= {"xgboost-cpu", "pandas"}
    assert not any(w["name"].startswith("nvidia") for w in rep["resolved"])
    assert "variant: xgboost -> xgboost-cpu" in out
    assert any(r["original"] == "xgboost" and r["variant"] == "xgboost-cpu" and not r["skipped"]
               for r in rep["variants"]["replacements"])


@pytest.mark.slow
def test_no_variants_xgboost_drops_nccl_and_still_imports(
        tmp_path: Path, run_cli: RunCli, py312: Path) -> None:
    """The GPU build keeps its own library; NCCL (dlopen'ed lazily) is dropped, proven by the
    import verification."""
    # its own build: the GPU wheel with --no-variants is a different layer from the seed build
    req = tmp_path / "requirements.txt"
    req.write_text("xgboost\n")
    code, rep, names = _build(tmp_path, run_cli, req, "--no-variants")
    assert code == 0
    nccl = [d for d in rep["gpu"] if d["name"].startswith("nvidia-nccl")]
    assert nccl and nccl[0]["dropped"] and nccl[0]["bytes"] > 200_000_000
    assert not any(n.startswith("python/nvidia/") for n in names)
    assert rep["verify"]["status"] == "passed"
    assert rep["final_bytes"] <= LIMIT
