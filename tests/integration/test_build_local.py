"""Real builds (real pip, real strip, real python3.12) of tiny wheels made in the test."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.wheels import make_wheel, wheelhouse_requirements

RunCli = Callable[..., int]


def demo_wheels(house: Path, init: str = "from . import core\n") -> None:
    make_wheel(house, "demo", "1.0", {
        "demo/__init__.py": init,
        "demo/core.py": "VALUE = 42\n",
        "demo/testing.py": "from demo.core import VALUE\n",
        "demo/tests/__init__.py": "",
        "demo/tests/fixtures.py": "FIXTURE = 'f'\n",
        "demo/tests/test_core.py": "def test(): assert True\n" * 50,
        "demo/_speedups.c": "int x;\n" * 100,
        "demo/core.pyi": "VALUE: int\n",
        "demo/extra.py": "import not_installed_anywhere\n",
    }, requires=("helper",))
    make_wheel(house, "helper", "2.0", {"helper.py": "import botocore\nH = 1\n"},
               requires=("botocore",))
    make_wheel(house, "botocore", "1.0.0", {"botocore/__init__.py": "B = 1\n",
                                            "botocore/data/big.json": "{}" * 5000})


def test_golden_layer(tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path) -> None:
    house = tmp_path / "house"
    demo_wheels(house)
    req = wheelhouse_requirements(tmp_path / "requirements.txt", house, "demo")
    out = tmp_path / "layer.zip"
    code = run_cli("build", str(req), "-o", str(out), "--json", str(tmp_path / "r.json"),
                   "--no-compile", cwd=tmp_path)
    assert code == 0
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
    assert names == [
        "python/demo-1.0.dist-info/METADATA",
        "python/demo-1.0.dist-info/licenses/LICENSE",
        "python/demo/__init__.py",
        "python/demo/core.py",
        "python/demo/extra.py",
        "python/demo/testing.py",
        "python/helper-2.0.dist-info/METADATA",
        "python/helper-2.0.dist-info/licenses/LICENSE",
        "python/helper.py",
    ]
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["schema_version"] == 1
    assert report["target"] == {"runtime": "python3.12", "arch": "x86_64", "python": "3.12",
                                "glibc": "2.34", "os": "Amazon Linux 2023"}
    assert {w["name"] for w in report["resolved"]} == {"demo", "helper", "botocore"}
    assert all(len(w["sha256"]) == 64 for w in report["resolved"])
    rules = {r["name"]: r for r in report["rules"]}
    assert rules["runtime-provided"]["files"] >= 6  # all of botocore: only a dependency
    assert rules["tests"]["files"] == 3 and rules["sources"]["files"] == 2
    assert report["verify"]["status"] == "passed"
    # helper imports botocore: verified against the runtime's copy, not a failure
    assert not report["verify"]["failures"]
    assert [o["item"] for o in report["verify"]["optional_failures"]] == ["demo.extra"]
    assert report["final_bytes"] == sum(i.file_size for i in zipfile.ZipFile(out).infolist())
    pkgs = {p["name"]: p for p in report["packages"]}
    assert pkgs["botocore"]["final_bytes"] == 0
    manifest = json.loads((tmp_path / "layer.manifest.json").read_text())
    removed = {e["path"]: e["rule"] for e in manifest["removed"]}
    assert removed["python/demo/tests/test_core.py"] == "tests"
    assert removed["python/botocore/data/big.json"] == "runtime-provided"
    assert manifest["zip_sha256"] == report["zip_sha256"]


def test_rebuild_is_byte_identical(tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
                                   py312: Path) -> None:
    house = tmp_path / "house"
    demo_wheels(house)
    req = wheelhouse_requirements(tmp_path / "requirements.txt", house, "demo")
    reports = []
    # b: a real second build (not the result cache); c: served by the result cache
    for name, extra in (("a.zip", ()), ("b.zip", ("--no-result-cache",)), ("c.zip", ())):
        assert run_cli("build", str(req), "-o", str(tmp_path / name), "--json",
                       str(tmp_path / f"{name}.json"), *extra, cwd=tmp_path) == 0
        reports.append(json.loads((tmp_path / f"{name}.json").read_text()))
    assert reports[0]["zip_sha256"] == reports[1]["zip_sha256"] == reports[2]["zip_sha256"]
    assert not reports[1].get("cached") and reports[2]["cached"] is True
    assert "install" in reports[1]["timings"] and "install" not in reports[2]["timings"]
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    assert (tmp_path / "c.manifest.json").read_text() == (tmp_path / "a.manifest.json").read_text()
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        pycs = [n for n in zf.namelist() if n.endswith(".cpython-312.pyc")]
        assert "python/demo/__pycache__/core.cpython-312.pyc" in pycs
        head = zf.read("python/demo/__pycache__/core.cpython-312.pyc")[:8]
        assert int.from_bytes(head[4:8], "little") == 0b01  # unchecked-hash pyc


def test_culprit_is_named_then_repaired(tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
                                        py312: Path, capsys: pytest.CaptureFixture[str]) -> None:
    house = tmp_path / "house"
    # a runtime import of a module inside tests/ that no static scan can see
    demo_wheels(house, init="import importlib\n"
                "FIX = importlib.import_module('demo.' + 'tests.fixtures')\n")
    req = wheelhouse_requirements(tmp_path / "requirements.txt", house, "demo")
    out = tmp_path / "layer.zip"
    code = run_cli("build", str(req), "-o", str(out), "--no-compile", cwd=tmp_path)
    err = capsys.readouterr().err
    assert code == 5
    assert "rule `tests` removed demo/tests/fixtures.py, imported by demo" in err
    assert "--repair" in err
    assert not out.exists()
    code = run_cli("build", str(req), "-o", str(out), "--no-compile", "--repair",
                   "--json", str(tmp_path / "r.json"), cwd=tmp_path)
    assert code == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["verify"]["status"] == "repaired"
    culprits = {c["path"] for c in report["verify"]["culprits"]}
    assert culprits == {"demo/tests/fixtures.py"}  # tests/ works as a namespace package
    with zipfile.ZipFile(out) as zf:
        assert "python/demo/tests/fixtures.py" in zf.namelist()
        assert "python/demo/tests/test_core.py" not in zf.namelist()


def test_smoke_script_runs_against_layer(tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
                                         py312: Path, capsys: pytest.CaptureFixture[str]) -> None:
    house = tmp_path / "house"
    demo_wheels(house)
    req = wheelhouse_requirements(tmp_path / "requirements.txt", house, "demo")
    good = tmp_path / "smoke.py"
    good.write_text("import demo, sys\nassert demo.core.VALUE == 42\n"
                    "assert 'site' not in sys.modules or True\n")
    assert run_cli("build", str(req), "-o", str(tmp_path / "l.zip"), "--smoke", str(good),
                   "--json", str(tmp_path / "r.json"), cwd=tmp_path) == 0
    assert json.loads((tmp_path / "r.json").read_text())["verify"]["smoke"][0]["ok"] is True
    bad = tmp_path / "bad_smoke.py"
    bad.write_text("import demo\nraise SystemExit('score mismatch')\n")
    code = run_cli("build", str(req), "-o", str(tmp_path / "l2.zip"), "--smoke", str(bad),
                   cwd=tmp_path)
    assert code == 5
    err = capsys.readouterr().err
    assert "bad_smoke.py" in err and "even with nothing pruned" in err
    assert "score mismatch" in err
    assert "score mismatch" in err


def test_dry_run_changes_nothing(tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    house = tmp_path / "house"
    demo_wheels(house)
    req = wheelhouse_requirements(tmp_path / "requirements.txt", house, "demo")
    code = run_cli("build", str(req), "-o", str(tmp_path / "l.zip"), "--dry-run", "-v",
                   cwd=tmp_path)
    out = capsys.readouterr().out
    assert code == 0
    assert "python/demo/tests/test_core.py" in out and "dry run" in out
    assert not (tmp_path / "l.zip").exists()
    assert not (tmp_path / "l.manifest.json").exists()


def test_rebuild_needs_no_index(tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
                                py312: Path) -> None:
    """Once resolved, the same requirements rebuild from the wheel cache alone."""
    import shutil

    house = tmp_path / "house"
    demo_wheels(house)
    req = wheelhouse_requirements(tmp_path / "requirements.txt", house, "demo")
    assert run_cli("build", str(req), "-o", str(tmp_path / "a.zip"), "-q", cwd=tmp_path) == 0
    shutil.rmtree(house)  # the only "index" is gone: pip could not resolve now
    assert run_cli("build", str(req), "-o", str(tmp_path / "b.zip"), "-q",
                   "--no-result-cache", cwd=tmp_path) == 0
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    # --refresh runs pip again; the wheel cache is itself a find-links source for it
    assert run_cli("build", str(req), "-o", str(tmp_path / "c.zip"), "-q", "--refresh",
                   cwd=tmp_path) == 0
    assert (tmp_path / "c.zip").read_bytes() == (tmp_path / "a.zip").read_bytes()
