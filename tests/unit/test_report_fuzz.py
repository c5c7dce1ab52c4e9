"""Fuzz: mutated build reports (and manifests) fed to ``report``, ``diff`` and ``why`` through the CLI's
``main(argv)`` end in exit 0 (still a report) or 2 (refused, naming the file), never 70 (a
crash) or 1 (over budget)."""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambda_slim.cli import main
from lambda_slim.errors import EXIT_OK, EXIT_USAGE
from lambda_slim.report.jsonio import manifest_extra, manifest_json, report_json
from lambda_slim.tree.staging import PlanEntry
from tests.reports import full_report

GOOD: dict[str, Any] = json.loads(json.dumps(report_json(full_report())))
MANIFEST: dict[str, Any] = json.loads(manifest_json(
    full_report().target, "ab" * 32, [PlanEntry("pkg/t.py", "tests", 7)],
    manifest_extra(full_report())))


Where = tuple[Any, ...]


def _paths(node: object, prefix: Where = ()) -> list[Where]:
    out: list[Where] = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


PATHS = _paths(GOOD)
SPECIAL: st.SearchStrategy[Any] = st.sampled_from(
    [10**400, -(10**400), 2**64, -1, 0, float("nan"), float("inf"), -float("inf"), 1e300, "",
     "\n", "\ud800", True, None, [], {}])
TEXT = st.text(st.characters(codec=None, categories=None), max_size=12)  # surrogates too
SCALARS = (st.none() | st.booleans() | st.integers() | TEXT
           | st.floats(allow_nan=True, allow_infinity=True) | SPECIAL)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(TEXT, inner, max_size=3), max_leaves=6)
OPS = st.sampled_from(["set", "delete", "nest"])
MUTATION = st.tuples(st.sampled_from(PATHS), OPS, VALUES)
MANIFEST_MUTATION = st.tuples(st.sampled_from(_paths(MANIFEST)), OPS, VALUES)


def mutated(mutations: list[tuple[Where, str, Any]], good: object = GOOD) -> str:
    """The good document with each mutation applied: a value replaced, a key deleted, or a
    value wrapped in lists (a path an earlier mutation removed is skipped)."""
    doc: Any = json.loads(json.dumps(good))
    for path, op, value in mutations:
        parent: Any = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            last = path[-1]
            if op == "delete" and isinstance(parent, dict):
                parent.pop(last, None)
            elif op == "nest":
                parent[last] = [[[[parent[last]]]]]
            else:
                parent[last] = value
        except (KeyError, IndexError, TypeError):
            continue
    return json.dumps(doc, allow_nan=True)


def run_all(text: str) -> list[int]:
    with tempfile.TemporaryDirectory() as tmp:
        base, bad, out = Path(tmp, "base.json"), Path(tmp, "bad.json"), Path(tmp, "r.html")
        base.write_text(json.dumps(GOOD))
        bad.write_text(text)
        return [main(["report", str(bad), "-q", "--html", str(out)]),
                main(["report", str(bad)]),
                main(["diff", str(base), str(bad)]), main(["diff", str(bad), str(base)]),
                main(["why", "pkg", str(bad)])]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(MUTATION, min_size=1, max_size=4))
def test_mutated_reports_are_read_or_refused(mutations: list[tuple[Where, str, Any]]) -> None:
    codes = run_all(mutated(mutations))
    assert set(codes) <= {EXIT_OK, EXIT_USAGE}, codes


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=len(json.dumps(GOOD))), st.text(max_size=3))
def test_cut_or_spliced_text_is_read_or_refused(at: int, splice: str) -> None:
    text = json.dumps(GOOD)
    assert set(run_all(text[:at] + splice + text[at + len(splice):])) <= {EXIT_OK, EXIT_USAGE}


def test_the_unmutated_report_passes() -> None:
    assert run_all(json.dumps(GOOD)) == [EXIT_OK] * 5


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(MANIFEST_MUTATION, min_size=1, max_size=4))
def test_mutated_manifests_are_read_or_refused_by_diff(
        mutations: list[tuple[Where, str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base, bad = Path(tmp, "base.json"), Path(tmp, "layer.manifest.json")
        base.write_text(json.dumps(GOOD))
        bad.write_text(mutated(mutations, MANIFEST))
        zipfile.ZipFile(Path(tmp, "layer.zip"), "w").writestr("python/pkg/__init__.py", "")
        codes = [main(["diff", str(base), str(bad)]), main(["diff", str(bad), str(base)]),
                 main(["diff", str(base), str(Path(tmp, "layer.zip"))])]
    assert set(codes) <= {EXIT_OK, EXIT_USAGE}, codes
