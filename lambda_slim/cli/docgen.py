"""The docs' generated tables, made from the declarations in the code.

``python -m lambda_slim.cli.docgen`` rewrites every block between
``<!-- generated: NAME -->`` and ``<!-- end generated: NAME -->`` in ``docs/*.md``;
``--check`` only reports stale blocks (exit 1), which is what the test suite runs. The tables
are never edited by hand: change the declaration (for exit codes, ``errors.EXIT_TABLE``) and
run the generator.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ..artifact.atomic import atomic_write_text
from ..errors import EXIT_TABLE, exit_codes_for


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def commands() -> list[str]:
    """The registered commands, in the order ``lambda-slim --help`` lists them."""
    from . import main_group

    return sorted(main_group.commands)


def exit_code_table() -> str:
    rows = ["| code | name | meaning |", "| ---: | --- | --- |"]
    rows += [f"| {c.code} | `{c.name}` | {_cell(c.meaning)} |" for c in EXIT_TABLE]
    return "\n".join(rows)


def exit_codes_by_command() -> str:
    every = [c.code for c in EXIT_TABLE if c.every_command]
    rows = ["| command | exit codes |", "| --- | --- |"]
    for cmd in commands():
        own = [str(code) for code, _ in exit_codes_for(cmd) if code not in every]
        rows.append(f"| `lambda-slim {cmd}` | {', '.join(own)} |")
    return "\n".join(rows)


#: docs page -> block name -> the function that makes the block.
BLOCKS: dict[str, dict[str, Callable[[], str]]] = {
    "exit-codes.md": {"exit-codes": exit_code_table, "exit-codes-by-command": exit_codes_by_command},
}


def _block(name: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- generated: {re.escape(name)} -->\n)(.*?)(<!-- end generated: "
                      rf"{re.escape(name)} -->)", re.S)


def render(page: str, text: str) -> str:
    """``text`` of docs page ``page`` with every generated block made afresh."""
    for name, make in BLOCKS.get(page, {}).items():
        pattern = _block(name)
        m = pattern.search(text)
        if m is None:
            raise ValueError(f"docs/{page} lacks the markers of the generated block {name!r}: "
                             f"<!-- generated: {name} --> … <!-- end generated: {name} -->")
        text = text[:m.start(2)] + make() + "\n" + text[m.end(2):]
    return text


def stale_pages(docs: Path, *, write: bool) -> list[Path]:
    """The pages whose generated blocks differ from the code (rewritten when ``write``)."""
    stale: list[Path] = []
    for page in BLOCKS:
        path = docs / page
        text = path.read_text(encoding="utf-8")
        fresh = render(page, text)
        if fresh != text:
            stale.append(path)
            if write:
                atomic_write_text(path, fresh)
    return stale


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    docs = Path(next((a for a in args if not a.startswith("--")), "docs"))
    stale = stale_pages(docs, write=not check)
    for path in stale:
        print(f"{path}: {'out of date' if check else 'updated'}")
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
