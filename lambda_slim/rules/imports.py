"""Which modules a Python file's import statements name, read statically (rules that keep
a file some runtime code imports use it)."""

from __future__ import annotations

import re
from collections.abc import Iterator

_IMPORT = re.compile(r"^\s*(?:from\s+(\.*)([\w.]*)\s+import\s+([\w, ()]+)|import\s+([\w., ]+))",
                     re.M)


def imported_names(rel: str, text: str) -> Iterator[str]:
    """The dotted names the imports in ``text`` (the file at layer-relative ``rel``) may
    load: each ``import a.b`` target, each ``from M import x`` module and ``M.x`` (``x`` may
    be a submodule), relative imports resolved against ``rel``'s package."""
    pkg = rel.split("/")[:-1]
    for m in _IMPORT.finditer(text):
        dots, mod, names, plain = m.group(1), m.group(2), m.group(3), m.group(4)
        if plain:
            for name in plain.split(","):
                yield name.strip().split(" ")[0]
            continue
        if dots:
            up = len(dots) - 1
            if up > len(pkg):
                continue
            base = pkg[: len(pkg) - up] if up else pkg
            mod = ".".join([*base, mod] if mod else base)
        yield mod
        for name in (names or "").replace("(", " ").replace(")", " ").split(","):
            name = name.strip().split(" ")[0]
            if name:
                yield f"{mod}.{name}"
