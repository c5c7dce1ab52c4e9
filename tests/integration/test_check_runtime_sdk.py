"""``check --verify`` runs a zip as Lambda would, against the runtime's AWS SDK: the build's
``sys.path`` (``lambda_paths``) and the build's stand-in ``/var/runtime`` (awslambdaric and
boto3/botocore at the runtime's floor, or ``--runtime-sdk``), so its verdict is the build's.

(a) a pip-made layer whose package imports boto3 without shipping it (Lambda provides it)
passes, with no ``verify-import-failed`` warning; (b) a layer shipping only a boto3 newer than
the floor imports against the floor's botocore, and the pin the floor does not satisfy is
named as the build's ``runtime-provided`` rule names it (the build would keep the SDK).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from lambda_slim.check.verify import IMPORT_FAILED, NOT_VERIFIED, SDK_OLDER, ImportCheck
from lambda_slim.errors import EXIT_OK
from lambda_slim.native.closure import ClosureResult
from lambda_slim.target.runtimes import parse_target
from lambda_slim.target.sandbox import sandbox_unavailable
from lambda_slim.target.sdk import SDK_FLOORS
from lambda_slim.target.syslibs import runtime_syslibs
from tests.pipzip import pip_target_zip
from tests.wheels import make_wheel

RunCli = Callable[..., int]
REASON = sandbox_unavailable(dict(os.environ))
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(REASON is not None, reason=f"no sandbox here: {REASON}")]
FLOOR = SDK_FLOORS["python3.12"]
#: newer than python3.12's floor (1.28.57 / 1.31.57); pins botocore>=1.36.0,<1.37.0
NEWER_BOTO3 = "1.36.0"

USES_BOTO3 = """import boto3
import botocore

SESSION = boto3.session.Session(region_name="us-east-1")
S3 = SESSION.client("s3")
BOTOCORE = botocore.__version__
"""


def _findings(path: Path) -> list[tuple[str, str, str]]:
    doc = json.loads(path.read_text())
    return [(f["level"], f["code"], f["message"]) for f in doc["findings"]]


def _uses_boto3_zip(tmp_path: Path) -> Path:
    """``pip install --target`` of a package that imports boto3 and does not ship it."""
    house = tmp_path / "house"
    make_wheel(house, "usesboto3", "1.0", {"usesboto3/__init__.py": USES_BOTO3},
               requires=("boto3",))
    return pip_target_zip(tmp_path, "usesboto3", wheelhouse=house)


def test_a_layer_importing_boto3_without_shipping_it_passes(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path) -> None:
    zpath = _uses_boto3_zip(tmp_path)
    out = tmp_path / "c.json"
    assert run_cli("check", str(zpath), "--verify", "--json", str(out)) == EXIT_OK
    found = _findings(out)
    assert not [f for f in found if f[1] in (IMPORT_FAILED, NOT_VERIFIED, SDK_OLDER)], found
    # it ran against the stand-in's botocore, seen where Lambda has it
    got = ImportCheck(dict(os.environ), cache_dir=tmp_cache)(
        [(zpath, "layer")], parse_target("python3.12", "x86_64"), ClosureResult(0, ()),
        runtime_syslibs("python3.12", "x86_64"))
    loaded = got.loads[0].files
    assert "/var/runtime/botocore/__init__.py" in loaded, sorted(loaded)[:20]
    assert "/opt/python/usesboto3/__init__.py" in loaded


@pytest.mark.network
def test_a_layer_shipping_only_a_newer_boto3_is_judged_as_the_build_judges_it(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    zpath = pip_target_zip(tmp_path, f"boto3=={NEWER_BOTO3}")  # --no-deps: boto3 alone
    out = tmp_path / "c.json"
    # boto3 1.36.0 imports against the floor's botocore (as on a function on the floor), so
    # the import passes; its pin is what the floor does not satisfy: the build's rule would
    # keep the SDK in the layer for that reason, check names it
    assert run_cli("check", str(zpath), "--verify", "--json", str(out)) == EXIT_OK
    found = _findings(out)
    assert not [f for f in found if f[1] == IMPORT_FAILED], found
    sdk = [m for lv, c, m in found if c == SDK_OLDER and lv == "warning"]
    assert len(sdk) == 1, found
    assert (f"boto3 {NEWER_BOTO3} requires botocore<1.37.0,>=1.36.0, and the runtime may have "
            f"botocore {FLOOR.botocore}") in sdk[0]
    assert "ship that package in the layer too" in sdk[0] and "--runtime-sdk" in sdk[0]
    got = ImportCheck(dict(os.environ), cache_dir=tmp_cache)(
        [(zpath, "layer")], parse_target("python3.12", "x86_64"), ClosureResult(0, ()),
        runtime_syslibs("python3.12", "x86_64"))
    loaded = got.loads[0].files
    assert "/opt/python/boto3/__init__.py" in loaded  # the layer's boto3 shadows the runtime's
    assert "/var/runtime/botocore/__init__.py" in loaded  # with the runtime's botocore
    assert not any(f.startswith("/var/runtime/boto3/") for f in loaded)
    # the version the user's function printed satisfies the pin: no warning
    capsys.readouterr()
    assert run_cli("check", str(zpath), "--verify", "--runtime-sdk",
                   f"botocore=={NEWER_BOTO3}", "--json", str(out)) == EXIT_OK
    assert not [f for f in _findings(out) if f[1] in (SDK_OLDER, IMPORT_FAILED)]


def test_runtime_sdk_needs_verify_and_a_valid_value(tmp_path: Path, run_cli: RunCli,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    layer = tmp_path / "python"
    layer.mkdir()
    (layer / "m.py").write_text("")
    assert run_cli("check", str(tmp_path), "--runtime-sdk", "botocore==1.36.0") == 2
    assert "--runtime-sdk needs --verify" in capsys.readouterr().err
    assert run_cli("check", str(tmp_path), "--verify", "--runtime-sdk", "botocore") == 2
    assert "--runtime-sdk 'botocore' is not" in capsys.readouterr().err
