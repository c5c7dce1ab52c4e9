"""Named pruning rules, one module each, and their registry.

A rule is a module that defines ``RULE = Rule(name, help, plan_fn, order=...)``; registering
it is one line in :data:`REGISTRY`. ``plan_fn(ctx)`` yields :class:`PlanEntry` objects
(paths relative to the layer's ``python/`` folder) and never touches the tree: the plan is
shown by ``--dry-run``, applied reversibly by :class:`~lambda_slim.tree.staging.Staging`,
and recorded in the removal manifest.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import InputError
from ..suggest import did_you_mean
from . import (
    bytecode,
    dist_info,
    gpu,
    runtime_provided,
    scripts,
    sources,
    strip,
    test_modules,
    tests,
    unloadable,
)
from .context import PruneContext, Rule

#: Every rule, in the order they are listed (help, reports). Register a new rule here.
REGISTRY: tuple[Rule, ...] = (
    bytecode.RULE,
    dist_info.RULE,
    tests.RULE,
    test_modules.RULE,
    sources.RULE,
    runtime_provided.RULE,
    gpu.RULE,
    scripts.RULE,
    strip.RULE,
    unloadable.RULE,
)

RULES_BY_NAME: dict[str, Rule] = {r.name: r for r in REGISTRY}
#: Rule name -> one-line description (``--no-<rule>`` help, ``--dry-run``, reports).
RULES: dict[str, str] = {r.name: r.help for r in REGISTRY}
#: Application order: whole distributions first, so no other rule claims their files.
RULE_ORDER: tuple[str, ...] = tuple(r.name for r in sorted(REGISTRY, key=lambda r: r.order))


def validate_rules(names: Iterable[str]) -> None:
    for n in names:
        if n not in RULES:
            raise InputError(
                f"Unknown pruning rule {n!r}.{did_you_mean(n, list(RULES))}",
                hint=f"Rules: {', '.join(RULES)}.",
            )


__all__ = ["REGISTRY", "RULES", "RULES_BY_NAME", "RULE_ORDER", "PruneContext", "Rule",
           "validate_rules"]
