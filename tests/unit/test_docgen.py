"""Exit codes are declared once (``errors.EXIT_TABLE``); ``--help``, every command's epilog and
``docs/exit-codes.md`` are made from it, and this test fails when the docs fall behind."""

from __future__ import annotations

import shutil
from pathlib import Path

import click
import pytest

from lambda_slim import errors
from lambda_slim.cli import docgen, main, main_group
from lambda_slim.cli.exits import exit_code_help
from lambda_slim.errors import EXIT_TABLE, ExitCode, exit_codes_for

ROOT = Path(__file__).resolve().parents[2]


def test_generated_docs_tables_match_the_code() -> None:
    stale = docgen.stale_pages(ROOT / "docs", write=False)
    assert stale == [], (f"{[p.name for p in stale]} disagree with the code: run "
                         "`python -m lambda_slim.cli.docgen` and commit the result")


def test_every_exit_code_constant_is_in_the_table_once() -> None:
    constants = {v for k, v in vars(errors).items() if k.startswith("EXIT_") and isinstance(v, int)}
    codes = [c.code for c in EXIT_TABLE]
    names = [c.name for c in EXIT_TABLE]
    assert sorted(codes) == sorted(constants) and len(set(codes)) == len(codes)
    assert len(set(names)) == len(names)
    for cls in (errors.InputError, errors.ResolveError, errors.NativeError, errors.VerifyError,
                errors.ToolMissingError, errors.AwsError):
        assert cls.exit_code in codes


def test_every_command_declares_its_exit_codes_and_its_help_shows_them() -> None:
    declared = {cmd for c in EXIT_TABLE for cmd in c.commands}
    ctx = click.Context(main_group)
    for name, command in main_group.commands.items():
        assert name in declared, (
            f"`lambda-slim {name}` has no entry in errors.EXIT_TABLE: add what each code it "
            f"returns means for it (at least {errors.EXIT_OK}) and end its epilog with "
            f"exit_code_help({name!r})")
        assert errors.EXIT_OK in dict(exit_codes_for(name))
        assert (command.epilog or "").endswith(exit_code_help(name)), name
        text = command.get_help(click.Context(command, info_name=name, parent=ctx))
        for code, _ in exit_codes_for(name):
            assert f"{code:>3}  " in text, (name, code)


def test_the_top_level_help_lists_every_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for c in EXIT_TABLE:
        assert f"{c.code:>3}  {c.summary[:30]}" in out


def test_a_changed_declaration_makes_the_docs_stale(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    changed = (*EXIT_TABLE, ExitCode(9, "new-code", "a new code", "a new code for the docs",
                                     {"build": "new"}))
    monkeypatch.setattr(docgen, "EXIT_TABLE", changed)
    assert docgen.main([str(tmp_path / "docs"), "--check"]) == 1
    assert docgen.main([str(tmp_path / "docs")]) == 0
    page = (tmp_path / "docs" / "exit-codes.md").read_text()
    assert "| 9 | `new-code` | a new code for the docs |" in page
    assert docgen.main([str(tmp_path / "docs"), "--check"]) == 0


def test_a_page_without_its_markers_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "exit-codes.md").write_text("# Exit codes\n\n| code | meaning |\n")
    with pytest.raises(ValueError, match="generated: exit-codes"):
        docgen.stale_pages(tmp_path, write=False)
