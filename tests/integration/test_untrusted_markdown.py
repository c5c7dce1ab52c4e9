"""Issue 19 item 6: what a pull request can change (names, versions, paths in reports and zips)
reaches ``diff --markdown`` and ``check``'s job summary as inert text: no heading, mention, link,
HTML or extra table cell, and paths in code spans exactly as they are."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

RunCli = Callable[..., int]
HOSTILE = "tiny\n### pwned @everyone [click](https://evil.example) <img src=x onerror=alert(1)> a|b `x`"


def _cells(row: str) -> int:
    """Cells of a GFM table row: pipes not escaped by a backslash."""
    return row.replace("\\|", "").count("|") - 1


def test_diff_markdown_escapes_every_value_and_shows_paths_verbatim(
        project: Path, run_cli: RunCli, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("build", "-q", "--json", "base_report.json", cwd=project) == 0
    doc = json.loads((project / "base_report.json").read_text())
    doc["packages"][0]["name"] = HOSTILE
    doc["packages"][0]["version"] = "1.0\n@org/team"
    (project / "pr_report.json").write_text(json.dumps(doc))
    capsys.readouterr()
    assert run_cli("diff", "base_report.json", "pr_report.json", "--markdown",
                   "--title", "size <b>diff</b>\n# of @me", cwd=project) == 0
    md = capsys.readouterr().out
    lines = md.splitlines()
    assert [ln for ln in lines if ln.startswith("#")] == [lines[0]]  # only the title's heading
    assert "@everyone" not in md and "@org" not in md and "@me" not in md  # no mention
    assert "<img" not in md and "<b>" not in md and "](https://evil" not in md
    assert "`base_report.json` → `pr_report.json`" in md  # verbatim, no backslashes
    header = next(ln for ln in lines if ln.startswith("| distribution"))
    for row in (ln for ln in lines if ln.startswith("| ") and "tiny" in ln):
        assert _cells(row) == _cells(header), row


def test_check_summary_escapes_paths_in_table_cells(
        project: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_cli("build", "-q", "-o", "layer.zip", cwd=project) == 0
    odd = project / "my_layer|v1 `x` @team.zip"
    shutil.copy(project / "layer.zip", odd)
    summary = project / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert run_cli("check", str(odd), cwd=project) == 0
    lines = summary.read_text().splitlines()
    header = next(ln for ln in lines if ln.startswith("| path"))
    row = next(ln for ln in lines if "my_layer" in ln)
    assert _cells(row) == _cells(header), row
    assert "``my_layer\\|v1 `x` @team.zip``" in row.replace(str(project) + "/", "")
