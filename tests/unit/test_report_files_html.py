"""Per-file fates (the report's ``tree``) and the HTML page built from a report."""

from __future__ import annotations

import json
import re
from typing import Any

from lambda_slim.report.files import fate_tree, walk_leaves
from lambda_slim.report.html import embed_json, render_html
from lambda_slim.report.jsonio import report_from_json, report_json
from tests.reports import FINAL, INSTALLED, full_report, report_doc, tree


def page_of(doc: dict[str, Any]) -> str:
    """The page ``report --html`` makes of a report file: JSON read back, then rendered."""
    return render_html(report_from_json(json.loads(json.dumps(doc))))


def test_fate_tree_records_every_file_and_folds_removed_folders() -> None:
    t = tree()
    fates = t["fates"]
    assert fates[0] == "kept"
    pkg = t["dists"]["pkg"]
    assert pkg["pkg"]["__init__.py"] == 100
    assert pkg["pkg"]["core.so"] == [2000, fates.index("strip"), 5000]
    assert pkg["pkg"]["tests"] == [0, fates.index("tests"), 1010, 3]  # one leaf for 3 files
    assert pkg["pkg"]["__pycache__"]["__init__.cpython-312.pyc"] == [80, fates.index("compiled"), 0]
    assert pkg["pkg-1.0.dist-info"]["RECORD"] == [0, fates.index("dist-info"), 50]
    assert pkg["pkg-1.0.dist-info"]["METADATA"] == [120, fates.index("dist-info"), 900]
    assert t["dists"]["(unowned)"] == {"other": {"mod.py": 40}}
    leaves = dict(walk_leaves(pkg))
    final = sum(v if isinstance(v, int) else v[0] for v in leaves.values())
    before = sum(v if isinstance(v, int) else v[2] for v in leaves.values())
    assert final == sum(FINAL.values()) - 40
    assert before == sum(INSTALLED.values()) - 40


def test_a_folder_removed_by_two_rules_is_not_folded() -> None:
    changes = [("a/t/x.py", "tests", 5, None), ("a/t/y.h", "sources", 7, None)]
    t: Any = fate_tree(lambda r: "a", {"a/t/x.py": 5, "a/t/y.h": 7}, {}, changes)
    assert isinstance(t["dists"]["a"]["a"]["t"], dict)


def report(**extra: Any) -> dict[str, Any]:
    return report_doc(**extra)


def embedded(page: str) -> Any:
    m = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S)
    assert m
    return json.loads(m.group(1))


def test_page_is_self_contained_and_carries_the_report() -> None:
    rep = report()
    page = page_of(rep)
    assert embedded(page) == rep
    # nothing fetched: no external URL, no src/href attributes to load
    assert not re.search(r"https?://", page)
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", page, re.I)
    assert "default-src 'none'" in page  # CSP forbids any fetch even if a string slipped in
    assert "<noscript>" in page and 'class="static-map"' in page
    assert "function squarify(" in page


def test_hostile_strings_are_escaped() -> None:
    evil = '</script><img src=x onerror="alert(1)">&amp;'
    rep = report(advice=[evil], notes=["<b>n</b>"])
    rep["packages"][0]["name"] = evil
    rep["largest_files"][0]["path"] = evil
    rep["tree"]["dists"][evil] = {evil: 5}
    page = page_of(rep)
    assert "<img" not in page and "</script><" not in page.replace("</script>\n<", "")
    assert page.count("</script>") == 3  # the two data elements and the code
    assert "&lt;/script&gt;&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;amp;" in page
    assert embedded(page)["advice"] == [evil]
    assert "\\u003c/script\\u003e" in embed_json(evil)


def test_page_shows_budget_rules_verification_variants_and_advice() -> None:
    rep = report_json(full_report())
    rep.update(zip_bytes=60_000_000, function=None)
    page = page_of(rep)
    for text in ("262,144,000", "52,428,800", "over 50 MB", "What each rule saved", "tests",
                 "sandbox", "840 ms", "150.0 MiB", "Variants", "use xgboost-cpu", "1.2 KiB",
                 "xgboost-cpu", "left out nvidia-nccl-cu12: only xgboost needed it", "nvidia-cublas",
                 "Packed for overflow", "812 ms / 1530 ms", "128.0 MiB", "95.0 MiB", "90.0 MiB",
                 "python/pkg/core.so", "repaired: rule tests had removed pkg/tests/x.py"):
        assert text in page, text


def test_budget_bar_adds_a_functions_layers() -> None:
    rep = report(function=report_json(full_report())["function"])
    page = page_of(rep)
    assert "2.3 KiB function code + 95.4 MiB layers" in page
    assert 'class="seg layers"' in page and "its layers: 100,000,000 bytes" in page


def test_page_without_tree_or_optional_keys_still_renders() -> None:
    rep = report()
    for key in ("tree", "zip_path", "zip_bytes", "zip_sha256"):
        rep.pop(key)
    rep.update(advice=[], notes=[], largest_files=[])
    page = page_of(rep)
    assert "Distributions" in page and ">zipped</span>" not in page


def test_overflow_packed_and_added_files_get_the_overflow_fate() -> None:
    from types import SimpleNamespace
    from typing import cast

    from lambda_slim.artifact.overflow import BOOT_MODULE, FOLDER, PTH_NAME
    from lambda_slim.report.summary import LayerFacts, file_tree

    inv = SimpleNamespace(sizes={"big/x.so": 900, "big/__init__.py": 10, "small/a.py": 5},
                          owner={"big/x.so": "big", "big/__init__.py": "big", "small/a.py": "small"})
    final = {"small/a.py": 5, f"{FOLDER}/big-1.0.zip": 300, f"{FOLDER}/manifest.json": 50,
             f"{BOOT_MODULE}.py": 40, PTH_NAME: 30}
    result = SimpleNamespace(inventory=inv, plan=[], final_sizes=final,
                             overflow=SimpleNamespace(removed=["big/x.so", "big/__init__.py"]))
    t: Any = file_tree(cast(LayerFacts, result))
    ov = t["fates"].index("overflow")
    assert t["dists"]["big"] == {"big": [0, ov, 910, 2]}  # packed: left the layer, folded
    unowned = t["dists"]["(unowned)"]
    assert unowned[FOLDER]["big-1.0.zip"] == [300, ov, 0]
    assert unowned[f"{BOOT_MODULE}.py"] == [40, ov, 0] and unowned[PTH_NAME] == [30, ov, 0]
    assert "compiled" not in t["fates"]
