"""The versioned JSON report, produced from the typed build result in one place."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from .. import __version__
from ..rules import RULES
from ..rules.plan import summarize
from ..sizes import DIRECT_UPLOAD_LIMIT, human
from ..tree.inventory import owner_of
from ..tree.staging import PlanEntry
from .files import fate_tree
from .model import BuildResult

SCHEMA_VERSION = 1
#: Bumped when the report gains keys (within a schema version), so the result cache never
#: serves a report written before them.
REPORT_REVISION = 2
#: Keys written on one line: machine-read, and ten times larger when indented.
COMPACT_KEYS = ("requires", "tree")


def dumps_report(rep: Mapping[str, Any]) -> str:
    """The report as JSON text: indented for people, except the bulky per-file keys."""
    rest = {k: v for k, v in rep.items() if k not in COMPACT_KEYS}
    text = json.dumps(rest, indent=2)
    tail = [f"  {json.dumps(k)}: {json.dumps(rep[k], separators=(',', ':'))}"
            for k in COMPACT_KEYS if k in rep]
    if tail:
        text = text[:-2] + ",\n" + ",\n".join(tail) + "\n}"
    return text + "\n"


def manifest_sizes(rep: Mapping[str, Any]) -> dict[str, Any]:
    """What a manifest carries so ``diff`` can compare two zips by distribution."""
    return {
        "final_bytes": rep["final_bytes"], "zip_bytes": rep["zip_bytes"],
        "packages": [{k: p[k] for k in ("name", "version", "final_bytes", "zip_bytes")}
                     for p in rep["packages"]],
    }


def package_rows(result: BuildResult) -> list[dict[str, Any]]:
    inv = result.inventory
    installed = inv.bytes_by_dist()
    final: dict[str, int] = {}
    for rel, size in result.final_sizes.items():
        o = owner_of(rel, inv.owner)
        final[o] = final.get(o, 0) + size
    zipped: dict[str, int] = {}
    for arc, size in (result.archive.compressed if result.archive else {}).items():
        o = owner_of(arc.removeprefix("python/"), inv.owner)
        zipped[o] = zipped.get(o, 0) + size
    traced: dict[str, int] = {}
    for e in result.plan:
        if e.rule == "trace":
            o = owner_of(e.rel, inv.owner)
            traced[o] = traced.get(o, 0) + e.saved
    rows: list[dict[str, Any]] = []
    for name in sorted(set(installed) | set(final)):
        d = inv.dists.get(name)
        before = installed.get(name, 0)
        after = final.get(name, 0)
        rows.append({
            "name": d.display_name if d else name,
            "version": d.version if d else "",
            "installed_bytes": before,
            "final_bytes": after,
            "zip_bytes": zipped.get(name, 0) if result.archive else None,
            "saved_bytes": before - after,
            "trace_bytes": traced.get(name, 0),
            "budget_share": round(after / result.config.budget, 6),
        })
    rows.sort(key=lambda r: (-r["final_bytes"], r["name"]))
    return rows


def rule_rows(plan: list[PlanEntry], compiled: int, enabled: frozenset[str] = frozenset(RULES)
              ) -> list[dict[str, Any]]:
    summary = summarize(plan)
    rows = [{"name": r, "files": summary.get(r, (0, 0))[0], "bytes": summary.get(r, (0, 0))[1]}
            for r in [*RULES, "trace"] if r in summary or r in enabled]
    rows.append({"name": "compile (added)", "files": 0, "bytes": -compiled})
    return rows


def largest_files(result: BuildResult, n: int = 10) -> list[dict[str, Any]]:
    top = sorted(result.final_sizes.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    prefix = "" if result.config.function else "python/"  # a function's files sit at the root
    return [{"path": prefix + rel, "bytes": size, "package": owner_of(rel, result.inventory.owner)}
            for rel, size in top]


def advice(result: BuildResult) -> list[str]:
    names = set(result.inventory.dists)
    bd = result.inventory.bytes_by_dist()
    out = []
    nccl = sorted(n for n in names if n.startswith("nvidia-nccl"))
    if "xgboost" in names and nccl and not result.config.variants:
        size = sum(bd.get(n, 0) for n in nccl)
        out.append(
            f"xgboost on Linux pulls {', '.join(nccl)} ({human(size)}), the GPU collective "
            "library; Lambda has no GPU. Drop --no-variants to install `xgboost-cpu` instead: "
            "same API, no NCCL."
        )
    if names & {"torch", "tensorflow", "jax", "jaxlib"}:
        out.append("Deep-learning frameworks rarely fit a layer; consider a Lambda container "
                   "image (10 GB limit) or an inference-only runtime such as onnxruntime.")
    rp = names & {"boto3", "botocore"} & set(result.requirements.requested)
    if rp:
        out.append(f"{', '.join(sorted(rp))} ship with the Lambda runtime; drop them from the "
                   "requirements unless you need a newer release than the runtime's.")
    if result.over_budget and not result.options:
        out.append("Over budget: try `--trace smoke.py` to drop what your workload never "
                   "touches, or split the dependencies across two functions.")
    if result.archive and result.archive.zip_bytes > DIRECT_UPLOAD_LIMIT:
        out.append("The zip is over 50 MB: publish it through S3 (lambda-slim publish "
                   "--s3-bucket …).")
    return out


def requires_graph(result: BuildResult) -> dict[str, list[str]]:
    """Each installed distribution's Requires-Dist lines that name another installed one:
    the edges ``why`` walks (markers and extras kept, so it can say which one applied)."""
    dists = result.inventory.dists
    out: dict[str, list[str]] = {}
    for name, d in sorted(dists.items()):
        edges = []
        for line in d.requires:
            try:
                req = Requirement(line)
            except InvalidRequirement:
                continue
            if canonicalize_name(req.name) in dists and canonicalize_name(req.name) != name:
                edges.append(line)
        if edges:
            out[name] = edges
    return out


def file_tree(result: BuildResult) -> dict[str, object]:
    """The per-file sizes and fates the HTML report draws (see :mod:`.files`)."""
    inv = result.inventory
    return fate_tree(lambda rel: owner_of(rel, inv.owner), inv.sizes, result.final_sizes,
                     [(e.rel, e.rule, e.bytes, e.new_bytes if e.replacement else None)
                      for e in result.plan])


def to_json(result: BuildResult) -> dict[str, Any]:
    cfg = result.config
    arc = result.archive
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "lambda-slim", "version": __version__},
        "target": cfg.target.to_json(),
        "requirements": {"path": str(result.requirements.path), "kind": result.requirements.kind,
                         "locked": result.requirements.no_deps,
                         "requested": sorted(result.requirements.requested),
                         "lines": list(result.requirements.lines)},
        "budget_bytes": cfg.budget,
        "installed_bytes": result.inventory.total,
        "final_bytes": result.final_bytes,
        "compiled_bytes": result.compiled_bytes,
        "within_budget": not result.over_budget,
        "zip_path": str(arc.path) if arc else None,
        "zip_bytes": arc.zip_bytes if arc else None,
        "zip_sha256": arc.sha256 if arc else None,
        "files": len(result.final_sizes) + len(result.lib_sizes),
        "resolved": [w.to_json() for w in result.resolution.wheels],
        "variants": {
            "enabled": cfg.variants,
            "replacements": [r.to_json() for r in result.resolution.replacements],
            "dropped": dict(result.resolution.dropped),
            "orphans": dict(result.resolution.orphans),
        },
        "gpu": [d.to_json() for d in result.gpu],
        "overflow": result.overflow.to_json() if result.overflow else None,
        "borrowed": [b.to_json() for b in result.borrowed],
        "over_budget_options": result.options,
        "packages": package_rows(result),
        "rules": rule_rows(result.plan, result.compiled_bytes, cfg.rules),
        "verify": result.verify.to_json(),
        "strip_skipped": [{"path": p, "reason": r} for p, r in result.strip_skipped],
        "tests_kept": result.tests_kept,
        "largest_files": largest_files(result),
        "trace": result.trace,
        "advice": advice(result),
        "timings": {k: round(v, 3) for k, v in result.timings.items()},
        "notes": result.notes,
        "requires": requires_graph(result),
        "tree": file_tree(result),
        **({"function": result.function} if result.function else {}),
    }
