"""The prune plan: run the enabled rules in their order; ``--keep`` globs protect paths."""

from __future__ import annotations

from collections.abc import Iterable

from ..tree.staging import PlanEntry
from . import RULE_ORDER, RULES_BY_NAME
from .context import PruneContext, is_kept

__all__ = ["is_kept", "make_plan", "summarize", "unmatched_keeps"]


def unmatched_keeps(files: Iterable[str], keep: tuple[str, ...]) -> list[str]:
    """The ``--keep`` globs that match no installed file (a typo protects nothing)."""
    left = list(dict.fromkeys(keep))
    for rel in files:
        if not left:
            break
        left = [g for g in left if not is_kept(rel, (g,))]
    return left


def make_plan(ctx: PruneContext, enabled: Iterable[str], keep: tuple[str, ...]) -> list[PlanEntry]:
    """Run the enabled file rules in their fixed order; a path is claimed by the first rule."""
    enabled = set(enabled)
    claimed: set[str] = set()
    plan: list[PlanEntry] = []
    for rule in RULE_ORDER:
        fn = RULES_BY_NAME[rule].plan
        if fn is None or rule not in enabled:
            continue
        for entry in sorted(fn(ctx), key=lambda e: e.rel):
            if entry.rel in claimed or is_kept(entry.rel, keep):
                continue
            claimed.add(entry.rel)
            plan.append(entry)
    return plan


def summarize(plan: Iterable[PlanEntry]) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for e in plan:
        files, saved = out.get(e.rule, (0, 0))
        out[e.rule] = (files + 1, saved + e.saved)
    return out


