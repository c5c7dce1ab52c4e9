"""The HTML report in a real headless Chromium, offline, driven over the DevTools protocol."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lambda_slim.report.files import walk_leaves
from lambda_slim.report.treemap import squarify
from tests.browser import Page, open_page
from tests.seed import SeedBuild
from tests.unit.test_report_files_html import embedded, page_of
from tests.unit.test_report_files_html import report as small_report

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CELLS = """JSON.stringify([...document.querySelectorAll('#treemap > .cell')].map(c => {
  const r = c.getBoundingClientRect();
  return {path: c.dataset.path, bytes: +c.dataset.bytes, x: r.x, y: r.y, w: r.width, h: r.height};
}))"""



def cells(page: Page) -> list[dict[str, Any]]:
    return list(json.loads(page.eval(CELLS)))


def crumbs(page: Page) -> list[str]:
    return list(page.eval("[...document.querySelectorAll('#crumbs button')].map(b => b.textContent)"))


def all_bytes(tree: dict[str, Any]) -> int:
    """What the default view sizes a distribution by: installed bytes, and added ones."""
    return sum(v if isinstance(v, int) else max(v[0], v[2]) for _, v in walk_leaves(tree))


def assert_offline(page: Page, url: str) -> None:
    assert page.requests() == [url]  # the page itself, nothing else
    assert page.eval("performance.getEntriesByType('resource').length") == 0
    assert page.errors() == []


def test_squarify_js_matches_python(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    out.write_text(page_of(small_report()))
    rng = random.Random(7)
    cases = [([6, 6, 4, 3, 2, 2, 1], (0, 0, 6, 4))] + [
        ([rng.choice([rng.random() * 1e6, 0, 1]) for _ in range(rng.randint(1, 60))],
         (rng.random() * 50, rng.random() * 50, rng.random() * 1200 + 1, rng.random() * 700 + 1))
        for _ in range(30)]
    with open_page(out.as_uri()) as page:
        got = page.eval(f"JSON.stringify({json.dumps(cases)}.map(c => squarify(c[0], ...c[1])))")
        assert_offline(page, out.as_uri())
    for (values, box), js in zip(cases, json.loads(got), strict=True):
        py = squarify(values, *box)
        for a, b in zip(py, js, strict=True):
            assert [a.x, a.y, a.w, a.h] == pytest.approx(b, rel=1e-9, abs=1e-9)


def test_hostile_names_stay_text(tmp_path: Path) -> None:
    evil = '</script><img src=x onerror="window.pwned=1">'
    rep = small_report(advice=[evil])
    rep["tree"]["dists"][evil] = {"x": {evil: 4000}}
    out = tmp_path / "evil.html"
    out.write_text(page_of(rep))
    with open_page(out.as_uri()) as page:
        assert page.eval("window.pwned === undefined && !document.querySelector('img')")
        assert evil in page.eval("document.body.innerText")
        assert evil in [c["path"] for c in cells(page)]
        assert_offline(page, out.as_uri())


def test_seed_stack_report_in_chromium(tmp_path: Path, run_cli: Callable[..., int],
                                       seed_build: SeedBuild) -> None:
    out = seed_build.html
    rep = seed_build.json()
    # the report carries the per-file tree compactly; the page embeds the whole report
    assert len(seed_build.report.read_bytes()) < 400_000
    assert len(out.read_bytes()) < 450_000
    again = tmp_path / "again.html"
    assert run_cli("report", str(seed_build.report), "--html", str(again), "-q") == 0
    assert embedded(again.read_text()) == embedded(out.read_text()) == rep
    dists = {d: all_bytes(t) for d, t in rep["tree"]["dists"].items()}
    largest = sorted(dists, key=lambda d: -dists[d])[:5]
    assert {"scipy", "numpy", "pandas", "xgboost-cpu"} <= set(largest)
    with open_page(out.as_uri()) as page:
        assert_offline(page, out.as_uri())
        top = {c["path"]: c for c in cells(page)}
        box = page.eval("(r => [r.width, r.height])"
                        "(document.getElementById('treemap').getBoundingClientRect())")
        box_area = (box[0] - 2) * (box[1] - 2)  # inside the 1px border
        total = sum(dists.values())
        for d in largest:  # a cell per large distribution, its area proportional to its bytes
            c = top[d]
            assert c["bytes"] == dists[d]
            assert c["w"] * c["h"] == pytest.approx(box_area * dists[d] / total, rel=0.01), d
        # hover a pandas cell: the tooltip names a path, its bytes, the owner and the rule
        p = top["pandas"]
        page.mouse("mouseMoved", p["x"] + p["w"] / 2, p["y"] + p["h"] / 2)
        tip = page.eval("(t => t.hidden ? '' : t.textContent)(document.getElementById('tip'))")
        assert tip.startswith("pandas/"), tip
        assert "owner: pandas " + next(x["version"] for x in rep["packages"] if x["name"] == "pandas") in tip
        assert "rule: " in tip or "files" in tip
        # click the pandas header strip: zoom into pandas; its cells are pandas' folders
        page.click(p["x"] + 30, p["y"] + 6)
        assert crumbs(page)[-1] == "pandas"
        inner = {c["path"] for c in cells(page)}
        assert "pandas" in inner and any(x.startswith("pandas-") and x.endswith(".dist-info") for x in inner)
        assert not inner & set(largest) - {"pandas"}
        # zoom one more level (pandas/ folder), then the breadcrumb's first button zooms out
        q = next(c for c in cells(page) if c["path"] == "pandas")
        page.click(q["x"] + 30, q["y"] + 6)
        assert crumbs(page)[1:] == ["pandas", "pandas"]
        assert all(c["path"].startswith("pandas/") for c in cells(page))
        page.screenshot(ARTIFACTS / "report-seed-zoomed.png")
        b = page.eval("(r => [r.x + r.width / 2, r.y + r.height / 2])"
                      "(document.querySelector('#crumbs button').getBoundingClientRect())")
        page.click(*b)
        assert len(crumbs(page)) == 1
        assert set(largest) <= {c["path"] for c in cells(page)}
        # the final-layer view sizes cells by final bytes
        page.eval("document.querySelector('input[value=final]').click()")
        fin = {c["path"]: c["bytes"] for c in cells(page)}
        by_name = {x["name"]: x["final_bytes"] for x in rep["packages"]}
        assert fin["pandas"] == by_name["pandas"] and fin["scipy"] == by_name["scipy"]
        page.eval("document.querySelector('input[value=all]').click()")
        page.screenshot(ARTIFACTS / "report-seed.png")
        assert page.errors() == []
    assert (ARTIFACTS / "report-seed.png").stat().st_size > 20_000
