"""``report``, ``diff`` and ``why`` on bad input: clear messages, documented exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambda_slim.cli import main
from lambda_slim.errors import EXIT_CODES, EXIT_GROWTH, EXIT_OVER_BUDGET, EXIT_USAGE


def test_growth_has_its_own_exit_code() -> None:
    assert EXIT_GROWTH not in (EXIT_OVER_BUDGET, EXIT_USAGE) and EXIT_GROWTH in EXIT_CODES


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


def test_build_html_checks_its_folder_before_any_work(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "requirements.txt").write_text("six==1.17.0\n")
    code = main(["build", str(tmp_path / "requirements.txt"), "-o", str(tmp_path / "l.zip"),
                 "--html", str(tmp_path / "nope" / "r.html")])
    assert code == EXIT_USAGE
    assert "nope" in capsys.readouterr().err and not (tmp_path / "l.zip").exists()


def test_build_html_with_all_or_dry_run_is_refused(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "--all", "--html", str(tmp_path / "r.html")]) == EXIT_USAGE
    assert "--all" in capsys.readouterr().err
    assert main(["build", "--dry-run", "--html", str(tmp_path / "r.html")]) == EXIT_USAGE
    assert "--dry-run" in capsys.readouterr().err
