"""The versioned JSON of a build (report, trace preview, removal manifest), written from the
typed results in one place, and read back for the result cache."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from .. import __version__
from ..native.borrow import Borrowed
from ..resolve.variants import replacement_from_json
from ..rules.gpu import GpuDecision
from ..target.runtimes import Target, parse_target
from ..tree.staging import PlanEntry
from ..verify.probes import Culprit, SmokeOutcome, VerifyReport
from ..verify.trace import TraceInfo
from .model import (
    BuildPlan,
    FileRow,
    FunctionSummary,
    IdenticalGroup,
    LayerReport,
    OptionRow,
    OverflowSummary,
    PackageRow,
    PackedRow,
    RuleRow,
    StripSkip,
    TraceSummary,
    VariantsSummary,
    WheelRow,
    ZipInfo,
)

SCHEMA_VERSION = 1
#: Bumped when the report gains keys (within a schema version), so the result cache never
#: serves a report written before them.
REPORT_REVISION = 3
#: Keys written on one line: machine-read, and ten times larger when indented.
COMPACT_KEYS = ("requires", "tree")


def _tool() -> dict[str, str]:
    return {"name": "lambda-slim", "version": __version__}


def entry_json(e: PlanEntry) -> dict[str, object]:
    d: dict[str, object] = {"path": e.rel, "rule": e.rule, "bytes": e.saved}
    if e.replacement is not None:
        d["action"] = "replace"
    return d


def verify_json(v: VerifyReport) -> dict[str, object]:
    return {
        "status": v.status,
        "interpreter": v.interpreter,
        "environment": v.environment,
        "modules_checked": v.modules_checked,
        "warnings": list(v.warnings),
        "failures": list(v.failures),
        "culprits": [{"rule": c.rule, "path": c.path, "needed_by": c.needed_by}
                     for c in v.culprits],
        "smoke": [{"script": s.script, "ok": s.ok} for s in v.smoke],
        "init_ms": v.init_ms,
        "max_rss_bytes": v.max_rss_bytes,
    }


def _file_json(f: FileRow) -> dict[str, object]:
    return {"path": f.path, "bytes": f.bytes, "package": f.package}


def trace_json(t: TraceSummary) -> dict[str, object]:
    out: dict[str, object] = {"enabled": t.enabled}
    if t.run is not None:
        r = t.run
        out.update({
            "scripts": list(r.scripts), "granularity": r.granularity,
            "touched_files": r.touched_files, "touched_bytes": r.touched_bytes,
            "modules": r.modules, "removed_files": r.removed_files,
            "removed_bytes": r.removed_bytes, "rolled_back": r.rolled_back,
            "applied": r.applied,
        })
    out["identical_files"] = [{"bytes": g.bytes, "paths": list(g.paths)}
                              for g in t.identical_files]
    if t.potential_bytes is not None:
        out["potential_bytes"] = t.potential_bytes
        out["potential_files"] = t.potential_files
    return out


def report_json(rep: LayerReport) -> dict[str, Any]:
    """The versioned JSON report (``--json``, the result cache)."""
    out: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": _tool(),
        "target": rep.target.to_json(),
        "requirements": {"path": rep.requirements_path, "kind": rep.requirements_kind,
                         "locked": rep.locked, "requested": list(rep.requested),
                         "lines": list(rep.requirement_lines)},
        "budget_bytes": rep.budget_bytes,
        "installed_bytes": rep.installed_bytes,
        "final_bytes": rep.final_bytes,
        "compiled_bytes": rep.compiled_bytes,
        "within_budget": rep.within_budget,
        "zip_path": rep.zip.path if rep.zip else None,
        "zip_bytes": rep.zip.bytes if rep.zip else None,
        "zip_sha256": rep.zip.sha256 if rep.zip else None,
        "files": rep.files,
        "resolved": [{"name": w.name, "version": w.version, "filename": w.filename,
                      "sha256": w.sha256} for w in rep.resolved],
        "variants": {
            "enabled": rep.variants.enabled,
            "replacements": [r.to_json() for r in rep.variants.replacements],
            "dropped": dict(rep.variants.dropped),
            "orphans": dict(rep.variants.orphans),
        },
        "gpu": [d.to_json() for d in rep.gpu],
        "overflow": dict(rep.overflow.section) if rep.overflow else None,
        "borrowed": [b.to_json() for b in rep.borrowed],
        "over_budget_options": [{"option": o.option, "bytes": o.bytes, "enough": o.enough,
                                 "how": o.how, "detail": o.detail}
                                for o in rep.over_budget_options],
        "packages": [{
            "name": p.name, "version": p.version, "installed_bytes": p.installed_bytes,
            "final_bytes": p.final_bytes, "zip_bytes": p.zip_bytes,
            "saved_bytes": p.saved_bytes,
            "trace_bytes": p.trace_bytes, "budget_share": p.budget_share,
        } for p in rep.packages],
        "rules": [{"name": r.name, "files": r.files, "bytes": r.bytes} for r in rep.rules],
        "verify": verify_json(rep.verify),
        "strip_skipped": [{"path": s.path, "reason": s.reason} for s in rep.strip_skipped],
        "tests_kept": list(rep.tests_kept),
        "largest_files": [_file_json(f) for f in rep.largest_files],
        "trace": trace_json(rep.trace),
        "advice": list(rep.advice),
        "timings": {k: round(v, 3) for k, v in rep.timings.items()},
        "notes": list(rep.notes),
        "requires": {k: list(v) for k, v in rep.requires.items()},
        "tree": rep.tree,
    }
    if rep.function is not None:
        out["function"] = dict(rep.function.section)
    if rep.cached:
        out["cached"] = True
    return out


def dumps_report(rep: LayerReport) -> str:
    """The report as JSON text: indented for people, except the bulky per-file keys."""
    data = report_json(rep)
    rest = {k: v for k, v in data.items() if k not in COMPACT_KEYS}
    text = json.dumps(rest, indent=2)
    tail = [f"  {json.dumps(k)}: {json.dumps(data[k], separators=(',', ':'))}"
            for k in COMPACT_KEYS if k in data]
    if tail:
        text = text[:-2] + ",\n" + ",\n".join(tail) + "\n}"
    return text + "\n"


def plan_json(plan: BuildPlan) -> dict[str, Any]:
    """A trace preview's JSON: the rule-pruned layer's report plus the trace rule's plan."""
    out = report_json(plan.report) if plan.report is not None else {
        "schema_version": SCHEMA_VERSION, "tool": _tool(), "budget_bytes": plan.budget_bytes}
    out["trace_plan"] = [_file_json(f) for f in plan.trace_plan]
    return out


def manifest_extra(rep: LayerReport) -> dict[str, object]:
    """The report's sections the manifest repeats (variant replacements, gpu decisions) and
    the sizes ``diff`` compares two zips by."""
    full = report_json(rep)
    return {
        **{k: full[k] for k in ("variants", "gpu", "overflow", "borrowed")},
        "final_bytes": rep.final_bytes, "zip_bytes": rep.zip.bytes if rep.zip else None,
        "packages": [{"name": p.name, "version": p.version, "final_bytes": p.final_bytes,
                      "zip_bytes": p.zip_bytes} for p in rep.packages],
    }


def manifest_json(target: Target, zip_sha256: str | None, removed: Iterable[PlanEntry],
                  extra: Mapping[str, object] | None = None) -> str:
    """The removal manifest beside the zip: every applied removal, as JSON text, plus
    ``extra`` sections (variant replacements, gpu decisions, packed distributions)."""
    data: dict[str, object] = {
        **(extra or {}),
        "schema_version": SCHEMA_VERSION,
        "tool": _tool(),
        "target": target.to_json(),
        "zip_sha256": zip_sha256,
        "removed": [dict(entry_json(e), path="python/" + e.rel) for e in removed],
    }
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


# --- reading a report back (the result cache) ----------------------------------------------


def _verify_from(d: Mapping[str, Any]) -> VerifyReport:
    return VerifyReport(
        status=str(d["status"]), interpreter=d.get("interpreter"),
        environment=str(d.get("environment", "host")),
        modules_checked=int(d.get("modules_checked", 0)),
        warnings=[str(w) for w in d.get("warnings", [])],
        failures=[str(f) for f in d.get("failures", [])],
        culprits=[Culprit(c["rule"], c["path"], c["needed_by"]) for c in d.get("culprits", [])],
        smoke=[SmokeOutcome(s["script"], bool(s["ok"])) for s in d.get("smoke", [])],
        init_ms=float(d["init_ms"]) if d.get("init_ms") is not None else None,
        max_rss_bytes=int(d["max_rss_bytes"]) if d.get("max_rss_bytes") is not None else None,
    )


def _trace_from(d: Mapping[str, Any]) -> TraceSummary:
    run = None
    if "scripts" in d:
        run = TraceInfo(
            scripts=tuple(d["scripts"]), granularity=d["granularity"],
            touched_files=d["touched_files"], touched_bytes=d["touched_bytes"],
            modules=d["modules"], removed_files=d["removed_files"],
            removed_bytes=d["removed_bytes"], rolled_back=d.get("rolled_back"),
            applied=bool(d.get("applied")),
        )
    return TraceSummary(
        enabled=bool(d.get("enabled")), run=run,
        identical_files=tuple(IdenticalGroup(g["bytes"], tuple(g["paths"]))
                              for g in d.get("identical_files", [])),
        potential_files=d.get("potential_files"), potential_bytes=d.get("potential_bytes"),
    )


def report_from_json(d: Mapping[str, Any]) -> LayerReport:
    """A report written by :func:`report_json` (raises KeyError/ValueError when it is not)."""
    if d.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(f"report schema {d.get('schema_version')!r}")
    t = d["target"]
    zip_info = (ZipInfo(d["zip_path"], int(d["zip_bytes"]), d["zip_sha256"])
                if d.get("zip_path") else None)
    return LayerReport(
        target=parse_target(t["runtime"], t["arch"]),
        requirements_path=d["requirements"]["path"],
        requested=tuple(d["requirements"]["requested"]),
        budget_bytes=int(d["budget_bytes"]), installed_bytes=int(d["installed_bytes"]),
        final_bytes=int(d["final_bytes"]), compiled_bytes=int(d["compiled_bytes"]),
        files=int(d["files"]), zip=zip_info,
        resolved=tuple(WheelRow(w["name"], w["version"], w["filename"], w["sha256"])
                       for w in d["resolved"]),
        packages=tuple(PackageRow(**{"zip_bytes": None, **p}) for p in d["packages"]),
        rules=tuple(RuleRow(**r) for r in d["rules"]),
        verify=_verify_from(d["verify"]),
        strip_skipped=tuple(StripSkip(s["path"], s["reason"]) for s in d["strip_skipped"]),
        tests_kept=tuple(d["tests_kept"]),
        largest_files=tuple(FileRow(**f) for f in d["largest_files"]),
        trace=_trace_from(d["trace"]), advice=tuple(d["advice"]),
        timings={k: float(v) for k, v in d["timings"].items()}, notes=tuple(d["notes"]),
        cached=bool(d.get("cached", False)),
        requirements_kind=str(d["requirements"].get("kind", "requirements.txt")),
        requirement_lines=tuple(d["requirements"].get("lines", ())),
        requires={k: tuple(v) for k, v in d.get("requires", {}).items()},
        tree=d.get("tree", {}),
        overflow=overflow_summary(d["overflow"]) if d.get("overflow") else None,
        function=function_summary(d["function"]) if d.get("function") else None,
        borrowed=tuple(Borrowed(
            b["soname"], str(b["from"]).removeprefix("python/"), b["to"], tuple(b["needed_by"]),
            tuple(b["versions"]), int(b["bytes"]), b.get("distribution"), b.get("verified"))
            for b in d.get("borrowed", [])),
        over_budget_options=tuple(OptionRow(**o) for o in d.get("over_budget_options", [])),
        locked=bool(d["requirements"].get("locked", False)),
        variants=_variants_from(d.get("variants") or {}),
        gpu=tuple(GpuDecision(g["name"], g["version"], int(g["bytes"]), bool(g["dropped"]),
                              g["reason"], tuple(g.get("sonames", ())),
                              tuple(g.get("needed_by", ()))) for g in d.get("gpu", [])),
    )


def overflow_summary(section: Mapping[str, Any]) -> OverflowSummary:
    """The typed view of the overflow stage's report section."""
    eph = section.get("ephemeral") or {}
    return OverflowSummary(
        packed=tuple(PackedRow(p["name"], int(p["bytes"]), int(p["archive_bytes"]))
                     for p in section.get("packed", [])),
        needed_tmp_bytes=int(eph.get("needed_bytes", 0)),
        default_tmp_mb=int(eph.get("default_mb", 512)),
        fits_default=bool(eph.get("fits_default", True)),
        recommended_mb=int(eph.get("recommended_mb", 512)),
        init_ms_without=section.get("init_ms_without"),
        init_ms_with=section.get("init_ms_with"),
        environment=str(section.get("environment", "")),
        section=section,
    )


def function_summary(section: Mapping[str, Any]) -> FunctionSummary:
    """The typed view of the function stage's report section."""
    handler = section.get("handler") or {}
    return FunctionSummary(
        handler=handler.get("handler"), handler_environment=handler.get("environment"),
        layers=len(section.get("layers", [])), layers_bytes=int(section.get("layers_bytes", 0)),
        limit_bytes=int(section.get("limit_bytes", 0)),
        provided_by_layers=tuple(section.get("provided_by_layers", [])), section=section,
    )


def _variants_from(d: Mapping[str, Any]) -> VariantsSummary:
    return VariantsSummary(
        enabled=bool(d.get("enabled", True)),
        replacements=tuple(replacement_from_json(r) for r in d.get("replacements", [])),
        dropped=dict(d.get("dropped", {})), orphans=dict(d.get("orphans", {})),
    )
