"""The typed build results: every shape answers over_budget, and the versioned JSON written by
report/jsonio reads back into the same typed report (the result cache relies on it)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from lambda_slim.report.jsonio import SCHEMA_VERSION, plan_json, report_from_json, report_json
from lambda_slim.report.model import (
    BuildPlan,
    BuildResult,
    CachedBuild,
    FileRow,
    IdenticalGroup,
    LayerReport,
    PackageRow,
    RuleRow,
    StripSkip,
    TraceSummary,
    WheelRow,
    ZipInfo,
)
from lambda_slim.target.runtimes import parse_target
from lambda_slim.tree.staging import PlanEntry
from lambda_slim.verify.probes import Culprit, SmokeOutcome, VerifyReport
from lambda_slim.verify.trace import TraceInfo


def _report(final: int = 900, budget: int = 1000) -> LayerReport:
    return LayerReport(
        target=parse_target("python3.11", "arm64"), requirements_path="/p/requirements.txt",
        requested=("numpy",), budget_bytes=budget, installed_bytes=2000, final_bytes=final,
        compiled_bytes=10, files=3, zip=ZipInfo("/p/layer.zip", 400, "ab" * 32),
        resolved=(WheelRow("numpy", "2.0", "numpy-2.0-cp311.whl", "cd" * 32),),
        packages=(PackageRow("numpy", "2.0", 2000, final, 2000 - final, 5, 0.9),),
        rules=(RuleRow("tests", 2, 1100), RuleRow("compile (added)", 0, -10)),
        verify=VerifyReport("repaired", "/usr/bin/python3.11", 7, ["w"], ["f"],
                            [Culprit("tests", "numpy/testing/x.py", "numpy")],
                            [SmokeOutcome("/p/smoke.py", True)], environment="sandbox"),
        strip_skipped=(StripSkip("numpy/x.so", "misaligned"),), tests_kept=("numpy/t.py",),
        largest_files=(FileRow("python/numpy/a.so", 500, "numpy"),),
        trace=TraceSummary(True, TraceInfo(("/p/smoke.py",), "package", 2, 30, 1, 4, 50),
                           (IdenticalGroup(70000, ("python/a", "python/b")),)),
        advice=("a",), timings={"resolve": 1.5, "total": 3.25}, notes=("n",),
    )


def test_the_json_reads_back_into_the_same_typed_report() -> None:
    for rep in (_report(), replace(_report(), cached=True, zip=None),
                replace(_report(), trace=TraceSummary(False, None, (), 4, 50))):
        data = json.loads(json.dumps(report_json(rep)))
        assert data["schema_version"] == SCHEMA_VERSION
        assert report_from_json(data) == rep


def test_a_report_of_another_schema_is_not_read() -> None:
    data = report_json(_report())
    data["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(ValueError):
        report_from_json(data)


def test_every_result_shape_answers_over_budget() -> None:
    over, within = _report(final=1001), _report(final=1000)
    assert BuildResult(over, ()).over_budget and not BuildResult(within, ()).over_budget
    assert CachedBuild(over, "k").over_budget and not CachedBuild(within, "k").over_budget
    dry = BuildPlan("dry-run", 1000, (PlanEntry("a.py", "tests", 5),), ("x.so",))
    assert dry.over_budget is False
    preview = BuildPlan("trace", 1000, (), report=over,
                        trace_plan=(FileRow("python/numpy/b.py", 3, "numpy"),))
    assert preview.over_budget
    assert plan_json(preview)["trace_plan"] == [
        {"path": "python/numpy/b.py", "bytes": 3, "package": "numpy"}]
