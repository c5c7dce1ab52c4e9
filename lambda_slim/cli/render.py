"""Everything the CLI draws with rich: consoles, errors, the size tables and the plan."""

from __future__ import annotations

import os
import sys
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ..errors import LambdaSlimError
from ..rules.plan import summarize
from ..sizes import human
from ..tree.staging import PlanEntry


def _width(stream: object) -> int | None:
    """Logs and CI are not terminals: give tables room instead of rich's 80 columns."""
    isatty = getattr(stream, "isatty", None)
    if (isatty and isatty()) or os.environ.get("COLUMNS"):
        return None
    return 120


console = Console(highlight=False, width=_width(sys.stdout))
# Messages are never wrapped mid-path: long lines stay whole so they can be copied.
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def render_error(exc: LambdaSlimError) -> None:
    """Messages hold user text (paths, requirement lines, ``[tool.lambda-slim]``): escaped, so
    rich shows it literally instead of reading it as markup."""
    err_console.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)
    if exc.hint:
        err_console.print(f"[bold]hint:[/] {escape(exc.hint)}", highlight=False)


def render_internal(exc: BaseException) -> None:
    """An unexpected exception is a bug in lambda-slim: say so, and how to report it."""
    err_console.print(
        f"[bold red]internal error:[/] {escape(type(exc).__name__)}: {escape(str(exc))}\n"
        "This is a bug in lambda-slim, not in your input: please report it with the command "
        "you ran. Rerun with LAMBDA_SLIM_DEBUG=1 (or -v) to see the traceback.",
        highlight=False)


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

    parts: list[RenderableType] = [t, rt, lt, *_fit_lines(rep)]
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
    fn = rep.get("function")
    if fn:
        h = fn.get("handler")
        if h:
            parts.append(Text(f"handler: {h['handler']} imports as Lambda would ({h['environment']})",
                              style="green"))
        if fn["layers"]:
            parts.append(Text(
                f"function + {len(fn['layers'])} layer(s): {final + fn['layers_bytes']:,} of "
                f"{fn['limit_bytes']:,} bytes unzipped; the layers take {fn['layers_bytes']:,}, "
                f"left out as provided: {', '.join(fn['provided_by_layers']) or 'nothing'}"))
    if final > budget and rep.get("over_budget_options"):
        ot = Table(title=f"Over budget by {human(final - budget)}: options, measured",
                   title_justify="left")
        for col in ("option", "saves", "enough?", "how", "detail"):
            ot.add_column(col, justify="right" if col == "saves" else "left")
        for o in rep["over_budget_options"]:
            ot.add_row(o["option"], human(o["bytes"]) if o["option"] != "container image"
                       else "-", "yes" if o["enough"] else "no", o["how"], o["detail"])
        parts.append(ot)
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


def _fit_lines(rep: dict[str, Any]) -> list[RenderableType]:
    """Replacements by variants and the gpu rule's drops: what was swapped or left out."""
    out: list[RenderableType] = []
    var = rep.get("variants") or {}
    for r in var.get("replacements", []):
        if r.get("skipped"):
            out.append(Text(f"variant: kept {r['original']} ({r['skipped']})", style="yellow"))
            continue
        ver = f" {r['version']}" if r.get("version") else ""
        out.append(Text(f"variant: {r['original']} -> {r['variant']}{ver} ({r['via']}): "
                        f"{r['reason']}", style="cyan"))
    for name, why in (var.get("dropped") or {}).items():
        out.append(Text(f"variant: left out {name} ({why})", style="cyan"))
    for b in rep.get("borrowed", []):
        versions = ", ".join(b["versions"]) or "no versioned symbols"
        out.append(Text(
            f"system library: {b['soname']} is not on Lambda; served by {b['from']} (vendored "
            f"by {b['distribution'] or 'another wheel'}, defines {versions}) copied to "
            f"{b['to']} (/opt/lib) for {', '.join(b['needed_by'])}", style="cyan"))
    ov = rep.get("overflow")
    if ov and ov.get("packed"):
        packed = ", ".join(f"{p['name']} ({human(p['bytes'])} -> {human(p['archive_bytes'])})"
                           for p in ov["packed"])
        eph = ov["ephemeral"]
        out.append(Text(
            f"overflow: packed {packed} into python/.lambda-slim-overflow/; unpacked into /tmp "
            f"at cold start before the first import: needs {human(eph['needed_bytes'])} of /tmp "
            f"(Lambda's default is {eph['default_mb']} MB"
            + ("" if eph["fits_default"] else
               f"; set EphemeralStorage to at least {eph['recommended_mb']} MB") + ")",
            style="magenta"))
        if ov.get("init_ms_with") is not None:
            out.append(Text(
                f"overflow: init {ov['init_ms_without'] / 1000:.2f} s without, "
                f"{ov['init_ms_with'] / 1000:.2f} s with overflow (median, fresh /tmp each "
                f"start, {ov['environment']}); verified as Lambda starts it", style="magenta"))
    elif ov is not None:
        out.append(Text("overflow: nothing could be packed (every distribution is needed at "
                        "start or cannot move)", style="yellow"))
    for d in rep.get("gpu", []):
        if d["dropped"]:
            out.append(Text(f"gpu: dropped {d['name']} {d['version']} ({human(d['bytes'])}): "
                            f"{d['reason']}", style="cyan"))
        else:
            out.append(Text(f"gpu: {d['name']} {d['version']} {d['reason']}", style="dim"))
    return out


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
