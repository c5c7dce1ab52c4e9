"""Typed build reports with every section filled in (overflow, function, options, variants,
gpu, borrowed libraries, the per-file tree), for the JSON, HTML and validation tests."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from lambda_slim.native.borrow import Borrowed
from lambda_slim.report.files import fate_tree
from lambda_slim.report.jsonio import report_json
from lambda_slim.report.model import (
    FileRow,
    FunctionSummary,
    HandlerRow,
    IdenticalGroup,
    LayerReport,
    LayerRow,
    OptionRow,
    OverflowSummary,
    PackageRow,
    PackedRow,
    RuleRow,
    StripSkip,
    TmpNeed,
    TraceSummary,
    VariantsSummary,
    WheelRow,
    ZipInfo,
)
from lambda_slim.resolve.variants import Replacement
from lambda_slim.rules.gpu import GpuDecision
from lambda_slim.target.runtimes import parse_target
from lambda_slim.verify.probes import Culprit, SmokeOutcome, VerifyReport
from lambda_slim.verify.trace import TraceInfo

INSTALLED = {
    "pkg/__init__.py": 100, "pkg/core.so": 5000, "pkg/tests/__init__.py": 10,
    "pkg/tests/test_a.py": 300, "pkg/tests/data/x.csv": 700, "pkg-1.0.dist-info/RECORD": 50,
    "pkg-1.0.dist-info/METADATA": 900, "other/mod.py": 40,
}
FINAL = {"pkg/__init__.py": 100, "pkg/core.so": 2000, "pkg/__pycache__/__init__.cpython-312.pyc": 80,
         "pkg-1.0.dist-info/METADATA": 120, "other/mod.py": 40}
CHANGES = [
    ("pkg/tests/__init__.py", "tests", 10, None), ("pkg/tests/test_a.py", "tests", 300, None),
    ("pkg/tests/data/x.csv", "tests", 700, None), ("pkg-1.0.dist-info/RECORD", "dist-info", 50, None),
    ("pkg-1.0.dist-info/METADATA", "dist-info", 900, 120), ("pkg/core.so", "strip", 5000, 2000),
]


def owner(rel: str) -> str:
    return "(unowned)" if rel.startswith("other/") else "pkg"


def tree() -> dict[str, Any]:
    return fate_tree(owner, INSTALLED, FINAL, CHANGES)


def small_report() -> LayerReport:
    """A small layer: one distribution, two rules, verified; no optional section."""
    return LayerReport(
        target=parse_target("python3.12", "x86_64"), requirements_path="/p/requirements.txt",
        requested=("pkg",), budget_bytes=262_144_000, installed_bytes=7100, final_bytes=2340,
        compiled_bytes=80, files=5, zip=ZipInfo("/p/layer.zip", 1500, "ab" * 32),
        resolved=(WheelRow("pkg", "1.0", "pkg-1.0-py3-none-any.whl", "cd" * 32),),
        packages=(PackageRow("pkg", "1.0", 7060, 2300, 4760, 0, 0.0, 1400),),
        rules=(RuleRow("tests", 3, 1010), RuleRow("compile (added)", 0, -80)),
        verify=VerifyReport("passed", "/usr/bin/python3.12", 2),
        strip_skipped=(), tests_kept=(),
        largest_files=(FileRow("python/pkg/core.so", 2000, "pkg"),),
        trace=TraceSummary(False), advice=(), tree=tree(),
    )


def full_report() -> LayerReport:
    """Every section of the report filled in, each with values that must survive a round trip."""
    return replace(
        small_report(),
        verify=VerifyReport("repaired", "/usr/bin/python3.12", 7, ["a warning"], ["a failure"],
                            [Culprit("tests", "pkg/tests/x.py", "pkg")],
                            [SmokeOutcome("/p/smoke.py", True)], environment="sandbox",
                            init_ms=840.2, max_rss_bytes=150 * 2**20),
        strip_skipped=(StripSkip("pkg/x.so", "misaligned"),), tests_kept=("pkg/t.py",),
        trace=TraceSummary(True, TraceInfo(("/p/smoke.py",), "package", 2, 30, 1, 4, 50),
                           (IdenticalGroup(70000, ("python/a", "python/b")),)),
        advice=("use xgboost-cpu",), timings={"resolve": 1.5, "total": 3.25}, notes=("n",),
        requirements_kind="uv.lock", locked=True,
        variants=VariantsSummary(True, (Replacement("xgboost", "xgboost-cpu", "CPU-only build",
                                                    "https://pypi.org/project/xgboost-cpu/",
                                                    "requested", "xgboost-cpu==3.4.1", "3.4.1"),),
                                 {"nvidia-nccl-cu12": "only xgboost needed it"}, {"six": "pinned"}),
        gpu=(GpuDecision("nvidia-cublas", "12", 1234, True, "no kept ELF links it",
                         ("libcublas.so.12",), ()),),
        requirement_lines=("pkg",), requires={"pkg": ("other>=1",)},
        overflow=OverflowSummary(
            packed=(PackedRow("scipy", "1.18.1", 90 * 2**20, ".lambda-slim-overflow/scipy.zip",
                              30 * 2**20, 1200, "ef" * 32),),
            excluded={"numpy": "imported at start"}, before_bytes=300_000_000,
            after_bytes=200_000_000, budget=262_144_000, fits=True, compression="deflate",
            archive_bytes=30 * 2**20, ephemeral=TmpNeed(95 * 2**20, 512, 10240, True, 512),
            environment="sandbox", startup_modules=("numpy",), init_ms_without=812.4,
            init_ms_with=1530.0, samples_ms_without=(812.4, 820.0),
            samples_ms_with=(1530.0, 1502.5), max_rss_bytes_with=2**27, verified=True),
        function=FunctionSummary(
            source="/p/src", code_files=3,
            handler=HandlerRow("app.handler", True, "sandbox", None),
            layers=(LayerRow("/p/base.zip", 100_000_000, ("numpy==2.0",)),),
            layers_bytes=100_000_000, limit_bytes=262_144_000, provided_by_layers=("numpy==2.0",),
            shadowing_layers=(), with_project=False),
        borrowed=(Borrowed("libgomp.so.1", "scipy.libs/libgomp-a34b.so.1", "lib/libgomp.so.1",
                           ("/opt/python/x.so",), ("GOMP_4.0",), 4096, "scipy", "sandbox"),),
        over_budget_options=(OptionRow("overflow", 90_000_000, True, "--overflow", "would pack"),
                             OptionRow("container image", 300_000_000, True, "package it",
                                       "the last resort")),
    )


def report_doc(rep: LayerReport | None = None, **extra: Any) -> dict[str, Any]:
    """The report's JSON (as ``build --json`` writes it), with top-level keys replaced."""
    doc = report_json(rep or small_report())
    doc.update(extra)
    return doc
