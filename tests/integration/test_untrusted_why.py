"""Issue 19 item 8: ``why`` for a distribution requested as a wheel file (``./dist/x.whl``, a
line pip accepts in a requirements file) names that line, not "no requirement chain"."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.wheels import make_wheel

RunCli = Callable[..., int]


def test_why_names_a_requested_wheel_file_line(tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    dist = tmp_path / "dist"
    make_wheel(dist, "helper", "1.0", {"helper/__init__.py": "H = 1\n"})
    whl = make_wheel(dist, "mytool", "2.0", {"mytool/__init__.py": "import helper\n"},
                     requires=("helper",))
    (tmp_path / "requirements.txt").write_text(
        f"--no-index\n--find-links {dist}\n./dist/{whl.name}\n")
    assert run_cli("build", "-q", "--no-sandbox", "--json", "r.json", cwd=tmp_path) == 0
    capsys.readouterr()
    assert run_cli("why", "mytool", "r.json", cwd=tmp_path) == 0
    out = capsys.readouterr().out
    assert "No requirement chain" not in out
    assert f"./dist/{whl.name}" in out and "remove that line" in out, out
    assert run_cli("why", "helper", "r.json", cwd=tmp_path) == 0
    out = capsys.readouterr().out
    assert "No requirement chain" not in out and "mytool" in out, out
