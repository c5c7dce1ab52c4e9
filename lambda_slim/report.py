"""Size tables (rich renderables), the versioned JSON report and the removal manifest.

Nothing here prints: the CLI decides where renderables go.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from . import __version__
from .inventory import UNOWNED, pyc_source
from .prune import RULES, PlanEntry, summarize
from .targets import DIRECT_UPLOAD_LIMIT

if TYPE_CHECKING:
    from .build import BuildResult

SCHEMA_VERSION = 1


def human(n: float) -> str:
    """Bytes in binary units with one decimal (Lambda's "250 MB" limit is 250 MiB)."""
    sign = "-" if n < 0 else ""
    n = abs(n)
    if n >= 1024 * 1024:
        return f"{sign}{n / (1024 * 1024):.1f} MiB"
    if n >= 1024:
        return f"{sign}{n / 1024:.1f} KiB"
    return f"{sign}{int(n)} B"


def owner_of(rel: str, owner: dict[str, str]) -> str:
    o = owner.get(rel)
    if o:
        return o
    src = pyc_source(rel)
    return owner.get(src, UNOWNED) if src else UNOWNED


def package_rows(result: BuildResult) -> list[dict[str, Any]]:
    inv = result.inventory
    installed = inv.bytes_by_dist()
    final: dict[str, int] = {}
    for rel, size in result.final_sizes.items():
        o = owner_of(rel, inv.owner)
        final[o] = final.get(o, 0) + size
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
    return [{"path": "python/" + rel, "bytes": size, "package": owner_of(rel, result.inventory.owner)}
            for rel, size in top]


def advice(result: BuildResult) -> list[str]:
    names = set(result.inventory.dists)
    bd = result.inventory.bytes_by_dist()
    out = []
    nccl = sorted(n for n in names if n.startswith("nvidia-nccl"))
    if "xgboost" in names and nccl:
        size = sum(bd.get(n, 0) for n in nccl)
        out.append(
            f"xgboost on Linux pulls {', '.join(nccl)} ({human(size)}), the GPU collective "
            "library; Lambda has no GPU. Use `xgboost-cpu` (x86_64) instead: same API, no NCCL."
        )
    if names & {"torch", "tensorflow", "jax", "jaxlib"}:
        out.append("Deep-learning frameworks rarely fit a layer; consider a Lambda container "
                   "image (10 GB limit) or an inference-only runtime such as onnxruntime.")
    rp = names & {"boto3", "botocore"} & set(result.requirements.requested)
    if rp:
        out.append(f"{', '.join(sorted(rp))} ship with the Lambda runtime; drop them from the "
                   "requirements unless you need a newer release than the runtime's.")
    if result.over_budget:
        out.append("Over budget: try `--trace smoke.py` to drop what your workload never "
                   "touches, or split the dependencies across two functions.")
    if result.archive and result.archive.zip_bytes > DIRECT_UPLOAD_LIMIT:
        out.append("The zip is over 50 MB: publish it through S3 (lambda-slim publish "
                   "--s3-bucket …).")
    return out


def to_json(result: BuildResult) -> dict[str, Any]:
    cfg = result.config
    arc = result.archive
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "lambda-slim", "version": __version__},
        "target": cfg.target.to_json(),
        "requirements": {"path": str(cfg.requirements),
                         "requested": sorted(result.requirements.requested)},
        "budget_bytes": cfg.budget,
        "installed_bytes": result.inventory.total,
        "final_bytes": result.final_bytes,
        "compiled_bytes": result.compiled_bytes,
        "within_budget": not result.over_budget,
        "zip_path": str(arc.path) if arc else None,
        "zip_bytes": arc.zip_bytes if arc else None,
        "zip_sha256": arc.sha256 if arc else None,
        "files": len(result.final_sizes),
        "resolved": [w.to_json() for w in result.resolution.wheels],
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
    }


def manifest_json(result: BuildResult) -> str:
    cfg = result.config
    data = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "lambda-slim", "version": __version__},
        "target": cfg.target.to_json(),
        "zip_sha256": result.archive.sha256 if result.archive else None,
        "removed": [dict(e.to_json(), path="python/" + e.rel) for e in result.plan],
    }
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def render(rep: dict[str, Any], top: int = 25) -> RenderableType:
    """The size tables and verdict, from a JSON report (fresh or from the result cache)."""
    budget = int(rep["budget_bytes"])
    final = int(rep["final_bytes"])
    installed = int(rep["installed_bytes"])
    tgt = rep["target"]
    title = (f"Layer for {tgt['runtime']} {tgt['arch']} ({tgt['os']}, glibc {tgt['glibc']})"
             + ("  [reused from the result cache]" if rep.get("cached") else ""))
    t = Table(title=title, title_justify="left")
    for col, just in (("package", "left"), ("version", "left"), ("installed", "right"),
                      ("final", "right"), ("saved", "right"), ("of budget", "right")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    rows = rep["packages"]
    for r in rows[:top]:
        t.add_row(r["name"], r["version"], human(r["installed_bytes"]), human(r["final_bytes"]),
                  human(r["saved_bytes"]), _pct(r["final_bytes"], budget))
    if len(rows) > top:
        rest = rows[top:]
        t.add_row(f"… {len(rest)} more", "", human(sum(r["installed_bytes"] for r in rest)),
                  human(sum(r["final_bytes"] for r in rest)),
                  human(sum(r["saved_bytes"] for r in rest)), "")
    t.add_section()
    t.add_row("total", "", human(installed), human(final), human(installed - final),
              _pct(final, budget), style="bold")

    rt = Table(title="What each rule saved", title_justify="left")
    rt.add_column("rule")
    rt.add_column("files", justify="right")
    rt.add_column("saved", justify="right")
    for r in rep["rules"]:
        rt.add_row(r["name"], str(r["files"] or ""), human(r["bytes"]))

    lt = Table(title="Largest files", title_justify="left")
    lt.add_column("file")
    lt.add_column("package")
    lt.add_column("size", justify="right")
    for f in rep["largest_files"][:8]:
        lt.add_row(f["path"], f["package"], human(f["bytes"]))

    parts: list[RenderableType] = [t, rt, lt]
    v = rep["verify"]
    vt = Text()
    style = {"passed": "green", "repaired": "yellow", "skipped": "yellow"}.get(v["status"], "red")
    vt.append("verify: ", style="bold")
    vt.append(v["status"], style=style)
    if v.get("interpreter"):
        smoke = v.get("smoke") or []
        vt.append(f"  ({v['modules_checked']} modules imported with {v['interpreter']}"
                  + (f", {len(smoke)} smoke script(s) passed" if smoke else "") + ")")
    parts.append(vt)
    for w in v.get("warnings", []):
        parts.append(Text("  warning: " + w, style="yellow"))
    for c in v.get("culprits", []):
        parts.append(Text(f"  repaired: rule `{c['rule']}` had removed {c['path']} "
                          f"(needed by {c['needed_by']})", style="yellow"))
    parts += _trace_lines(rep.get("trace") or {})
    for a in rep.get("advice", []):
        parts.append(Text("advice: " + a, style="cyan"))
    verdict = Text()
    if final > budget:
        verdict.append(f"OVER BUDGET: {final:,} bytes unzipped > {budget:,} "
                       f"({_pct(final, budget)})", style="bold red")
    else:
        verdict.append(f"within budget: {final:,} of {budget:,} bytes unzipped "
                       f"({_pct(final, budget)}, {human(budget - final)} to spare)",
                       style="bold green")
    parts.append(verdict)
    if rep.get("zip_path"):
        parts.append(Text(f"wrote {rep['zip_path']} ({human(rep['zip_bytes'])} zipped, "
                          f"{rep['files']} files)  sha256 {rep['zip_sha256']}"))
    return Group(*parts)


def _trace_lines(tr: dict[str, Any]) -> list[RenderableType]:
    out: list[RenderableType] = []
    if tr.get("applied"):
        out.append(Text(
            f"trace: kept what {len(tr['scripts'])} workload(s) touched "
            f"({tr['touched_files']} files, {human(tr['touched_bytes'])}); removed "
            f"{tr['removed_files']} untouched files ({human(tr['removed_bytes'])}) at "
            f"{tr['granularity']} granularity, re-verified", style="magenta"))
    elif tr.get("rolled_back"):
        out.append(Text(f"trace: {tr['rolled_back']}", style="yellow"))
    elif not tr.get("enabled") and "potential_bytes" not in tr and tr:
        out.append(Text("trace: off; pass --smoke SCRIPT (a run of your function) to see how much "
                        "a profile-guided trim (--trace) would save", style="dim"))
    elif "potential_bytes" in tr:
        out.append(Text(
            f"trace: off; tracing the smoke script(s) would remove {tr['potential_files']} "
            f"more files ({human(int(tr['potential_bytes']))}) — add --trace SCRIPT",
            style="magenta"))
    for group in tr.get("identical_files", [])[:3]:
        out.append(Text(f"identical files ({human(group['bytes'])} each): "
                        + ", ".join(group["paths"]), style="dim"))
    return out


def render_plan(plan: list[PlanEntry], verbose: bool = True, limit: int = 200) -> RenderableType:
    t = Table(title="Prune plan (dry run: nothing removed)", title_justify="left")
    t.add_column("rule")
    t.add_column("path")
    t.add_column("bytes", justify="right")
    shown = plan if verbose else []
    for e in shown[:limit]:
        t.add_row(e.rule, "python/" + e.rel, f"{e.saved:,}")
    if len(shown) > limit:
        t.add_row("…", f"{len(shown) - limit} more entries (see --json)", "")
    s = Table(title="Plan by rule", title_justify="left")
    s.add_column("rule")
    s.add_column("files", justify="right")
    s.add_column("bytes", justify="right")
    for rule, (files, saved) in summarize(plan).items():
        s.add_row(rule, str(files), human(saved))
    return Group(t, s) if shown else s
