"""The ``sources`` rule: C/C++/Cython sources, headers and stubs."""

from __future__ import annotations

from collections.abc import Iterable

from ..tree.staging import PlanEntry
from .context import PruneContext, Rule

_SOURCE_SUFFIXES = (".c", ".cc", ".cpp", ".cxx", ".h", ".hh", ".hpp", ".hxx", ".pyx", ".pxd",
                    ".pxi", ".pyi")



def rule_sources(ctx: PruneContext) -> Iterable[PlanEntry]:
    for rel, size in ctx.inventory.sizes.items():
        parts = rel.split("/")
        if parts[0].endswith(".dist-info"):
            continue
        if rel.endswith(_SOURCE_SUFFIXES) or "include" in parts[1:-1]:
            yield PlanEntry(rel, "sources", size)


RULE = Rule(
    "sources",
    "C/C++/Cython sources, headers, *.pyi stubs and include/ folders",
    rule_sources,
    order=60,
)
