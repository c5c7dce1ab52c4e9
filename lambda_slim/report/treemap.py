"""Squarified treemap layout (Bruls, Huizing and van Wijk, "Squarified Treemaps", 2000).

Values are laid out largest first in rows along the shorter side of the remaining rectangle;
a value joins the current row while that does not make the row's worst aspect ratio worse.
The same algorithm exists twice: here (tested, used for the table-free checks and the
no-JavaScript fallback) and as :data:`SQUARIFY_JS`, inlined into the HTML report, because
zooming lays a subtree out again in the browser. Keep the two in step; the browser test runs
both on the same input and compares.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float

    @property
    def area(self) -> float:
        return self.w * self.h

    @property
    def aspect(self) -> float:
        """Longer side over shorter side (1 is a square); infinite for a degenerate cell."""
        lo, hi = sorted((self.w, self.h))
        return hi / lo if lo > 0 else float("inf")


def _worst(row: Sequence[float], side: float) -> float:
    """The worst aspect ratio of ``row`` (areas) laid along a side of length ``side``."""
    s = sum(row)
    return max(side * side * max(row) / (s * s), s * s / (side * side * min(row)))


def squarify(values: Sequence[float], x: float, y: float, w: float, h: float) -> list[Rect]:
    """One rectangle per value, in input order, tiling ``(x, y, w, h)`` with areas
    proportional to the values. Zero (or negative) values get an empty rectangle."""
    out = [Rect(x, y, 0.0, 0.0)] * len(values)
    order = sorted((i for i, v in enumerate(values) if v > 0), key=lambda i: -values[i])
    total = sum(values[i] for i in order)
    if total <= 0 or w <= 0 or h <= 0:
        return out
    scale = w * h / total
    k = 0
    while k < len(order):
        side = min(w, h)
        row = [order[k]]
        areas = [values[order[k]] * scale]
        k += 1
        while k < len(order):
            nxt = values[order[k]] * scale
            if _worst([*areas, nxt], side) > _worst(areas, side):
                break
            row.append(order[k])
            areas.append(nxt)
            k += 1
        s = sum(areas)
        if w >= h:  # a column at the left edge
            cw = s / h if k < len(order) else w
            cy = y
            for i, a in zip(row, areas, strict=True):
                out[i] = Rect(x, cy, cw, a / cw)
                cy += a / cw
            x, w = x + cw, w - cw
        else:  # a row at the top edge
            rh = s / w if k < len(order) else h
            cx = x
            for i, a in zip(row, areas, strict=True):
                out[i] = Rect(cx, y, a / rh, rh)
                cx += a / rh
            y, h = y + rh, h - rh
    return out


#: The same algorithm for the browser: ``squarify(values, x, y, w, h)`` returns
#: ``[[x, y, w, h], ...]`` in input order.
SQUARIFY_JS = """
function worst(row, side) {
  let s = 0, mx = -Infinity, mn = Infinity;
  for (const a of row) { s += a; mx = Math.max(mx, a); mn = Math.min(mn, a); }
  return Math.max(side * side * mx / (s * s), s * s / (side * side * mn));
}
function squarify(values, x, y, w, h) {
  const out = values.map(() => [x, y, 0, 0]);
  const order = values.map((v, i) => i).filter(i => values[i] > 0)
    .sort((a, b) => values[b] - values[a] || a - b);
  const total = order.reduce((t, i) => t + values[i], 0);
  if (total <= 0 || w <= 0 || h <= 0) return out;
  const scale = w * h / total;
  let k = 0;
  while (k < order.length) {
    const side = Math.min(w, h), row = [order[k]], areas = [values[order[k]] * scale];
    k++;
    while (k < order.length) {
      const nxt = values[order[k]] * scale;
      if (worst(areas.concat([nxt]), side) > worst(areas, side)) break;
      row.push(order[k]); areas.push(nxt); k++;
    }
    const s = areas.reduce((t, a) => t + a, 0);
    if (w >= h) {
      const cw = k < order.length ? s / h : w;
      let cy = y;
      row.forEach((i, j) => { out[i] = [x, cy, cw, areas[j] / cw]; cy += areas[j] / cw; });
      x += cw; w -= cw;
    } else {
      const rh = k < order.length ? s / w : h;
      let cx = x;
      row.forEach((i, j) => { out[i] = [cx, y, areas[j] / rh, rh]; cx += areas[j] / rh; });
      y += rh; h -= rh;
    }
  }
  return out;
}
"""


#: The zoomable treemap of the HTML report: reads the embedded report (``#report-data``) and
#: fate colours (``#fate-style``), builds distribution -> folder -> file nodes from the report's
#: ``tree``, nests squarified cells while they are big enough to show their children, shows a
#: tooltip on hover, zooms on click and zooms out through the breadcrumb or Escape. It only
#: ever sets ``textContent``, never HTML.
TREEMAP_JS = """
(function () {
"use strict";
const R = JSON.parse(document.getElementById("report-data").textContent);
const S = JSON.parse(document.getElementById("fate-style").textContent);
const box = document.getElementById("treemap"), tip = document.getElementById("tip");
const crumbs = document.getElementById("crumbs"), legend = document.getElementById("legend");
document.body.classList.add("js");
if (!R.tree) { box.textContent = "This report has no per-file data (an older lambda-slim)."; return; }
const fates = R.tree.fates;
const canon = s => s.toLowerCase().replace(/[-_.]+/g, "-");
const pkgs = {};
for (const p of R.packages || []) pkgs[canon(p.name)] = p;
function human(n) {
  const a = Math.abs(n), s = n < 0 ? "-" : "";
  if (a >= 1048576) return s + (a / 1048576).toFixed(1) + " MiB";
  if (a >= 1024) return s + (a / 1024).toFixed(1) + " KiB";
  return s + a + " B";
}
function add(n, c) {
  n.all += c.all; n.fin += c.fin; n.files += c.files;
  for (const f in c.byFate) {
    const b = n.byFate[f] || (n.byFate[f] = [0, 0]);
    b[0] += c.byFate[f][0]; b[1] += c.byFate[f][1];
  }
}
function make(name, path, owner, v, parent) {
  const n = {name, path, owner, parent, all: 0, fin: 0, files: 0, byFate: {}};
  if (typeof v === "number") { n.before = n.after = v; n.fate = 0; n.files = 1; }
  else if (Array.isArray(v)) {
    n.after = v[0]; n.fate = v[1]; n.before = v[2]; n.files = v.length > 3 ? v[3] : 1;
  } else {
    n.children = Object.keys(v).map(k => {
      const nm = k.replace(/[/]$/, "");
      return make(nm, (path ? path + "/" : "") + nm, owner, v[k], n);
    });
    n.children.forEach(c => add(n, c));
    return n;
  }
  n.all = Math.max(n.before, n.after); n.fin = n.after;
  n.byFate[n.fate] = [n.all, n.fin];
  return n;
}
const root = {name: "layer", path: "", children: [], all: 0, fin: 0, files: 0, byFate: {}};
for (const d of Object.keys(R.tree.dists)) {
  const p = pkgs[d], owner = p ? p.name + " " + p.version : d;
  const n = make(p ? p.name : d, "", owner, R.tree.dists[d], root);
  n.dist = d; root.children.push(n); add(root, n);
}
let mode = "all", focus = root, nodes = [];
const val = n => mode === "all" ? n.all : n.fin;
const colour = f => S.colours[fates[f]] || "#8c8c8c";
function dominant(n) {
  let best = 0, bytes = -1;
  for (const f in n.byFate) {
    const b = n.byFate[f][mode === "all" ? 0 : 1];
    if (b > bytes) { bytes = b; best = f; }
  }
  return best;
}
function place(parent, n, r, depth) {
  const d = document.createElement("div");
  d.className = "cell d" + Math.min(depth, 2) + (n.children ? " folder" : " leaf");
  d.style.left = r[0] + "px"; d.style.top = r[1] + "px";
  d.style.width = r[2] + "px"; d.style.height = r[3] + "px";
  d.style.background = colour(n.children ? dominant(n) : n.fate);
  d.dataset.i = String(nodes.push(n) - 1);
  d.dataset.path = n.dist || n.path; d.dataset.bytes = String(val(n));
  if (r[2] > 46 && r[3] > 15) {
    const l = document.createElement("span");
    l.className = "label"; l.textContent = n.name + " " + human(val(n));
    d.appendChild(l);
  }
  parent.appendChild(d);
  return d;
}
function nest(el, n, r, depth) {
  const kids = n.children.filter(c => val(c) > 0);
  const rects = squarify(kids.map(val), r[0], r[1], r[2], r[3]);
  kids.forEach((k, i) => {
    const q = rects[i];
    if (depth > 1 && (q[2] < 1 || q[3] < 1)) return;
    const cell = place(el, k, q, depth);
    if (!k.children || q[2] < 50 || q[3] < 40) return;
    cell.classList.add("open");
    nest(cell, k, [2, 16, q[2] - 6, q[3] - 20], depth + 1);
  });
}
function render() {
  box.textContent = ""; nodes = [];
  while (focus.parent && val(focus) === 0) focus = focus.parent;
  const W = box.clientWidth, H = box.clientHeight;
  nest(box, focus.children ? focus : {children: [focus]}, [0, 0, W, H], 1);
  crumbs.textContent = "";
  const chain = [];
  for (let n = focus; n; n = n.parent) chain.unshift(n);
  chain.forEach((n, i) => {
    if (i) {
      const s = document.createElement("span");
      s.className = "sep"; s.textContent = "›"; crumbs.appendChild(s);
    }
    const b = document.createElement("button");
    b.textContent = n.name + (i ? "" : " (" + human(val(root)) + ")");
    b.disabled = n === focus; b.onclick = () => zoom(n);
    crumbs.appendChild(b);
  });
  legend.textContent = "";
  for (const f in root.byFate) {
    const b = root.byFate[f][mode === "all" ? 0 : 1];
    if (!b) continue;
    const s = document.createElement("span"), i = document.createElement("i");
    i.style.background = colour(f); s.appendChild(i);
    s.appendChild(document.createTextNode(S.labels[fates[f]] + " " + human(b)));
    legend.appendChild(s);
  }
}
function zoom(n) { focus = n; tip.hidden = true; render(); }
function describe(n) {
  const lines = [n.dist ? n.owner : n.path + (n.children ? "/" : "")];
  if (n.children) {
    lines.push(human(n.fin) + " in the layer, " + human(n.all) + " as installed and added, "
               + n.files + " files");
    for (const f in n.byFate) lines.push("  " + S.labels[fates[f]] + ": " + human(n.byFate[f][0]));
  } else {
    const fate = fates[n.fate];
    if (n.fate === 0) lines.push(human(n.after) + " (" + n.after.toLocaleString() + " bytes)");
    else if (n.after === 0)
      lines.push(human(n.before) + " removed" + (n.files > 1 ? " (" + n.files + " files)" : ""));
    else if (n.before === 0) lines.push(human(n.after) + " added");
    else lines.push(human(n.before) + " → " + human(n.after));
    lines.push("rule: " + (n.fate === 0 ? "none (kept)" : fate + " — " + S.labels[fate]));
  }
  if (!n.dist) lines.push("owner: " + n.owner);
  return lines.join("\\n");
}
box.addEventListener("mousemove", e => {
  const c = e.target.closest(".cell");
  if (!c) { tip.hidden = true; return; }
  tip.textContent = describe(nodes[+c.dataset.i]); tip.hidden = false;
  const x = Math.min(e.clientX + 14, window.innerWidth - tip.offsetWidth - 8);
  const y = Math.min(e.clientY + 14, window.innerHeight - tip.offsetHeight - 8);
  tip.style.left = x + "px"; tip.style.top = y + "px";
});
box.addEventListener("mouseleave", () => { tip.hidden = true; });
box.addEventListener("click", e => {
  const c = e.target.closest(".cell");
  if (!c) return;
  const n = nodes[+c.dataset.i];
  if (n.children) zoom(n); else if (n.parent && n.parent !== focus) zoom(n.parent);
});
document.addEventListener("keydown", e => { if (e.key === "Escape" && focus.parent) zoom(focus.parent); });
document.querySelectorAll("input[name=mode]").forEach(r => r.addEventListener("change", () => {
  mode = r.value; render();
}));
window.addEventListener("resize", render);
render();
})();
"""
