"""The ``sources`` rule: C/C++/Cython sources, headers, stubs and static archives."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..tree.staging import PlanEntry
from .context import PruneContext, Rule

_SOURCE_SUFFIXES = (".c", ".cc", ".cpp", ".cxx", ".h", ".hh", ".hpp", ".hxx", ".pyx", ".pxd",
                    ".pxi", ".pyi")
_AR_MAGIC = b"!<arch>\n"


def _static_archive(path: Path) -> bool:
    """An ``ar`` archive (``libnpymath.a``): only a C build links it; dlopen cannot load it."""
    try:
        with open(path, "rb") as fh:
            return fh.read(len(_AR_MAGIC)) == _AR_MAGIC
    except OSError:
        return False



def rule_sources(ctx: PruneContext) -> Iterable[PlanEntry]:
    for rel, size in ctx.inventory.sizes.items():
        parts = rel.split("/")
        if parts[0].endswith(".dist-info"):
            continue
        if (rel.endswith(_SOURCE_SUFFIXES) or "include" in parts[1:-1]
                or (rel.endswith(".a") and _static_archive(ctx.inventory.root / rel))):
            yield PlanEntry(rel, "sources", size)


RULE = Rule(
    "sources",
    "C/C++/Cython sources, headers, *.pyi stubs, static *.a archives and include/ folders",
    rule_sources,
    order=60,
)
