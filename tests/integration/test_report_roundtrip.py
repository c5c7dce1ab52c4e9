"""``report --html`` reads a real build's JSON back into the typed report and draws the same
page the build drew: every section (here the over-budget options) survives the round trip."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from lambda_slim.errors import EXIT_OK, EXIT_OVER_BUDGET
from tests.unit.test_report_files_html import embedded


def test_report_html_from_the_json_is_the_page_the_build_drew(
    project: Path, tmp_path: Path, run_cli: Callable[..., int]
) -> None:
    r, page = tmp_path / "r.json", tmp_path / "build.html"
    assert run_cli("build", str(project), "-o", str(tmp_path / "l.zip"), "--json", str(r),
                   "--html", str(page), "--budget", "10", "-q", cwd=tmp_path) == EXIT_OVER_BUDGET
    doc = json.loads(r.read_text())
    options = {o["option"]: o for o in doc["over_budget_options"]}
    assert options["container image"]["enough"] is True and "overflow" in options
    again = tmp_path / "again.html"
    assert run_cli("report", str(r), "--html", str(again), "-q") == EXIT_OK
    assert again.read_text() == page.read_text()
    assert embedded(again.read_text()) == doc
