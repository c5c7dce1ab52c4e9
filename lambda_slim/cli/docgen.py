"""The docs' generated tables, made from the declarations in the code.

``python -m lambda_slim.cli.docgen`` rewrites every block between
``<!-- generated: NAME -->`` and ``<!-- end generated: NAME -->`` in ``docs/*.md``;
``--check`` only reports stale blocks (exit 1), which is what the test suite runs. The tables
are never edited by hand: change the declaration (exit codes: ``errors.EXIT_TABLE``; build
options and config keys: ``inputs/settings.py``'s ``SETTINGS``) and run the generator.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import MISSING, fields
from pathlib import Path

from ..artifact.atomic import atomic_write_text
from ..errors import EXIT_TABLE, exit_codes_for
from ..inputs.config import BuildConfig
from ..inputs.settings import SETTINGS, Setting


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


def _default(s: Setting) -> str:
    if s.default_text is not None:
        return s.default_text
    f = _CONFIG_FIELDS.get(s.config_field or "")
    value = f.default if f is not None and f.default is not MISSING else None
    if s.kind in ("flag", "switch"):
        return ("on" if value else "off") if s.flag_value is not False else "on"
    if value in (None, ()):
        return "none"
    if isinstance(value, float) and value.is_integer():
        return f"{value:g}"
    return str(value)


def _type(s: Setting) -> str:
    if s.kind == "int" and s.limits:
        lo, hi = s.limits
        return f"integer {lo}–{hi}" + (f" ({s.unit.split(',')[0]})" if s.unit else "")
    if s.kind == "choice":
        return " / ".join(f"`{c}`" for c in s.choices)
    return _KINDS[s.kind]


_KINDS = {"path": "path", "paths": "list of paths", "text": "string", "texts": "list of strings",
          "flag": "boolean", "switch": "boolean", "int": "integer", "float": "seconds",
          "size": "size (bytes, or `250MiB`, `262MB`)", "choice": "choice"}
_CONFIG_FIELDS = {f.name: f for f in fields(BuildConfig)}


def _flag(s: Setting) -> str:
    if s.name == "disable":
        return "`--no-RULE` / `--RULE`"
    if s.name == "requirements":
        return "`PATH` (argument)"
    return ", ".join(f"`{f.replace('/', ' / ')}`" for f in s.flags) or "—"


def option_table() -> str:
    """``lambda-slim build``'s settings: flag, meaning, default, config key, variable."""
    rows = ["| option | meaning | default | `[tool.lambda-slim]` key | environment | "
            "in the result-cache key |",
            "| --- | --- | --- | --- | --- | --- |"]
    for s in SETTINGS:
        key = f"`{s.key}`" if s.key else "—"
        env = f"`{s.env}`" if s.env else "—"
        cached = "yes" if s.cached else "no"
        rows.append(f"| {_flag(s)} | {_cell(s.help)} | {_cell(_default(s))} | {key} | {env} | "
                    f"{cached} |")
    return "\n".join(rows)


def config_key_table() -> str:
    """The ``[tool.lambda-slim]`` keys (also valid in each ``layers.NAME`` table)."""
    rows = ["| key | type | default | flag | environment |", "| --- | --- | --- | --- | --- |"]
    for s in sorted((s for s in SETTINGS if s.key), key=lambda s: s.key or ""):
        env = f"`{s.env}`" if s.env else "—"
        rows.append(f"| `{s.key}` | {_type(s)} | {_cell(_default(s))} | {_flag(s)} | {env} |")
    return "\n".join(rows)


#: docs page -> block name -> the function that makes the block.
BLOCKS: dict[str, dict[str, Callable[[], str]]] = {
    "exit-codes.md": {"exit-codes": exit_code_table, "exit-codes-by-command": exit_codes_by_command},
    "commands.md": {"build-options": option_table},
    "configuration.md": {"config-keys": config_key_table},
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
