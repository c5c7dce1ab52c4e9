"""Everything the CLI draws with rich: consoles, errors, the size tables and the plan."""

from __future__ import annotations

import os
import sys
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from ..errors import LambdaSlimError
from ..report.model import BuildPlan, LayerReport, TraceSummary
from ..rules.plan import summarize
from ..sizes import human


def _width(stream: object) -> int | None:
    """Logs and CI are not terminals: give tables room instead of rich's 80 columns."""
    isatty = getattr(stream, "isatty", None)
    if (isatty and isatty()) or os.environ.get("COLUMNS"):
        return None
    return 120


console = Console(highlight=False, width=_width(sys.stdout))
# Messages are never wrapped mid-path: long lines stay whole so they can be copied.
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


class RichProgress:
    """Draws one bar per stage on stderr; notes are printed above the bars."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar = Progress(
            TextColumn("[bold blue]{task.description:<8}"), BarColumn(),
            TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
            console=err_console, transient=True, disable=quiet,
        )
        self.task: Any = None

    def __enter__(self) -> RichProgress:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(None, None, None)

    def stage(self, name: str, total: int | None = None) -> None:
        if self.task is not None:
            self.bar.update(self.task, completed=self.bar.tasks[-1].total or 1)
            self.bar.remove_task(self.task)
        self.task = self.bar.add_task(name, total=total)

    def advance(self, n: int = 1) -> None:
        if self.task is not None:
            self.bar.advance(self.task, n)

    def note(self, message: str) -> None:
        err_console.print(f"[yellow]note:[/] {escape(message)}")


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


def render(rep: LayerReport, top: int = 25) -> RenderableType:
    """The size tables and verdict of a build (fresh or reused from the result cache)."""
    budget, final, installed = rep.budget_bytes, rep.final_bytes, rep.installed_bytes
    tgt = rep.target
    glibc = ".".join(map(str, tgt.glibc))
    title = (f"Layer for {tgt.runtime.name} {tgt.arch} ({tgt.runtime.os}, glibc {glibc})"
             + ("  \\[reused from the result cache]" if rep.cached else ""))
    t = Table(title=title, title_justify="left")
    for col, just in (("package", "left"), ("version", "left"), ("installed", "right"),
                      ("final", "right"), ("saved", "right"), ("of budget", "right")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    rows = rep.packages
    for r in rows[:top]:
        t.add_row(r.name, r.version, human(r.installed_bytes), human(r.final_bytes),
                  human(r.saved_bytes), _pct(r.final_bytes, budget))
    if len(rows) > top:
        rest = rows[top:]
        t.add_row(f"… {len(rest)} more", "", human(sum(r.installed_bytes for r in rest)),
                  human(sum(r.final_bytes for r in rest)),
                  human(sum(r.saved_bytes for r in rest)), "")
    t.add_section()
    t.add_row("total", "", human(installed), human(final), human(installed - final),
              _pct(final, budget), style="bold")

    rt = Table(title="What each rule saved", title_justify="left")
    rt.add_column("rule")
    rt.add_column("files", justify="right")
    rt.add_column("saved", justify="right")
    for rule in rep.rules:
        rt.add_row(rule.name, str(rule.files or ""), human(rule.bytes))

    lt = Table(title="Largest files", title_justify="left")
    lt.add_column("file")
    lt.add_column("package")
    lt.add_column("size", justify="right")
    for f in rep.largest_files[:8]:
        lt.add_row(Text(f.path), Text(f.package), human(f.bytes))

    parts: list[RenderableType] = [t, rt, lt, *_fit_lines(rep)]
    v = rep.verify
    vt = Text()
    style = {"passed": "green", "repaired": "yellow", "skipped": "yellow"}.get(v.status, "red")
    vt.append("verify: ", style="bold")
    vt.append(v.status, style=style)
    if v.interpreter:
        vt.append(f"  ({v.modules_checked} modules imported with {v.interpreter}"
                  + (f" in the {v.environment}" if v.environment != "host" else "")
                  + (f", {len(v.smoke)} smoke script(s) passed" if v.smoke else "") + ")")
    parts.append(vt)
    if v.init_ms is not None or v.max_rss_bytes is not None:
        mt = Text("  measured" + (f" in the {v.environment}" if v.environment != "host"
                                  else " on this host") + ": ")
        if v.init_ms is not None:
            mt.append(f"init {v.init_ms:,.0f} ms", style="red" if v.init_ms > 10_000 else "")
            mt.append(" (fresh interpreter importing the requested packages, median)")
        if v.max_rss_bytes is not None:
            mt.append(f"{', ' if v.init_ms is not None else ''}peak RSS "
                      f"{human(v.max_rss_bytes)}")
        parts.append(mt)
    bc = rep.bytecode
    if bc is not None and bc.mode != "none":
        parts.append(Text(f"bytecode: {bc.modules:,} modules, {human(bc.bytes)} added "
                          f"(--compile={bc.mode}: {bc.why})"))
    for w in v.warnings:
        parts.append(Text("  warning: " + w, style="yellow"))
    if v.optional_failures:
        parts.append(Text("  warning: optional parts that will not import on Lambda (no "
                          "requested import or smoke script uses them; --strict refuses them):",
                          style="yellow"))
        parts += [Text(f"    - {o.item}: {o.reason}", style="yellow")
                  for o in v.optional_failures]
    for c in v.culprits:
        parts.append(Text(f"  repaired: rule `{c.rule}` had removed {c.path} "
                          f"(needed by {c.needed_by})", style="yellow"))
    parts += _trace_lines(rep.trace)
    for a in rep.advice:
        parts.append(Text("advice: " + a, style="cyan"))
    fn = rep.function
    if fn is not None:
        if fn.handler:
            parts.append(Text(f"handler: {fn.handler.handler} imports as Lambda would "
                              f"({fn.handler.environment})", style="green"))
        if fn.layers:
            parts.append(Text(
                f"function + {len(fn.layers)} layer(s): {final + fn.layers_bytes:,} of "
                f"{fn.limit_bytes:,} bytes unzipped; the layers take {fn.layers_bytes:,}, "
                f"left out as provided: {', '.join(fn.provided_by_layers) or 'nothing'}"))
    if rep.over_budget and rep.over_budget_options:
        ot = Table(title=f"Over budget by {human(final - budget)}: options, measured",
                   title_justify="left")
        for col in ("option", "saves", "enough?", "how", "detail"):
            ot.add_column(col, justify="right" if col == "saves" else "left")
        for o in rep.over_budget_options:
            ot.add_row(o.option, human(o.bytes) if o.option != "container image" else "-",
                       "yes" if o.enough else "no", o.how, o.detail)
        parts.append(ot)
    verdict = Text()
    if rep.over_budget:
        verdict.append(f"OVER BUDGET: {final:,} bytes unzipped > {budget:,} "
                       f"({_pct(final, budget)})", style="bold red")
    else:
        verdict.append(f"within budget: {final:,} of {budget:,} bytes unzipped "
                       f"({_pct(final, budget)}, {human(budget - final)} to spare)",
                       style="bold green")
    parts.append(verdict)
    if rep.zip is not None:
        parts.append(Text(f"wrote {rep.zip.path} ({human(rep.zip.bytes)} zipped, "
                          f"{rep.files} files)  sha256 {rep.zip.sha256}"))
    return Group(*parts)


def _fit_lines(rep: LayerReport) -> list[RenderableType]:
    """Replacements by variants and the gpu rule's drops: what was swapped or left out."""
    out: list[RenderableType] = []
    for r in rep.variants.replacements:
        if r.skipped:
            out.append(Text(f"variant: kept {r.original} ({r.skipped})", style="yellow"))
            continue
        ver = f" {r.version}" if r.version else ""
        out.append(Text(f"variant: {r.original} -> {r.variant}{ver} ({r.via}): {r.reason}",
                        style="cyan"))
    for name, why in rep.variants.dropped.items():
        out.append(Text(f"variant: left out {name} ({why})", style="cyan"))
    for b in rep.borrowed:
        versions = ", ".join(b.versions) or "no versioned symbols"
        out.append(Text(
            f"system library: {b.soname} is not on Lambda; served by python/{b.source} "
            f"(vendored by {b.distribution or 'another wheel'}, defines {versions}) copied to "
            f"{b.dest} (/opt/lib) for {', '.join(b.needed_by)}", style="cyan"))
    ov = rep.overflow
    if ov is not None and ov.packed:
        packed = ", ".join(f"{p.name} ({human(p.bytes)} -> {human(p.archive_bytes)})"
                           for p in ov.packed)
        out.append(Text(
            f"overflow: packed {packed} into python/.lambda-slim-overflow/; unpacked into /tmp "
            f"at cold start before the first import: needs {human(ov.needed_tmp_bytes)} of /tmp "
            f"(Lambda's default is {ov.ephemeral.default_mb} MB"
            + ("" if ov.ephemeral.fits_default else
               f"; set EphemeralStorage to at least {ov.ephemeral.recommended_mb} MB") + ")",
            style="magenta"))
        if ov.init_ms_with is not None and ov.init_ms_without is not None:
            out.append(Text(
                f"overflow: init {ov.init_ms_without / 1000:.2f} s without, "
                f"{ov.init_ms_with / 1000:.2f} s with overflow (median, fresh /tmp each "
                f"start, {ov.environment}); verified as Lambda starts it", style="magenta"))
    elif ov is not None:
        out.append(Text("overflow: nothing could be packed (every distribution is needed at "
                        "start or cannot move)", style="yellow"))
    for d in rep.gpu:
        if d.dropped:
            out.append(Text(f"gpu: dropped {d.name} {d.version} ({human(d.bytes)}): {d.reason}",
                            style="cyan"))
        else:
            out.append(Text(f"gpu: {d.name} {d.version} {d.reason}", style="dim"))
    return out


def _trace_lines(tr: TraceSummary) -> list[RenderableType]:
    out: list[RenderableType] = []
    run = tr.run
    if run is not None and run.applied:
        out.append(Text(
            f"trace: kept what {len(run.scripts)} workload(s) touched "
            f"({run.touched_files} files, {human(run.touched_bytes)}); removed "
            f"{run.removed_files} untouched files ({human(run.removed_bytes)}) at "
            f"{run.granularity} granularity, re-verified", style="magenta"))
    elif run is not None and run.rolled_back:
        out.append(Text(f"trace: {run.rolled_back}", style="yellow"))
    elif not tr.enabled and tr.potential_bytes is None:
        out.append(Text("trace: off; pass --smoke SCRIPT (a run of your function) to see how much "
                        "a profile-guided trim (--trace) would save", style="dim"))
    elif tr.potential_bytes is not None:
        out.append(Text(
            f"trace: off; tracing the smoke script(s) would remove {tr.potential_files} "
            f"more files ({human(tr.potential_bytes)}) — add --trace SCRIPT",
            style="magenta"))
    for group in tr.identical_files[:3]:
        out.append(Text(f"identical files ({human(group.bytes)} each): "
                        + ", ".join(group.paths), style="dim"))
    return out


def render_plan(plan: BuildPlan, verbose: bool = True, limit: int = 200) -> RenderableType:
    """A dry run: every planned removal (with ``-v``), the plan by rule, strip's candidates."""
    entries = plan.entries
    t = Table(title="Prune plan (dry run: nothing removed)", title_justify="left")
    t.add_column("rule")
    t.add_column("path")
    t.add_column("bytes", justify="right")
    shown = entries if verbose else ()
    for e in shown[:limit]:
        t.add_row(e.rule, "python/" + e.rel, f"{e.saved:,}")
    if len(shown) > limit:
        t.add_row("…", f"{len(shown) - limit} more entries (see --json)", "")
    s = Table(title="Plan by rule", title_justify="left")
    s.add_column("rule")
    s.add_column("files", justify="right")
    s.add_column("bytes", justify="right")
    for rule, (files, saved) in summarize(entries).items():
        s.add_row(rule, str(files), human(saved))
    parts: list[RenderableType] = [t, s] if shown else [s]
    cands = plan.strip_candidates
    if cands:
        parts.append(Text(f"strip: {len(cands)} native files would be stripped with "
                          "--strip-unneeded (savings are measured when applied)"
                          + ("" if not verbose else ":\n  " + "\n  ".join(cands))))
    parts.append(Text(f"dry run: {len(entries)} removals planned; nothing was changed."))
    return Group(*parts)


def render_trace_preview(plan: BuildPlan) -> RenderableType:
    """``lambda-slim trace``: per package, what the workload never touched."""
    rep = plan.report
    run = rep.trace.run if rep is not None else None
    assert rep is not None and run is not None
    table = Table(title="What the workload never touched", title_justify="left")
    table.add_column("package")
    table.add_column("files", justify="right")
    table.add_column("would remove", justify="right")
    by_pkg: dict[str, tuple[int, int]] = {}
    for f in plan.trace_plan:
        n, b = by_pkg.get(f.package, (0, 0))
        by_pkg[f.package] = (n + 1, b + f.bytes)
    for pkg, (n, b) in sorted(by_pkg.items(), key=lambda kv: -kv[1][1]):
        table.add_row(pkg, str(n), human(b))
    table.add_section()
    table.add_row("total", str(run.removed_files), human(run.removed_bytes), style="bold")
    parts: list[RenderableType] = [table, Text(
        f"touched: {run.touched_files} files ({human(run.touched_bytes)}), "
        f"{run.modules} modules, by {', '.join(run.scripts)}; layer now "
        f"{human(rep.final_bytes)}, after trace ~{human(rep.final_bytes - run.removed_bytes)}"
        f" ({run.granularity} granularity)")]
    for group in rep.trace.identical_files[:5]:
        parts.append(Text(f"identical ({human(group.bytes)} each): " + ", ".join(group.paths)))
    return Group(*parts)
