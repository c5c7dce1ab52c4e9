"""``build --overflow`` for real: tiny wheels made in the test, a budget they exceed, the
packed layer started as Lambda's bootstrap.py starts it (in the sandbox where the machine
allows it); and issue 15's second target with the real PyPI stack."""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from lambda_slim.artifact.overflow import BOOT_MODULE, FOLDER, PTH_NAME
from lambda_slim.target.sandbox import sandbox_unavailable
from tests.wheels import make_wheel, wheelhouse_requirements

RunCli = Callable[..., int]
LIMIT = 262_144_000


def _house(tmp: Path) -> Path:
    house = tmp / "house"
    blob = (os.urandom(2048) + b"overflow " * 4000) * 60  # ~2.3 MB, compresses well
    make_wheel(house, "heavy", "1.0", {
        "heavy/__init__.py": "from .core import size\n",
        "heavy/core.py": "import os\ndef size():\n    return os.path.getsize("
                         "os.path.join(os.path.dirname(__file__), 'blob.bin'))\n",
        "heavy/blob.bin": blob,
    })
    make_wheel(house, "light", "1.0", {"light.py": "import heavy\nN = heavy.size()\n"},
               requires=("heavy",))
    make_wheel(house, "starter", "1.0", {"starter/__init__.py": "X = 1\n",
                                         "starter/data.bin": blob})
    return house


def test_overflow_packs_what_start_does_not_need_and_starts_like_lambda(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    req = wheelhouse_requirements(tmp_path / "requirements.txt", _house(tmp_path),
                                  "light", "starter")
    smoke = tmp_path / "smoke.py"
    smoke.write_text("import starter\nassert starter.X == 1\n")
    out = tmp_path / "layer.zip"
    code = run_cli("build", str(req), "-o", str(out), "--json", str(tmp_path / "r.json"),
                   "--budget", "3MB", "--overflow", "--smoke", str(smoke), cwd=tmp_path)
    printed = capsys.readouterr().out
    assert code == 0, printed
    rep = json.loads((tmp_path / "r.json").read_text())
    ov = rep["overflow"]
    assert [p["name"] for p in ov["packed"]] == ["heavy"]
    assert ov["excluded"]["starter"] == "the --smoke run imports starter at start"
    assert ov["startup_modules"] and "starter" in ov["startup_modules"]
    assert ov["fits"] and rep["final_bytes"] <= 3_000_000 < ov["before_bytes"]
    assert ov["verified"] and ov["init_ms_with"] > 0 and ov["init_ms_without"] > 0
    expected = "sandbox" if sandbox_unavailable(dict(os.environ)) is None else "host"
    assert ov["environment"] == expected
    assert ov["ephemeral"]["fits_default"] and ov["ephemeral"]["needed_bytes"] > 2_000_000
    assert "overflow: init" in printed and "before the first import" in printed
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        assert f"python/{PTH_NAME}" in names and f"python/{BOOT_MODULE}.py" in names
        assert f"python/{FOLDER}/heavy.zip" in names and f"python/{FOLDER}/manifest.json" in names
        assert not any(n.startswith("python/heavy/") for n in names)
        assert any(n.startswith("python/heavy-1.0.dist-info/") for n in names)
        assert "python/starter/data.bin" in names
    manifest = json.loads((tmp_path / "layer.manifest.json").read_text())
    assert manifest["overflow"]["packed"][0]["archive"] == f"{FOLDER}/heavy.zip"


def test_overflow_that_cannot_fit_says_so_and_exits_1(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    req = wheelhouse_requirements(tmp_path / "requirements.txt", _house(tmp_path), "starter")
    smoke = tmp_path / "smoke.py"
    smoke.write_text("import starter\n")
    code = run_cli("build", str(req), "-o", str(tmp_path / "layer.zip"), "--json",
                   str(tmp_path / "r.json"), "--budget", "1MB", "--overflow", "--smoke",
                   str(smoke), cwd=tmp_path)
    assert code == 1
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["overflow"]["packed"] == [] and not rep["overflow"]["fits"]
    assert "overflow: nothing could be packed" in capsys.readouterr().out


@pytest.mark.slow
def test_issue_target_a_stack_twice_the_limit_fits_with_overflow(
        tmp_path: Path, run_cli: RunCli, py312: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 15's second target, verified as Lambda starts it, init time with and without."""
    # its own big build: a larger stack than the shared seed build, over Lambda's limit
    req = tmp_path / "requirements.txt"
    req.write_text("xgboost-cpu\npandas\nnumpy\nscipy\njoblib\nscikit-learn\npyarrow\n"
                   "statsmodels\n")
    code = run_cli("build", str(req), "-o", str(tmp_path / "layer.zip"), "--json",
                   str(tmp_path / "r.json"), "--overflow", cwd=tmp_path)
    printed = capsys.readouterr().out
    assert code == 0, printed
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["final_bytes"] <= LIMIT < rep["overflow"]["before_bytes"]
    assert rep["verify"]["status"] == "passed" and rep["overflow"]["verified"]
    assert rep["overflow"]["init_ms_without"] > 0 and rep["overflow"]["init_ms_with"] > 0
    assert "overflow: init" in printed


def test_over_budget_prints_ranked_options_with_measured_bytes(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    req = wheelhouse_requirements(tmp_path / "requirements.txt", _house(tmp_path),
                                  "light", "starter")
    code = run_cli("build", str(req), "-o", str(tmp_path / "layer.zip"), "--json",
                   str(tmp_path / "r.json"), "--budget", "3MB", cwd=tmp_path)
    assert code == 1
    printed = capsys.readouterr().out
    assert "options, measured" in printed
    opts = json.loads((tmp_path / "r.json").read_text())["over_budget_options"]
    by = {o["option"]: o for o in opts}
    assert opts[-1]["option"] == "container image"
    assert by["overflow"]["enough"] and by["overflow"]["bytes"] > 1_000_000
    assert "would pack heavy" in by["overflow"]["detail"]
    assert "unpacking took" in by["overflow"]["detail"]
    second = [o for o in opts if o["option"] == "second function"]
    assert {o["how"] for o in second} == {"move light to another function",
                                          "move starter to another function"}
    light = next(o for o in second if "light" in o["how"])
    assert "heavy" in light["detail"] and light["bytes"] > 2_000_000  # light takes heavy along
    sizes = [o["bytes"] for o in opts[:-1]]
    assert sizes == sorted(sizes, reverse=True)
