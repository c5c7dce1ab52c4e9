"""The build report as one self-contained HTML page: a zoomable treemap of where the bytes
go, the budget bar, per-rule savings, verification, variants and advice.

The page works offline: CSS and JavaScript are inline, fonts are the system's, nothing is
fetched. The report is embedded as JSON in a ``<script type="application/json">`` element
with ``<``, ``>`` and ``&`` escaped, so no string in it can close the element; every string
written into the markup goes through :func:`html.escape`, and the script only ever sets
``textContent``. Without JavaScript the page still shows a static treemap of the
distributions (laid out here, in Python) and the tables.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence

from .. import __version__
from ..sizes import DEFAULT_BUDGET, DIRECT_UPLOAD_LIMIT, human
from .files import tree_fates
from .jsonio import report_json
from .model import LayerReport, OverflowSummary
from .treemap import SQUARIFY_JS, TREEMAP_JS, squarify

#: What happened to a file -> its colour. Rules not named here get ``OTHER_RULE``.
FATE_COLOURS: dict[str, str] = {
    "kept": "#4e79a7", "compiled": "#76b7b2", "strip": "#f28e2b", "overflow": "#b6992d",
    "tests": "#e15759", "sources": "#b07aa1", "bytecode": "#ff9da7", "dist-info": "#9c755f",
    "runtime-provided": "#bab0ac", "scripts": "#edc948", "trace": "#d37295",
}
OTHER_RULE = "#8c8c8c"
FATE_LABELS: dict[str, str] = {
    "kept": "kept as installed", "compiled": "bytecode added (--compile)",
    "strip": "shrunk by strip", "overflow": "packed for overflow",
}


#: Nothing may be fetched, even if a string slipped past escaping; inline code only.
CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"


def fate_label(fate: str) -> str:
    return FATE_LABELS.get(fate, f"removed by rule {fate}")


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def embed_json(data: object) -> str:
    """JSON that is safe inside a ``<script>`` element (no ``</script>``, no ``<!--``)."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _table(head: Sequence[str], rows: Iterable[Sequence[object]], cls: str = "") -> str:
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def _budget(rep: LayerReport) -> str:
    """Unzipped and zipped bars on one byte scale, with Lambda's two limits."""
    final = rep.final_bytes
    zipped = rep.zip.bytes if rep.zip else 0
    budget = rep.budget_bytes or DEFAULT_BUDGET
    fn = rep.function
    layers = fn.layers_bytes if fn else 0  # --function: its layers' bytes
    scale = max(DEFAULT_BUDGET, final + layers, budget) * 1.04

    def at(n: float) -> str:
        return f"{100 * n / scale:.3f}%"

    over = final > budget
    what = "function code" if fn else "this layer"
    rows = [
        f'<div class="bar"><span class="lbl">unzipped</span><div class="track">'
        f'<div class="seg{" over" if over else ""}" style="width:{at(final)}" '
        f'title="{what}: {final:,} bytes"></div>'
        + (f'<div class="seg layers" style="left:{at(final)};width:{at(layers)}" '
           f'title="its layers: {layers:,} bytes"></div>' if layers else "")
        + f'<div class="line limit" style="left:{at(DEFAULT_BUDGET)}" '
        f'title="function + all layers, unzipped: {DEFAULT_BUDGET:,} bytes"></div>'
        + (f'<div class="line budget" style="left:{at(budget)}" title="your budget: '
           f'{budget:,} bytes"></div>' if budget != DEFAULT_BUDGET else "")
        + f'</div><span class="num">{_e(human(final))} {what}'
        + (f" + {_e(human(layers))} layers" if layers else "")
        + f' of {_e(human(budget + layers if fn else budget))} '
        f'({_pct(final + layers, budget + layers if fn else budget)})</span></div>'
    ]
    if zipped:
        rows.append(
            f'<div class="bar"><span class="lbl">zipped</span><div class="track">'
            f'<div class="seg zip{" over" if zipped > DIRECT_UPLOAD_LIMIT else ""}" '
            f'style="width:{at(zipped)}" title="zip: {zipped:,} bytes"></div>'
            f'<div class="line upload" style="left:{at(DIRECT_UPLOAD_LIMIT)}" title="direct '
            f'upload limit: {DIRECT_UPLOAD_LIMIT:,} bytes"></div></div>'
            f'<span class="num">{_e(human(zipped))}'
            + (" — over 50 MB: upload through S3" if zipped > DIRECT_UPLOAD_LIMIT else "")
            + "</span></div>")
    legend = (f'<p class="small">The solid line is Lambda\'s limit for a function and all its '
              f'layers unzipped ({DEFAULT_BUDGET:,} bytes); the room right of this layer is '
              f'what the function code and the other layers may use. The dashed line is the '
              f'largest zip that can be uploaded directly ({DIRECT_UPLOAD_LIMIT:,} bytes).</p>')
    return '<section id="budget"><h2>Budget</h2>' + "".join(rows) + legend + "</section>"


def _static_treemap(rep: LayerReport) -> str:
    """The distributions as a treemap in plain HTML (percent units), for pages without JS."""
    rows = [p for p in rep.packages if p.final_bytes > 0]
    rects = squarify([float(p.final_bytes) for p in rows], 0, 0, 100, 100)
    cells = "".join(
        f'<div class="cell" style="left:{r.x:.3f}%;top:{r.y:.3f}%;width:{r.w:.3f}%;'
        f'height:{r.h:.3f}%" title="{_e(p.name)} {_e(p.version)}: '
        f'{p.final_bytes:,} bytes"><span class="label">{_e(p.name)}</span></div>'
        for p, r in zip(rows, rects, strict=True))
    return f'<div class="static-map">{cells}</div>'


def _rules(rep: LayerReport) -> str:
    top = max([abs(r.bytes) for r in rep.rules] + [1])
    body = "".join(
        f'<tr><td>{_e(r.name)}</td><td class="n">{_e(r.files or "")}</td>'
        f'<td class="n">{_e(human(r.bytes))}</td><td class="w"><div class="hbar'
        f'{" neg" if r.bytes < 0 else ""}" style="width:{100 * abs(r.bytes) / top:.1f}%">'
        f"</div></td></tr>" for r in rep.rules)
    return ('<section id="rules"><h2>What each rule saved</h2><table class="rules"><thead><tr>'
            "<th>rule</th><th>files</th><th>saved</th><th></th></tr></thead>"
            f"<tbody>{body}</tbody></table></section>")


def _verify(rep: LayerReport) -> str:
    v = rep.verify
    items: list[tuple[str, object]] = [("status", v.status)]
    for label, value in (("environment", v.environment), ("interpreter", v.interpreter),
                         ("modules imported", v.modules_checked)):
        if value not in (None, ""):
            items.append((label, value))
    if v.init_ms is not None:
        items.append(("init time", f"{v.init_ms:.0f} ms"))
    if v.max_rss_bytes is not None:
        items.append(("peak memory", human(v.max_rss_bytes)))
    if v.smoke:
        items.append(("smoke scripts", ", ".join(
            f"{s.script} ({'ok' if s.ok else 'FAILED'})" for s in v.smoke)))
    dl = "".join(f"<dt>{_e(k)}</dt><dd>{_e(val)}</dd>" for k, val in items)
    extra = "".join(f'<li class="warn">{_e(w)}</li>' for w in v.warnings)
    extra += "".join(f'<li class="warn">optional part that will not import on Lambda: '
                     f'{_e(o.item)}: {_e(o.reason)}</li>' for o in v.optional_failures)
    extra += "".join(f'<li class="warn">repaired: rule {_e(c.rule)} had removed '
                     f'{_e(c.path)} (needed by {_e(c.needed_by)})</li>' for c in v.culprits)
    return (f'<section id="verify"><h2>Verification</h2><dl>{dl}</dl>'
            + (f"<ul>{extra}</ul>" if extra else "") + "</section>")


def _variants(rep: LayerReport) -> str:
    reps = rep.variants.replacements
    gone = {**rep.variants.dropped, **rep.variants.orphans}
    if not (reps or gone or rep.gpu):
        return ""
    body = _table(("original", "variant", "version", "via", "outcome"), (
        (r.original, r.variant, r.version or "", r.via,
         f"kept the original: {r.skipped}" if r.skipped else r.reason)
        for r in reps)) if reps else ""
    body += "".join(f"<p>left out {_e(n)}: {_e(why)}</p>" for n, why in sorted(gone.items()))
    body += _table(("GPU payload", "version", "bytes", "dropped", "reason"), (
        (g.name, g.version, human(g.bytes), "yes" if g.dropped else "no", g.reason)
        for g in rep.gpu)) if rep.gpu else ""
    return f'<section id="variants"><h2>Variants</h2>{body}</section>'


def _overflow(ov: OverflowSummary | None) -> str:
    if ov is None or not ov.packed:
        return ""
    facts = [("environment", ov.environment),
             ("init without / with overflow", " / ".join(
                 f"{v:.0f} ms" if v is not None else "–"
                 for v in (ov.init_ms_without, ov.init_ms_with))),
             ("peak memory (with)", human(ov.max_rss_bytes_with)
              if ov.max_rss_bytes_with is not None else None),
             ("/tmp needed", human(ov.needed_tmp_bytes)),
             ("verified", "yes" if ov.verified else "no")]
    dl = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts if v is not None)
    return ('<section id="overflow"><h2>Packed for overflow (unpacked into /tmp at '
            f"start)</h2><dl>{dl}</dl>" + _table(
                ("distribution", "version", "unpacked", "archive"),
                ((p.name, p.version, human(p.bytes), human(p.archive_bytes)) for p in ov.packed))
            + "</section>")


def _extras(rep: LayerReport) -> str:
    out = [_variants(rep), _overflow(rep.overflow)]
    lines = [*rep.advice, *rep.notes]
    if lines:
        out.append('<section id="advice"><h2>Advice and notes</h2><ul>'
                   + "".join(f"<li>{_e(a)}</li>" for a in lines) + "</ul></section>")
    return "".join(out)


def _tables(rep: LayerReport) -> str:
    budget = rep.budget_bytes or DEFAULT_BUDGET
    pk = _table(("package", "version", "installed", "final", "saved", "of budget"), (
        (p.name, p.version, human(p.installed_bytes), human(p.final_bytes),
         human(p.saved_bytes), _pct(p.final_bytes, budget)) for p in rep.packages), "num")
    lf = _table(("file", "package", "size"), (
        (f.path, f.package, human(f.bytes)) for f in rep.largest_files), "num")
    return (f'<section id="packages"><h2>Distributions</h2>{pk}</section>'
            f'<section id="largest"><h2>Largest files</h2>{lf}</section>')


def render_html(rep: LayerReport) -> str:
    """The whole page for one build report; the report's JSON (:mod:`.jsonio`) is embedded
    for the treemap script."""
    tgt = rep.target
    title = f"lambda-slim: {tgt.runtime.name} {tgt.arch} layer"
    final, installed = rep.final_bytes, rep.installed_bytes
    facts = [("final", f"{human(final)} ({final:,} B)"), ("installed", human(installed)),
             ("saved", human(installed - final)), ("files", f"{rep.files:,}")]
    if rep.zip is not None and rep.zip.bytes:
        facts.append(("zipped", human(rep.zip.bytes)))
    facts.append(("verify", rep.verify.status))
    head = "".join(f'<div class="fact"><b>{_e(v)}</b><span>{_e(k)}</span></div>'
                   for k, v in facts)
    colours = {f: FATE_COLOURS.get(f, OTHER_RULE) for f in tree_fates(rep.tree)}
    labels = {f: fate_label(f) for f in colours}
    sub = (f"{tgt.runtime.os}, glibc {'.'.join(map(str, tgt.glibc))} · lambda-slim {__version__}"
           + (f" · zip sha256 {rep.zip.sha256}" if rep.zip is not None and rep.zip.sha256 else ""))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<title>{_e(title)}</title><style>{CSS}</style></head>
<body><header><h1>{_e(title)}</h1><p class="small">{_e(sub)}</p>
<div class="facts">{head}</div></header>
{_budget(rep)}
<section id="map"><h2>Where the bytes go</h2>
<noscript><p>The zoomable treemap needs JavaScript; here are the distributions by final size,
and the tables below carry every number.</p>{_static_treemap(rep)}</noscript>
<div class="js-only"><div class="toolbar"><nav id="crumbs" aria-label="zoom"></nav>
<label><input type="radio" name="mode" value="all" checked> as installed (removed files shown)</label>
<label><input type="radio" name="mode" value="final"> final layer</label></div>
<div id="legend"></div><div id="treemap" role="img" aria-label="treemap"></div>
<p class="small">Hover a cell for its path, bytes, owner and rule; click to zoom in; use the
path above (or Escape) to zoom out.</p></div></section>
{_rules(rep)}{_verify(rep)}{_extras(rep)}{_tables(rep)}
<div id="tip" hidden></div>
<script type="application/json" id="report-data">{embed_json(report_json(rep))}</script>
<script type="application/json" id="fate-style">{embed_json({"colours": colours, "labels": labels})}</script>
<script>{SQUARIFY_JS}{TREEMAP_JS}</script>
</body></html>
"""


CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;
max-width:1280px;padding:0 16px 40px;color:#1d232a;background:#fafafa}
h1{font-size:22px;margin:16px 0 0}h2{font-size:17px;margin:24px 0 8px}
.small{color:#5b6570;font-size:12px;margin:4px 0}
.facts{display:flex;flex-wrap:wrap;gap:8px;margin-top:12px}
.fact{background:#fff;border:1px solid #dde1e5;border-radius:6px;padding:6px 12px}
.fact b{display:block;font-size:16px}.fact span{color:#5b6570;font-size:12px}
.bar{display:flex;align-items:center;gap:8px;margin:6px 0}.bar .lbl{width:70px}
.bar .num{min-width:220px;font-variant-numeric:tabular-nums}
.track{position:relative;flex:1;height:20px;background:#e9ecef;border-radius:3px}
.seg{position:absolute;top:0;left:0;height:100%;background:#4e79a7;border-radius:3px}
.seg.zip{background:#76b7b2}.seg.layers{background:#9c9ede}
.seg.over{background:#e15759}
.line{position:absolute;top:-4px;bottom:-4px;border-left:2px solid #1d232a}
.line.upload{border-left-style:dashed}.line.budget{border-left-color:#b6992d}
table{border-collapse:collapse;background:#fff;margin:4px 0}
th,td{border-bottom:1px solid #e5e8eb;padding:3px 10px;text-align:left}
table.num td:nth-child(n+3){text-align:right;font-variant-numeric:tabular-nums}
td.n{text-align:right}td.w{width:240px}.hbar{height:10px;background:#e15759}
.hbar.neg{background:#76b7b2}
.toolbar{display:flex;flex-wrap:wrap;gap:16px;align-items:center;margin-bottom:6px}
#crumbs button{border:0;background:none;color:#1f5fa8;cursor:pointer;font:inherit;padding:0}
#crumbs button:disabled{color:#1d232a;font-weight:600;cursor:default}
#crumbs .sep{margin:0 6px;color:#8c8c8c}
#legend{display:flex;flex-wrap:wrap;gap:12px;margin:6px 0;font-size:12px}
#legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-2px}
#treemap,.static-map{position:relative;height:560px;background:#fff;border:1px solid #c9ced3;
overflow:hidden}
.static-map{height:360px}
.cell{position:absolute;box-sizing:border-box;border:1px solid rgba(255,255,255,.85);
overflow:hidden;color:#fff;font-size:11px;cursor:pointer}
.cell.d2{border-color:rgba(255,255,255,.55)}
.cell.open{background:#46525e!important}
.label{display:block;padding:1px 3px;white-space:nowrap;text-shadow:0 0 2px #000}
.cell.hot{outline:2px solid #1d232a;outline-offset:-2px}
#tip{position:fixed;pointer-events:none;background:#1d232a;color:#fff;padding:6px 9px;
border-radius:4px;font-size:12px;max-width:520px;z-index:9;white-space:pre-line}
.js-only{display:none}body.js .js-only{display:block}
li.warn{color:#9a5b00}dl{display:grid;grid-template-columns:max-content auto;gap:2px 16px}
dt{color:#5b6570}dd{margin:0}
"""
