"""The ``runtime-provided`` rule: the AWS SDK the Lambda runtime already ships.

``boto3``, ``botocore``, ``s3transfer`` and ``jmespath`` pulled in only as dependencies are
dropped: the runtime has them in ``/var/runtime``. But a layer's copy on ``/opt/python``
shadows the runtime's (it comes first on ``sys.path``), and the runtime's version is only known
to be at least a floor (:mod:`lambda_slim.target.sdk`). So the SDK stays in the layer, all of
it, when

- the requirements list ``boto3`` or ``botocore`` (the user asked for that version), or
- a distribution in the layer requires a version of them that the floor does not satisfy
  (aiobotocore pins botocore to a narrow range; a package needing a newer boto3),

and the report says which reason kept it. Removed, the layer is verified against a stand-in
``/var/runtime`` holding the floor version, so code that needs a newer SDK fails here.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from packaging.markers import UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from ..target.runtimes import RUNTIME_PROVIDED
from ..target.sdk import RuntimeSdk
from ..tree.inventory import Dist
from ..tree.staging import PlanEntry
from .context import PruneContext, Rule


def needs_newer(dists: Iterable[Dist], sdk: RuntimeSdk, markers: Mapping[str, str],
                served: Collection[str] = ("boto3", "botocore"),
                skip: Collection[str] = ()) -> list[str]:
    """Why the runtime's SDK (``sdk``: its floor, or ``--runtime-sdk``) cannot serve these
    distributions: ``dist requires botocore<…`` lines for their requirements on the SDK
    packages the runtime ``served`` that ``sdk`` does not satisfy. The build's rule skips the
    SDK's own distributions (their pins go with the copies that are dropped together);
    ``check`` judges a zip's boto3 whose botocore only the runtime provides."""
    floor = {n: v for n, v in (("boto3", sdk.boto3), ("botocore", sdk.botocore)) if n in served}
    env = {**markers, "extra": ""}
    out: list[str] = []
    for dist in sorted(dists, key=lambda d: d.name):
        if dist.name in skip:
            continue
        for line in dist.requires:
            try:
                req = Requirement(line)
                applies = req.marker is None or req.marker.evaluate(env)
            except (InvalidRequirement, UndefinedEnvironmentName):
                continue
            name = canonicalize_name(req.name)
            if not applies or name not in floor:
                continue
            if not req.specifier.contains(floor[name], prereleases=True):
                out.append(f"{dist.display_name} {dist.version} requires {req.name}"
                           f"{req.specifier}, and the runtime may have {name} {floor[name]}")
    return out


def sdk_reasons(ctx: PruneContext) -> list[str]:
    """Why the SDK stays in the layer; empty when the runtime's copy will do."""
    present = RUNTIME_PROVIDED & set(ctx.inventory.dists)
    if not present:
        return []
    listed = sorted(ctx.requested & {"boto3", "botocore"})
    reasons = [f"the requirements list {n}: the layer's copy shadows the runtime's "
               "(/opt/python comes first on sys.path)" for n in listed]
    if ctx.runtime_sdk is not None:
        reasons += needs_newer(ctx.inventory.dists.values(), ctx.runtime_sdk, ctx.markers,
                               skip=RUNTIME_PROVIDED)
    return reasons


def rule_runtime_provided(ctx: PruneContext) -> Iterable[PlanEntry]:
    inv = ctx.inventory
    reasons = sdk_reasons(ctx)
    if reasons:
        ctx.sdk_kept.extend(reasons)
        return
    for name in sorted(RUNTIME_PROVIDED & set(inv.dists) - ctx.requested):
        for rel in inv.dists[name].files:
            yield PlanEntry(rel, "runtime-provided", inv.sizes[rel])


RULE = Rule(
    "runtime-provided",
    "boto3, botocore, s3transfer, jmespath when only pulled in as dependencies and the "
    "runtime's SDK (its floor, or --runtime-sdk) satisfies every requirement on them",
    rule_runtime_provided,
    order=10,
)
