"""``--compile=imported`` (the default) for real: real pip, the real python3.12 compiling and
the real sandbox verifying. Bytecode ships exactly for what a cold start imports (the
requested packages' imports, a handler's, the smoke scripts'), everything else as source,
and the pycs that ship are the target's unchecked-hash ones: they are used even when the
source beside them says otherwise."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lambda_slim.target.sandbox import sandbox_unavailable
from tests.wheels import make_wheel, wheelhouse_requirements

RunCli = Callable[..., int]
REASON = sandbox_unavailable(os.environ)
PYC = "__pycache__/{}.cpython-312.pyc"


def _wheels(house: Path) -> None:
    make_wheel(house, "coldpkg", "1.0", {
        "coldpkg/__init__.py": "from coldpkg import core\nVALUE = core.VALUE\n",
        "coldpkg/core.py": "import helper\nVALUE = helper.H + 1\n",
        "coldpkg/lazy.py": "LAZY = 'lazy'\n",  # public: deep verification imports it
        "coldpkg/_private.py": "P = 1\n",
        "coldpkg/sub/__init__.py": "",
        "coldpkg/sub/deep.py": "D = 1\n",
    }, requires=("helper",))
    make_wheel(house, "helper", "2.0", {"helper.py": "H = 41\n"})


def _build(tmp_path: Path, run_cli: RunCli, name: str, *flags: str) -> tuple[set[str], Any]:
    house = tmp_path / "house"
    if not house.is_dir():
        _wheels(house)
    req = wheelhouse_requirements(tmp_path / "requirements.txt", house, "coldpkg")
    out = tmp_path / f"{name}.zip"
    assert run_cli("build", str(req), "-o", str(out), "--json", str(tmp_path / f"{name}.json"),
                   "--no-result-cache", "-q", *flags, cwd=tmp_path) == 0
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
    return names, json.loads((tmp_path / f"{name}.json").read_text())


def _pycs(names: set[str], prefix: str = "python/") -> set[str]:
    return {n[len(prefix):] for n in names if n.endswith(".pyc")}


def test_default_ships_bytecode_only_for_what_a_cold_start_imports(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path) -> None:
    names, rep = _build(tmp_path, run_cli, "default")
    assert _pycs(names) == {"coldpkg/" + PYC.format("__init__"), "coldpkg/" + PYC.format("core"),
                            PYC.format("helper")}
    for src in ("coldpkg/lazy.py", "coldpkg/_private.py", "coldpkg/sub/deep.py", "helper.py"):
        assert "python/" + src in names  # the rest stays as source
    assert rep["verify"]["status"] == "passed"
    assert rep["verify"]["environment"] == ("host" if REASON else "sandbox")
    assert rep["verify"]["init_ms"] is not None  # measured on the layer as it ships
    bc = rep["bytecode"]
    assert bc["mode"] == "imported" and bc["modules"] == 3
    assert bc["left_as_source"] >= 4 and bc["left_as_source_bytes"] > 0
    assert "coldpkg" in bc["why"] and "source" in bc["why"]
    assert rep["compiled_bytes"] == bc["bytes"] > 0
    with zipfile.ZipFile(tmp_path / "default.zip") as zf:
        assert bc["bytes"] == sum(i.file_size for i in zf.infolist() if i.filename.endswith(".pyc"))
        head = zf.read("python/coldpkg/" + PYC.format("core"))[:16]
    magic = subprocess.run([str(py312), "-c", "import importlib.util, sys;"
                            "sys.stdout.write(importlib.util.MAGIC_NUMBER.hex())"],
                           capture_output=True, text=True, check=True).stdout
    assert head[:4].hex() == magic
    assert int.from_bytes(head[4:8], "little") == 0b01  # hash-based, never checked

    # The shipped pycs are what Python loads: break the sources they were compiled from and
    # the read-only layer still imports; a module left as source runs its (broken) source.
    layer = tmp_path / "extracted"
    with zipfile.ZipFile(tmp_path / "default.zip") as zf:
        zf.extractall(layer)
    site = layer / "python"
    (site / "coldpkg/core.py").write_text("raise SystemExit('source was used')\n")
    (site / "coldpkg/lazy.py").write_text("LAZY = 'from source'\n")
    for p in layer.rglob("*"):
        p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        out = subprocess.run([str(py312), "-I", "-S", "-B", "-c",
                              f"import sys; sys.path[:0] = [{str(site)!r}]; import coldpkg, "
                              "coldpkg.lazy; print(coldpkg.VALUE, coldpkg.lazy.LAZY)"],
                             capture_output=True, text=True, check=False)
    finally:
        for p in layer.rglob("*"):
            p.chmod(p.stat().st_mode | stat.S_IWUSR)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["42", "from", "source"]


def test_all_none_and_smoke(tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
                            py312: Path) -> None:
    names, rep = _build(tmp_path, run_cli, "all", "--compile=all")
    every = {"coldpkg/" + PYC.format(m) for m in ("__init__", "core", "lazy", "_private")}
    assert every | {"coldpkg/sub/" + PYC.format(m) for m in ("__init__", "deep")} \
        | {PYC.format("helper")} == _pycs(names)
    assert rep["bytecode"]["mode"] == "all" and rep["bytecode"]["modules"] == 7
    assert rep["bytecode"]["left_as_source"] == 0

    for flags in (("--compile=none",), ("--no-compile",)):
        names, rep = _build(tmp_path, run_cli, "none", *flags)
        assert _pycs(names) == set()
        assert rep["bytecode"]["modules"] == 0 and rep["compiled_bytes"] == 0

    smoke = tmp_path / "smoke.py"
    smoke.write_text("import coldpkg.sub.deep\nassert coldpkg.sub.deep.D == 1\n")
    names, rep = _build(tmp_path, run_cli, "smoke", "--smoke", str(smoke))
    assert "coldpkg/sub/" + PYC.format("deep") in _pycs(names)
    assert "coldpkg/" + PYC.format("lazy") not in _pycs(names)
    assert "smoke.py" in rep["bytecode"]["why"]
    assert rep["verify"]["smoke"] == [{"script": str(smoke), "ok": True}]


def test_the_handler_import_decides_too(tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
                                        py312: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "app.py").write_text("import coldpkg.lazy\n\ndef handler(event, context):\n"
                                "    return coldpkg.lazy.LAZY\n")
    (src / "unused.py").write_text("U = 1\n")
    names, rep = _build(tmp_path, run_cli, "fn", "--function", str(src), "--handler",
                        "app.handler")
    pycs = _pycs(names, prefix="")
    assert {PYC.format("app"), "coldpkg/" + PYC.format("lazy"),
            "coldpkg/" + PYC.format("core")} <= pycs
    assert PYC.format("unused") not in pycs and "coldpkg/" + PYC.format("_private") not in pycs
    assert rep["function"]["handler"]["ok"] is True
    assert "handler" in rep["bytecode"]["why"]


def test_bad_compile_mode_is_exit_2(tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("six\n")
    assert run_cli("build", str(req), "--compile=some", cwd=tmp_path) == 2
    assert "imported" in capsys.readouterr().err
    (tmp_path / "pyproject.toml").write_text('[tool.lambda-slim]\ncompile = "most"\n')
    assert run_cli("build", str(req), cwd=tmp_path) == 2
    err = capsys.readouterr().err
    assert "compile" in err and "imported" in err
