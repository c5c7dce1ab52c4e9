"""The ``bytecode`` rule: compiled files of the build machine's Python."""

from __future__ import annotations

from collections.abc import Iterable

from ..tree.staging import PlanEntry
from .context import PruneContext, Rule


def rule_bytecode(ctx: PruneContext) -> Iterable[PlanEntry]:
    for rel, size in ctx.inventory.sizes.items():
        parts = rel.split("/")
        if "__pycache__" in parts[:-1] or rel.endswith((".pyc", ".pyo")):
            yield PlanEntry(rel, "bytecode", size)


RULE = Rule(
    "bytecode",
    "__pycache__ folders, *.pyc, *.pyo (recompiled for the target by --compile)",
    rule_bytecode,
    order=30,
)
