"""Issue 11, "tests that were missing": behaviour that could break with the suite still green.

Each test runs the real CLI and asserts something that fails when the feature breaks:
exit 1 over budget, the *.libs exclusion of strip (byte-identical), build --all,
LAMBDA_SLIM_* variables, --keep, --python and --trace-granularity.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.wheels import make_wheel, wheelhouse_requirements

RunCli = Callable[..., int]


def _names(z: Path) -> set[str]:
    with zipfile.ZipFile(z) as zf:
        return set(zf.namelist())


@pytest.fixture
def house(tmp_path: Path) -> Path:
    h = tmp_path / "house"
    make_wheel(h, "tiny", "1.0", {
        "tiny/__init__.py": "from . import used\n",
        "tiny/used.py": "U = 1\n",
        "tiny/unused.py": "X = 1\n",
        "tiny/sub/__init__.py": "S = 1\n",
        "tiny/tests/test_tiny.py": "def test(): pass\n",
    })
    make_wheel(h, "other", "2.0", {"other/__init__.py": "O = 2\n"})
    return h


def test_build_over_budget_exits_1_and_writes_the_zip(
        tmp_path: Path, house: Path, tmp_cache: Path, run_cli: RunCli,
        capsys: pytest.CaptureFixture[str]) -> None:
    wheelhouse_requirements(tmp_path / "requirements.txt", house, "tiny")
    assert run_cli("build", "-q", "--budget", "100", cwd=tmp_path) == 1
    out = capsys.readouterr().out
    assert "OVER BUDGET" in out and "> 100 " in out
    assert "python/tiny/used.py" in _names(tmp_path / "layer.zip")
    assert run_cli("build", "-q", "--budget", "1GiB", cwd=tmp_path) == 0


def test_keep_protects_paths_from_every_rule(tmp_path: Path, house: Path, tmp_cache: Path,
                                             run_cli: RunCli) -> None:
    wheelhouse_requirements(tmp_path / "requirements.txt", house, "tiny")
    assert run_cli("build", "-q", "--no-compile", cwd=tmp_path) == 0
    assert "python/tiny/tests/test_tiny.py" not in _names(tmp_path / "layer.zip")
    assert run_cli("build", "-q", "--no-compile", "--keep", "tiny/tests/*", cwd=tmp_path) == 0
    assert "python/tiny/tests/test_tiny.py" in _names(tmp_path / "layer.zip")


def test_python_flag_picks_the_interpreter(tmp_path: Path, house: Path, tmp_cache: Path,
                                           py312: Path, run_cli: RunCli,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    wheelhouse_requirements(tmp_path / "requirements.txt", house, "tiny")
    link = tmp_path / "bin" / "my-python"
    link.parent.mkdir()
    link.symlink_to(py312)
    assert run_cli("build", "-q", "--python", str(link), "--json", "r.json", cwd=tmp_path) == 0
    assert f"imported with {link}" in capsys.readouterr().out
    assert run_cli("build", "-q", "--python", str(tmp_path / "nope"), cwd=tmp_path) in (2, 6)
    assert "nope" in capsys.readouterr().err


@pytest.mark.parametrize(("granularity", "gone", "kept"), [
    ("package", {"tiny/sub/__init__.py"}, {"tiny/unused.py", "tiny/used.py"}),
    ("module", {"tiny/sub/__init__.py", "tiny/unused.py"}, {"tiny/used.py"}),
])
def test_trace_granularity_flag(granularity: str, gone: set[str], kept: set[str],
                                tmp_path: Path, house: Path, tmp_cache: Path,
                                run_cli: RunCli, capsys: pytest.CaptureFixture[str]) -> None:
    wheelhouse_requirements(tmp_path / "requirements.txt", house, "tiny")
    (tmp_path / "work.py").write_text("import tiny\nassert tiny.used.U == 1\n")
    code = run_cli("build", "-q", "--no-compile", "--trace", "work.py",
                   "--trace-granularity", granularity, cwd=tmp_path)
    assert code == 0, capsys.readouterr().err
    names = _names(tmp_path / "layer.zip")
    assert not {f"python/{g}" for g in gone} & names
    assert {f"python/{k}" for k in kept} <= names


def test_build_all_builds_every_layer_and_exits_with_the_worst(
        tmp_path: Path, house: Path, tmp_cache: Path, run_cli: RunCli,
        capsys: pytest.CaptureFixture[str]) -> None:
    wheelhouse_requirements(tmp_path / "a.txt", house, "tiny")
    wheelhouse_requirements(tmp_path / "b.txt", house, "other")
    (tmp_path / "pyproject.toml").write_text(
        "[tool.lambda-slim]\ncompile = 'none'\n"
        "[tool.lambda-slim.layers.a]\nrequirements = 'a.txt'\n"
        "[tool.lambda-slim.layers.b]\nrequirements = 'b.txt'\noutput = 'out/b.zip'\n")
    assert run_cli("build", "--all", "-q", cwd=tmp_path) == 0
    assert "python/tiny/used.py" in _names(tmp_path / "a-layer.zip")
    assert _names(tmp_path / "out" / "b.zip") >= {"python/other/__init__.py"}
    (tmp_path / "pyproject.toml").write_text(
        (tmp_path / "pyproject.toml").read_text() + "budget = 10\n")
    capsys.readouterr()
    assert run_cli("build", "--all", "-q", cwd=tmp_path) == 1
    out = capsys.readouterr().out
    assert "layer a" in out and "layer b" in out
    assert run_cli("build", "--all", "--layer", "a", cwd=tmp_path) == 2


def test_lambda_slim_environment_variables(tmp_path: Path, house: Path, tmp_cache: Path,
                                           py312: Path, run_cli: RunCli,
                                           monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    wheelhouse_requirements(tmp_path / "requirements.txt", house, "tiny")
    monkeypatch.setenv("LAMBDA_SLIM_RUNTIME", "python3.13")
    monkeypatch.setenv("LAMBDA_SLIM_ARCH", "arm64")
    monkeypatch.setenv("LAMBDA_SLIM_ZIP_LEVEL", "0")
    monkeypatch.setenv("LAMBDA_SLIM_BUDGET", "10")
    monkeypatch.setenv("LAMBDA_SLIM_JOBS", "1")
    assert run_cli("build", "-q", "--no-strip", "--json", "r.json", cwd=tmp_path) == 1
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["target"]["runtime"] == "python3.13" and rep["target"]["arch"] == "arm64"
    assert rep["budget_bytes"] == 10
    with zipfile.ZipFile(tmp_path / "layer.zip") as zf:
        assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_STORED}
    # flags beat the environment
    assert run_cli("build", "-q", "--no-strip", "--budget", "1GiB", "--runtime", "python3.12",
                   "--arch", "x86_64", "--json", "r.json", cwd=tmp_path) == 0
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["target"]["runtime"] == "python3.12" and rep["budget_bytes"] == 1 << 30
    monkeypatch.setenv("LAMBDA_SLIM_PYTHON", str(py312))
    monkeypatch.setenv("LAMBDA_SLIM_RUNTIME", "python3.12")
    monkeypatch.setenv("LAMBDA_SLIM_ARCH", "x86_64")
    capsys.readouterr()
    assert run_cli("build", "-q", "--budget", "1GiB", "--no-result-cache", cwd=tmp_path) == 0
    assert f"imported with {py312}" in capsys.readouterr().out


@pytest.mark.skipif(not (shutil.which("gcc") and shutil.which("strip")), reason="needs gcc")
def test_strip_takes_vendored_libs_that_still_load(tmp_path: Path, tmp_cache: Path,
                                                   run_cli: RunCli) -> None:
    """Vendored ``*.libs/`` libraries are stripped like any other ELF file once the stripped
    copy keeps aligned LOAD segments and loads in place; ``--keep`` still protects one."""
    src = tmp_path / "x.c"
    src.write_text("int answer(void) { return 42; }\nstatic int helper(int a) { return a; }\n"
                   "int use(int a) { return helper(a); }\n")
    so = tmp_path / "libx.so"
    subprocess.run(["gcc", "-g", "-shared", "-fPIC", "-o", str(so), str(src)], check=True)
    data = so.read_bytes()
    house = tmp_path / "house"
    make_wheel(house, "natty", "1.0", {
        "natty/__init__.py": "", "natty/_ext.so": data, "natty.libs/libx-abc.so": data,
        "natty/deep.libs/libdeep.so": data,
    }, tag="py3-none-manylinux2014_x86_64")
    wheelhouse_requirements(tmp_path / "requirements.txt", house, "natty")
    assert run_cli("build", "-q", "--no-compile", "--keep", "natty/deep.libs/*",
                   "--json", "r.json", cwd=tmp_path) == 0
    with zipfile.ZipFile(tmp_path / "layer.zip") as zf:
        vendored = zf.read("python/natty.libs/libx-abc.so")
        assert zf.read("python/natty/deep.libs/libdeep.so") == data  # --keep
        stripped = zf.read("python/natty/_ext.so")
    for got in (stripped, vendored):
        assert len(got) < len(data) and got[:4] == b"\x7fELF"
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["verify"]["status"] == "passed" and not rep["strip_skipped"]
