"""Trace-guided pruning for real: tiny wheels, a real python3.12 under the audit hook."""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from lambda_slim.target.sandbox import sandbox_unavailable
from lambda_slim.target.sdk import SDK_FLOORS
from lambda_slim.verify.verdict import TRACE_CUT
from tests.wheels import make_wheel, wheelhouse_requirements

RunCli = Callable[..., int]
FLOOR = SDK_FLOORS["python3.12"]


def tpkg(tmp_path: Path) -> Path:
    house = tmp_path / "house"
    make_wheel(house, "tpkg", "1.0", {
        "tpkg/__init__.py": "",
        "tpkg/used/__init__.py": "from . import impl\n",
        "tpkg/used/impl.py": "def score(x):\n    return x * 2\n",
        "tpkg/unused/__init__.py": "from . import heavy\n",
        "tpkg/unused/heavy.py": "DATA = " + repr("z" * 20000) + "\n",
        "tpkg/unused/table.csv": "a,b\n" * 5000,
    })
    return wheelhouse_requirements(tmp_path / "requirements.txt", house, "tpkg")


def test_untouched_subpackage_is_removed(tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
                                         py312: Path) -> None:
    req = tpkg(tmp_path)
    work = tmp_path / "work.py"
    work.write_text("from tpkg.used import impl\nassert impl.score(21) == 42\n")
    code = run_cli("build", str(req), "--trace", str(work), "-o", str(tmp_path / "l.zip"),
                   "--json", str(tmp_path / "r.json"), "--compile=traced", cwd=tmp_path)
    assert code == 0
    rep = json.loads((tmp_path / "r.json").read_text())
    tr = rep["trace"]
    assert tr["applied"] is True and tr["rolled_back"] is None
    assert tr["removed_files"] == 3
    names = set(zipfile.ZipFile(tmp_path / "l.zip").namelist())
    assert "python/tpkg/used/impl.py" in names
    assert not any(n.startswith("python/tpkg/unused/") for n in names)
    # --compile=traced: pycs only for what the workload imported
    assert "python/tpkg/used/__pycache__/impl.cpython-312.pyc" in names
    pkg = {p["name"]: p for p in rep["packages"]}["tpkg"]
    assert pkg["trace_bytes"] > 20000
    manifest = json.loads((tmp_path / "l.manifest.json").read_text())
    assert {e["rule"] for e in manifest["removed"]} >= {"trace"}


def test_workload_that_breaks_rolls_the_rule_back(tmp_path: Path, tmp_cache: Path,
                                                  run_cli: RunCli, py312: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """The first (traced) run never reaches tpkg.unused; later runs do: the trimmed layer
    fails its own workload, so the trace rule is rolled back and the layer stays whole."""
    req = tpkg(tmp_path)
    marker = tmp_path / "runs.txt"
    work = tmp_path / "work.py"
    work.write_text(
        "import pathlib\n"
        f"m = pathlib.Path({str(marker)!r})\n"
        "n = int(m.read_text()) if m.exists() else 0\n"
        "m.write_text(str(n + 1))\n"
        "import tpkg.used\n"
        "if n >= 1:\n    import tpkg.unused\n"
    )
    # --no-sandbox: the workload keeps a counter in a host file across runs, which the
    # Lambda-like sandbox (read-only, fresh /tmp per run) rightly does not allow
    code = run_cli("build", str(req), "--trace", str(work), "-o", str(tmp_path / "l.zip"),
                   "--json", str(tmp_path / "r.json"), "--no-compile", "--no-sandbox",
                   cwd=tmp_path)
    assert code == 0
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["trace"]["applied"] is False
    assert "rolled back" in rep["trace"]["rolled_back"]
    assert "rolled back" in capsys.readouterr().err
    names = set(zipfile.ZipFile(tmp_path / "l.zip").namelist())
    assert "python/tpkg/unused/heavy.py" in names


def test_trace_command_previews(tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    req = tpkg(tmp_path)
    work = tmp_path / "work.py"
    work.write_text("import tpkg.used\n")
    code = run_cli("trace", "--smoke", str(work), str(req), "--json", str(tmp_path / "t.json"),
                   cwd=tmp_path)
    assert code == 0
    out = capsys.readouterr().out
    assert "tpkg" in out and "would remove" in out
    rep = json.loads((tmp_path / "t.json").read_text())
    assert {e["path"] for e in rep["trace_plan"]} == {
        "python/tpkg/unused/__init__.py", "python/tpkg/unused/heavy.py",
        "python/tpkg/unused/table.csv"}
    assert not list(tmp_path.glob("*.zip"))


def test_report_shows_what_a_trace_would_save(tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
                                              py312: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    req = tpkg(tmp_path)
    work = tmp_path / "work.py"
    work.write_text("import tpkg.used\n")
    code = run_cli("build", str(req), "--smoke", str(work), "-o", str(tmp_path / "l.zip"),
                   "--json", str(tmp_path / "r.json"), cwd=tmp_path)
    assert code == 0
    rep = json.loads((tmp_path / "r.json").read_text())
    # the 3 files of tpkg/unused: --compile=imported (the default) compiles no pyc for them,
    # since importing tpkg never imports tpkg.unused
    assert rep["trace"]["potential_files"] == 3
    assert "would remove 3 more files" in capsys.readouterr().out
    code = run_cli("build", str(req), "--smoke", str(work), "--compile=all",
                   "-o", str(tmp_path / "all.zip"), "--json", str(tmp_path / "all.json"), cwd=tmp_path)
    assert code == 0
    rep = json.loads((tmp_path / "all.json").read_text())
    # with every module compiled: the same 3 files plus the 2 pycs compiled for them
    assert rep["trace"]["potential_files"] == 5
    assert "would remove 5 more files" in capsys.readouterr().out


REASON = sandbox_unavailable(os.environ)


@pytest.mark.sandbox
@pytest.mark.network
@pytest.mark.skipif(REASON is not None, reason=f"no sandbox here: {REASON}")
def test_modules_the_trace_cut_are_reported_not_refused(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 18: without /dev/shm (as on Lambda) joblib never imports its vendored loky, so
    a thread/sequential workload's trace cuts joblib/externals; the deep import check's public
    submodules that need it (joblib.executor) are reported as cut by the trace, and the layer
    builds. The requested package's own import and the workload still pass."""
    (tmp_path / "requirements.txt").write_text("joblib\n")
    work = tmp_path / "work.py"
    work.write_text(
        "from joblib import Parallel, delayed\n"
        "assert Parallel(n_jobs=2, backend='threading')(delayed(pow)(i, 2) for i in range(4))"
        " == [0, 1, 4, 9]\n"
        "assert Parallel(n_jobs=1)(delayed(abs)(-i) for i in range(3)) == [0, 1, 2]\n")
    code = run_cli("build", "requirements.txt", "--trace", str(work), "--smoke", str(work),
                   "-o", str(tmp_path / "l.zip"), "--json", str(tmp_path / "r.json"),
                   cwd=tmp_path)
    out = capsys.readouterr().out
    assert code == 0, out[-3000:]
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["trace"]["applied"] is True and rep["verify"]["status"] == "passed"
    assert rep["verify"]["environment"] == "sandbox"
    names = set(zipfile.ZipFile(tmp_path / "l.zip").namelist())
    assert not any(n.startswith("python/joblib/externals/loky/") for n in names)
    cut = {o["item"]: o["reason"] for o in rep["verify"]["optional_failures"]}
    assert "joblib.executor" in cut, rep["verify"]
    assert all(r.startswith(TRACE_CUT) for r in cut.values()), cut
    assert "rule `trace` removed joblib/externals" in cut["joblib.executor"]
    assert "joblib.executor: " + TRACE_CUT in " ".join(out.split())
    assert all(s["ok"] for s in rep["verify"]["smoke"])


def _sdk_user(tmp_path: Path, name: str, init: str) -> Path:
    """A package that needs the AWS SDK (unpinned: the runtime-provided rule removes it)."""
    house = tmp_path / "house"
    make_wheel(house, name, "1.0", {f"{name}/__init__.py": init, f"{name}/unused/__init__.py": ""},
               requires=("boto3",))
    req = tmp_path / "requirements.txt"
    req.write_text(f"--find-links {house}\n{name}\n")  # boto3 from the index
    return req


@pytest.mark.network
def test_the_trace_runs_against_the_runtime_sdk_floor(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The workload sees the stand-in /var/runtime with the floor SDK, after the layer, as
    verification and Lambda do, never the newer copy the runtime-provided rule removed."""
    req = _sdk_user(tmp_path, "usesboto", "import boto3\n")
    work = tmp_path / "work.py"
    work.write_text(
        "import botocore, boto3, usesboto\n"
        f"assert botocore.__version__ == {FLOOR.botocore!r}, botocore.__file__\n"
        f"assert boto3.__version__ == {FLOOR.boto3!r}, boto3.__file__\n")
    code = run_cli("build", str(req), "--trace", str(work), "-o", str(tmp_path / "l.zip"),
                   "--json", str(tmp_path / "r.json"), "--no-result-cache", cwd=tmp_path)
    out = capsys.readouterr()
    assert code == 0, (out.out + out.err)[-3000:]
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["trace"]["applied"] is True and rep["trace"]["rolled_back"] is None
    names = set(zipfile.ZipFile(tmp_path / "l.zip").namelist())
    assert not any(n.split("/")[1] in ("boto3", "botocore", "s3transfer", "jmespath")
                   for n in names if n.count("/") >= 2)
    assert "python/usesboto/__init__.py" in names
    assert not any(n.startswith("python/usesboto/unused/") for n in names)  # the trace's cut
    # `lambda-slim trace` previews with the same view
    assert run_cli("trace", "--smoke", str(work), str(req), "--json",
                   str(tmp_path / "t.json"), cwd=tmp_path) == 0
    plan = json.loads((tmp_path / "t.json").read_text())["trace_plan"]
    assert "python/usesboto/unused/__init__.py" in {e["path"] for e in plan}


@pytest.mark.network
def test_the_trace_finds_code_needing_a_newer_sdk_than_the_floor(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Amazon S3 Tables arrived in botocore 1.35.72, after the python3.12 floor: a workload
    using it fails in the trace stage against the floor stand-in (exit 5, naming the SDK it
    ran against and the fixes), not on Lambda."""
    req = _sdk_user(tmp_path, "tablesclient", "import botocore.session\n")
    work = tmp_path / "work.py"
    work.write_text("import botocore.session, tablesclient\n"
                    "botocore.session.Session().get_service_model('s3tables')\n")
    code = run_cli("build", str(req), "--trace", str(work), "-o", str(tmp_path / "l.zip"),
                   "--no-result-cache", cwd=tmp_path)
    out = capsys.readouterr()
    text = " ".join((out.out + out.err).split())
    assert code == 5, text[-3000:]
    assert "fails on the rule-pruned layer, before any trace pruning" in text
    assert "UnknownServiceError" in text
    assert f"({FLOOR.describe()}, in /var/runtime)" in text
    assert "--runtime-sdk" in text


def test_a_function_trace_sees_the_functions_layers(tmp_path: Path, tmp_cache: Path,
                                                    run_cli: RunCli, py312: Path) -> None:
    """A --function build's workload sees the --layer-zip layers after the function's own
    folder, as verification and Lambda do: it imports what a layer provides."""
    tpkg(tmp_path)  # the wheelhouse, with tpkg
    house = tmp_path / "house"
    make_wheel(house, "dep", "1.0", {"dep/__init__.py": "X = 1\n"})
    (tmp_path / "l").mkdir()
    layer_req = wheelhouse_requirements(tmp_path / "l" / "requirements.txt", house, "dep")
    assert run_cli("build", str(layer_req), "-q", "-o", str(tmp_path / "layer.zip"),
                   cwd=tmp_path) == 0
    src = tmp_path / "src"
    src.mkdir()
    (src / "main.py").write_text("import dep\n\ndef handler(event, context):\n    return dep.X\n")
    req = wheelhouse_requirements(tmp_path / "requirements.txt", house, "tpkg", "dep")
    work = tmp_path / "work.py"
    work.write_text("import dep, main\nfrom tpkg.used import impl\n"
                    "assert main.handler({}, None) == 1 and impl.score(2) == 4\n")
    code = run_cli("build", str(req), "--function", str(src), "--layer-zip",
                   str(tmp_path / "layer.zip"), "--handler", "main.handler", "--trace", str(work),
                   "-o", str(tmp_path / "fn.zip"), "--json", str(tmp_path / "r.json"),
                   cwd=tmp_path)
    assert code == 0
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["trace"]["applied"] is True
    names = set(zipfile.ZipFile(tmp_path / "fn.zip").namelist())
    assert "main.py" in names and "tpkg/used/impl.py" in names
    assert not any(n.startswith(("tpkg/unused/", "dep/")) for n in names)
