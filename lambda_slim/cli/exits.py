"""The exit-code part of ``--help``, made from :data:`lambda_slim.errors.EXIT_TABLE`."""

from __future__ import annotations

import textwrap

from ..errors import EXIT_TABLE, exit_codes_for

_WIDTH = 92


def _lines(rows: list[tuple[int, str]]) -> str:
    return "\n".join(textwrap.fill(text, _WIDTH, initial_indent=f"  {code:>3}  ",
                                   subsequent_indent=" " * 7) for code, text in rows)


def exit_code_help(command: str | None = None) -> str:
    """An epilog paragraph (after a blank line) listing the exit codes of ``command`` (every code when None),
    kept unwrapped by click (``\\b``)."""
    rows = ([(c.code, c.summary) for c in EXIT_TABLE] if command is None
            else exit_codes_for(command))
    return "\n\b\nExit codes:\n" + _lines(rows)
