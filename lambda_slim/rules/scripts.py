"""The ``scripts`` rule: console scripts, whose shebangs point at the build machine."""

from __future__ import annotations

from collections.abc import Iterable

from ..tree.staging import PlanEntry
from .context import PruneContext, Rule


def rule_scripts(ctx: PruneContext) -> Iterable[PlanEntry]:
    for rel, size in ctx.inventory.sizes.items():
        if rel.startswith("bin/"):
            yield PlanEntry(rel, "scripts", size)


RULE = Rule(
    "scripts",
    "bin/ console scripts (their shebangs point at the build machine)",
    rule_scripts,
    order=20,
)
