"""The ``runtime-provided`` rule: distributions the Lambda runtime already ships."""

from __future__ import annotations

from collections.abc import Iterable

from ..target.runtimes import RUNTIME_PROVIDED
from ..tree.staging import PlanEntry
from .context import PruneContext, Rule


def rule_runtime_provided(ctx: PruneContext) -> Iterable[PlanEntry]:
    inv = ctx.inventory
    for name in sorted(RUNTIME_PROVIDED & set(inv.dists) - ctx.requested):
        for rel in inv.dists[name].files:
            yield PlanEntry(rel, "runtime-provided", inv.sizes[rel])


RULE = Rule(
    "runtime-provided",
    "boto3, botocore, s3transfer, jmespath when only pulled in as "
    "dependencies (the Lambda runtime ships them)",
    rule_runtime_provided,
    order=10,
)
