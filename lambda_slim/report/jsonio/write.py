"""Writing the versioned JSON of a build (report, trace preview, removal manifest) from the
typed results."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any

from ... import __version__
from ...target.runtimes import Target
from ...tree.staging import PlanEntry
from ...verify.probes import VerifyReport
from ..model import BuildPlan, FileRow, FunctionSummary, LayerReport, OverflowSummary, TraceSummary

SCHEMA_VERSION = 1
#: Bumped when the report gains keys (within a schema version), so the result cache never
#: serves a report written before them.
REPORT_REVISION = 4
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
        "optional_failures": [{"item": o.item, "reason": o.reason} for o in v.optional_failures],
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


def overflow_json(o: OverflowSummary) -> dict[str, object]:
    return {
        "packed": [asdict(p) for p in o.packed], "excluded": dict(o.excluded),
        "before_bytes": o.before_bytes, "after_bytes": o.after_bytes, "budget": o.budget,
        "fits": o.fits, "compression": o.compression, "archive_bytes": o.archive_bytes,
        "ephemeral": asdict(o.ephemeral), "environment": o.environment,
        "startup_modules": list(o.startup_modules) if o.startup_modules is not None else None,
        "init_ms_without": o.init_ms_without, "init_ms_with": o.init_ms_with,
        "samples_ms_without": list(o.samples_ms_without),
        "samples_ms_with": list(o.samples_ms_with),
        "max_rss_bytes_with": o.max_rss_bytes_with, "verified": o.verified,
    }


def function_json(f: FunctionSummary) -> dict[str, object]:
    return {
        "source": f.source, "code_files": f.code_files,
        "handler": asdict(f.handler) if f.handler else None,
        "layers": [{"path": x.path, "unzipped_bytes": x.unzipped_bytes, "dists": list(x.dists)}
                   for x in f.layers],
        "layers_bytes": f.layers_bytes, "limit_bytes": f.limit_bytes,
        "provided_by_layers": list(f.provided_by_layers),
        "shadowing_layers": list(f.shadowing_layers), "with_project": f.with_project,
        "left_out": list(f.left_out),
    }


def report_json(rep: LayerReport) -> dict[str, Any]:
    """The versioned JSON report (``--json``, the result cache)."""
    out: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": _tool(),
        "target": rep.target.to_json(),
        "requirements": {"path": rep.requirements_path, "kind": rep.requirements_kind,
                         "locked": rep.locked, "unverified": list(rep.unverified),
                         "requested": list(rep.requested),
                         "lines": list(rep.requirement_lines)},
        "budget_bytes": rep.budget_bytes,
        "installed_bytes": rep.installed_bytes,
        "final_bytes": rep.final_bytes,
        "compiled_bytes": rep.compiled_bytes,
        "bytecode": asdict(rep.bytecode) if rep.bytecode else None,
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
        "overflow": overflow_json(rep.overflow) if rep.overflow else None,
        "borrowed": [b.to_json() for b in rep.borrowed],
        "over_budget_options": [asdict(o) for o in rep.over_budget_options],
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
        "tree": rep.tree or None,
    }
    if rep.function is not None:
        out["function"] = function_json(rep.function)
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


def manifest_extra(rep: LayerReport, *, strict: bool = False,
                   system_libs: Iterable[str] = ()) -> dict[str, object]:
    """The report's sections the manifest repeats (variant replacements, gpu decisions), the
    sizes ``diff`` compares two zips by, and what verification proved (``check`` judges the
    closure audit by it: :func:`manifest_verify`)."""
    full = report_json(rep)
    return {
        **{k: full[k] for k in ("variants", "gpu", "overflow", "borrowed")},
        "final_bytes": rep.final_bytes, "zip_bytes": rep.zip.bytes if rep.zip else None,
        "packages": [{"name": p.name, "version": p.version, "final_bytes": p.final_bytes,
                      "zip_bytes": p.zip_bytes} for p in rep.packages],
        "verify": manifest_verify(rep, strict=strict, system_libs=system_libs),
    }


def manifest_verify(rep: LayerReport, *, strict: bool,
                    system_libs: Iterable[str]) -> dict[str, object]:
    """The manifest's ``verify`` section: the verification's result and where it ran, the
    native files the requested imports, smoke scripts and handler loaded (as zip members;
    null when not reported), the optional failures, ``--strict`` and the ``--system-lib``
    names the closure audit accepted."""
    v = rep.verify
    prefix = "python/" if rep.function is None else ""
    return {
        "status": v.status, "environment": v.environment, "strict": strict,
        "system_libs": sorted(system_libs),
        "loaded_native_files": None if v.loaded_natives is None
        else [prefix + rel for rel in v.loaded_natives],
        "optional_failures": [{"item": o.item, "reason": o.reason} for o in v.optional_failures],
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



