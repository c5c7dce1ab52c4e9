"""Real PyPI packages that fail on Lambda for different reasons, refused with the cause named.

- lightgbm links the OpenMP runtime libgomp.so.1 from the system (its wheel does not vendor
  it); Lambda's images lack it ("libgomp.so.1: cannot open shared object file" on Lambda:
  gwittchen/lambda-ocr#10, dmlc/xgboost#11048; the same on Azure Functions:
  Azure/azure-functions-python-worker#514). The build's import check sees the file loaded and
  refuses it (exit 4), whether or not this machine has libgomp; `check` alone cannot tell an
  import loads it, so it warns (--strict refuses), and `check --verify` refuses it (exit 4).
- python-magic finds libmagic with ctypes at import time ("failed to find libmagic" on
  Lambda: ahupp/python-magic#311, kotify/cloud-print-utils#4). No static check can see that;
  the sandbox hides the host's libmagic, so verification refuses it (exit 4) on a machine
  where libmagic is installed.
"""

from __future__ import annotations

import ctypes.util
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from lambda_slim.target.sandbox import sandbox_unavailable
from tests.pipzip import pip_target_zip

RunCli = Callable[..., int]


@pytest.mark.slow
def test_lightgbm_needs_libgomp(tmp_path: Path, run_cli: RunCli,
                                capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "requirements.txt").write_text("lightgbm==4.7.0\n")
    code = run_cli("build", "--no-strip", "-o", str(tmp_path / "l.zip"), "-q", cwd=tmp_path)
    err = capsys.readouterr().err
    assert code == 4, err
    assert "/opt/python/lightgbm/lib/lib_lightgbm.so (from lightgbm) needs libgomp.so.1" in err
    assert "reported missing on Lambda" in err and "--system-lib libgomp.so.1" in err
    assert not (tmp_path / "l.zip").exists()
    # declared as provided (say, by a layer that ships it in lib/): the audit accepts it
    code = run_cli("build", "--no-strip", "--system-lib", "libgomp.so.1", "--dry-run", "-q",
                   cwd=tmp_path)
    assert code == 0, capsys.readouterr().err


def host_has(name: str) -> bool:
    return ctypes.util.find_library(name) is not None


@pytest.mark.slow
@pytest.mark.skipif(sandbox_unavailable(os.environ) is not None,
                    reason=f"no sandbox here: {sandbox_unavailable(os.environ)}")
def test_python_magic_loads_libmagic_with_ctypes(tmp_path: Path, run_cli: RunCli,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    if not host_has("magic"):
        pytest.skip("libmagic is not installed on this host (.ci/run installs libmagic1): "
                    "the point is that the sandbox hides it")
    (tmp_path / "requirements.txt").write_text("python-magic==0.4.27\n")
    code = run_cli("build", "-o", str(tmp_path / "l.zip"), cwd=tmp_path)
    err = capsys.readouterr().err
    assert code == 4, err  # a missing system library
    assert "requested package magic: missing system library libmagic" in err
    assert "Lambda-like sandbox" in err and "--system-lib" in err
    assert not (tmp_path / "l.zip").exists()
    # on this host (where libmagic exists) the same layer would pass: the weaker proof
    assert run_cli("build", "--no-sandbox", "-o", str(tmp_path / "l.zip"), "-q",
                   cwd=tmp_path) == 0


@pytest.mark.slow
def test_check_names_lightgbm_too(tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    """A zip built by another tool (here: pip install --target, then zipped): from the zip
    alone `check` cannot tell that lightgbm's import loads lib_lightgbm.so, so it warns, naming
    the file and the library; --verify imports it in the sandbox and refuses it (exit 4), and
    --strict refuses it with the build's message."""
    zpath = pip_target_zip(tmp_path, "lightgbm==4.7.0", deps=True)
    out = tmp_path / "c.json"
    assert run_cli("check", str(zpath), "--json", str(out)) == 0
    err = capsys.readouterr().err
    assert "/opt/python/lightgbm/lib/lib_lightgbm.so needs libgomp.so.1" in err
    assert "fails only if something loads it" in err
    codes = {(f["level"], f["code"]) for f in json.loads(out.read_text())["findings"]
             if f["code"].startswith("native-")}
    assert codes == {("warning", "native-optional-library")}
    assert run_cli("check", str(zpath), "--strict", "--json", str(out)) == 4
    err = capsys.readouterr().err
    assert "/opt/python/lightgbm/lib/lib_lightgbm.so (from lightgbm) needs libgomp.so.1" in err
    assert "Fix: provide libgomp.so.1" in err
    codes = {(f["level"], f["code"]) for f in json.loads(out.read_text())["findings"]
             if f["code"].startswith("native-")}
    assert codes == {("error", "native-missing-library")}
    if sandbox_unavailable(os.environ) is None:
        assert run_cli("check", str(zpath), "--verify", "--json", str(out)) == 4
        err = capsys.readouterr().err
        assert "`import lightgbm` in the Lambda-like sandbox (check --verify) loads it" in err
