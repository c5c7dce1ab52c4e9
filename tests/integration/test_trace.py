"""Trace-guided pruning for real: tiny wheels, a real python3.12 under the audit hook."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.wheels import make_wheel, wheelhouse_requirements

RunCli = Callable[..., int]


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
