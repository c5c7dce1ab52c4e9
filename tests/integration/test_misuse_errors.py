"""Issue 11: crashes get their own exit code (70, never 1) and user text is never markup."""

from __future__ import annotations

from pathlib import Path

import pytest

import lambda_slim.cli.check as check_cli
from lambda_slim.cli import main
from lambda_slim.errors import EXIT_CODES, EXIT_INTERNAL, EXIT_TERMINATED


def _boom(*_a: object, **_k: object) -> None:
    raise RuntimeError("kaput [bold]x[/]")


@pytest.mark.parametrize("debug", [None, "env"])
def test_unexpected_exception_exits_70_with_a_report_hint(
        debug: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(check_cli, "check_paths", _boom)
    monkeypatch.delenv("LAMBDA_SLIM_DEBUG", raising=False)
    if debug == "env":
        monkeypatch.setenv("LAMBDA_SLIM_DEBUG", "1")
    code = main(["check", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == EXIT_INTERNAL == 70
    assert "internal error" in err and "RuntimeError: kaput [bold]x[/]" in err
    assert "please report" in err
    assert ("Traceback" in err) == (debug == "env")


def test_build_verbose_shows_the_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    import lambda_slim.cli.build as build_cli

    monkeypatch.setattr(build_cli, "build_config", _boom)
    monkeypatch.delenv("LAMBDA_SLIM_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["build", "-v"]) == 70
    assert "Traceback" in capsys.readouterr().err
    assert main(["build"]) == 70
    assert "Traceback" not in capsys.readouterr().err


def test_exit_codes_documented_in_help_and_readme(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    readme = (Path(__file__).parents[2] / "docs" / "exit-codes.md").read_text()
    for code in (EXIT_INTERNAL, EXIT_TERMINATED):
        assert f"{code:>3}  {EXIT_CODES[code][:20]}" in out
        assert f"| {code} |" in readme


@pytest.mark.parametrize(("line", "shown"), [
    ("six[/x]", "six[/x]"),
    ("pkg[bold red]==1", "pkg[bold red]==1"),
])
def test_requirement_text_is_not_markup(line: str, shown: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "requirements.txt").write_text(line + "\n")
    monkeypatch.chdir(tmp_path)
    assert main(["build", "-q"]) == 2
    err = capsys.readouterr().err
    assert "requirements.txt:1" in err and shown in err
    assert "MarkupError" not in err


def test_path_text_is_not_markup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["build", "nope[/].txt", "-q"]) == 2
    err = capsys.readouterr().err
    assert "nope[/].txt" in err and "does not exist" in err
    assert main(["check", "gone[/x].zip"]) == 2
    assert "gone[/x].zip" in capsys.readouterr().err


def test_config_table_names_are_shown_literally(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "requirements.txt").write_text("six\n")
    (tmp_path / "pyproject.toml").write_text('[tool.lambda-slim]\nruntim = "python3.12"\n')
    monkeypatch.chdir(tmp_path)
    assert main(["build", "-q"]) == 2
    err = capsys.readouterr().err
    assert "[tool.lambda-slim]" in err and "'runtime'" in err
