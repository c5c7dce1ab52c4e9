"""``report``, ``diff`` and ``why`` on bad input: clear messages, documented exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambda_slim.cli import main
from lambda_slim.errors import EXIT_USAGE


@pytest.mark.parametrize(("content", "needle"), [
    (None, "does not exist"),
    ("not json", "Cannot read the report"),
    ('{"paths": [], "verdict": "pass"}', "is not a build report"),
])
def test_report_rejects_what_is_not_a_build_report(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   content: str | None, needle: str) -> None:
    p = tmp_path / "r.json"
    if content is not None:
        p.write_text(content)
    assert main(["report", str(p), "--html", str(tmp_path / "o.html")]) == EXIT_USAGE
    assert needle in capsys.readouterr().err
    assert not (tmp_path / "o.html").exists()


def test_report_html_refuses_a_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "r.json"
    p.write_text(json.dumps({"packages": [], "final_bytes": 0}))
    assert main(["report", str(p), "--html", str(tmp_path / "nope" / "o.html")]) == EXIT_USAGE
    assert "does not exist" in capsys.readouterr().err
