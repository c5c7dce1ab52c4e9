"""Issue 18 item 4, for real (PyPI's boto3/botocore/aiobotocore, the sandbox): the layer keeps
the SDK when it needs more than the runtime's floor, and a layer whose code needs a newer SDK
than the one Lambda may give is found by verification against the floor stand-in."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from lambda_slim.target.sdk import SDK_FLOORS
from tests.wheels import make_wheel

RunCli = Callable[..., int]
FLOOR = SDK_FLOORS["python3.12"]
#: Amazon S3 Tables arrived in botocore 1.35.72 (December 2024), after the python3.12 floor.
NEWER_SERVICE = "s3tables"


def _build(run_cli: RunCli, tmp: Path, lines: list[str], *extra: str) -> tuple[int, dict[str, object]]:
    req = tmp / "requirements.txt"
    req.write_text("\n".join(lines) + "\n")
    out, rep = tmp / "layer.zip", tmp / "report.json"
    code = run_cli("build", str(req), "-o", str(out), "--json", str(rep), "--no-result-cache",
                   *extra, cwd=tmp)
    return code, json.loads(rep.read_text()) if rep.exists() else {}


def _names(z: Path) -> set[str]:
    with zipfile.ZipFile(z) as zf:
        return {n.split("/")[1] for n in zf.namelist() if n.count("/") >= 2}


def test_boto3_newer_than_the_floor_keeps_botocore_and_says_why(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path) -> None:
    code, rep = _build(run_cli, tmp_path, ["boto3==1.40.0"])
    assert code == 0, rep
    assert {"boto3", "botocore", "s3transfer", "jmespath"} <= _names(tmp_path / "layer.zip")
    notes = " ".join(rep["notes"])  # type: ignore[arg-type]
    assert "kept the AWS SDK in the layer: the requirements list boto3" in notes


def test_aiobotocore_keeps_botocore_naming_its_pin(tmp_path: Path, tmp_cache: Path,
                                                  run_cli: RunCli, py312: Path) -> None:
    code, rep = _build(run_cli, tmp_path, ["aiobotocore==2.24.0"])
    assert code == 0, rep
    assert "botocore" in _names(tmp_path / "layer.zip")
    notes = " ".join(rep["notes"])  # type: ignore[arg-type]
    assert "aiobotocore 2.24.0 requires botocore" in notes and FLOOR.botocore in notes


def test_code_needing_a_newer_sdk_than_the_floor_fails_verification(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    house = tmp_path / "house"
    make_wheel(house, "tablesclient", "1.0", {
        "tablesclient/__init__.py": "import botocore.session\n"
        f"MODEL = botocore.session.Session().get_service_model({NEWER_SERVICE!r})\n"},
        requires=("botocore",))
    lines = [f"--find-links {house}", "tablesclient"]
    code, _rep = _build(run_cli, tmp_path, lines)
    printed = capsys.readouterr()
    assert code == 5, printed.out
    assert "runtime-provided" in printed.out + printed.err
    assert "UnknownServiceError" in printed.out + printed.err or NEWER_SERVICE in printed.out
    # the SDK is named as a package (putting back part of it would mix two versions), and
    # the fix keeps the whole folder
    said = printed.out + printed.err
    assert "rule `runtime-provided` removed botocore/ (" in said, said
    assert "removed botocore/__init__.py" not in said and "--keep 'botocore'" in said
    # the user printed a newer version on their function: the same layer verifies
    (tmp_path / "b").mkdir()
    code, _rep = _build(run_cli, tmp_path / "b", lines, "--runtime-sdk", "botocore==1.36.0")
    assert code == 0, capsys.readouterr().out
    assert "botocore" not in _names(tmp_path / "b" / "layer.zip")  # the runtime's serves it
