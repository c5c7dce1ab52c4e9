"""Verdicts that cannot be fooled, and what the verified layer costs at init.

"It fails before pruning too" only excuses an optional submodule that raises an ordinary
error. A top-level package (above all a requested one), a smoke script, a missing shared
library, a write into the read-only layer and a timeout are never excused: the layer would
fail on Lambda just the same. After a pass, fresh interpreters import the requested packages
to measure the init time and the peak memory (:mod:`lambda_slim.target.measure`).
"""

from __future__ import annotations

import subprocess
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from ..errors import VerifyError
from ..progress import Progress
from ..sizes import human
from ..target.measure import INIT_LIMIT_MS, Measurement, measure_init
from ..target.python import TargetPython
from .causes import MISSING_LIBRARY, READ_ONLY, TIMEOUT, Cause, classify
from .probes import VerifyReport

SMOKE_PREFIX = "smoke:"


def describe_item(item: str, required: Collection[str] = ()) -> str:
    if item.startswith(SMOKE_PREFIX):
        return f"smoke script {item[len(SMOKE_PREFIX):]}"
    return f"requested package {item}" if item in required else item


def unexcusable(failed: Mapping[str, str]) -> list[tuple[str, Cause]]:
    """The failures that no "fails before pruning too" may excuse."""
    out = []
    for item, err in sorted(failed.items()):
        cause = classify(err)
        if item.startswith(SMOKE_PREFIX) or "." not in item or not cause.excusable:
            out.append((item, cause))
    return out


def broken_layer(fatal: Sequence[tuple[str, Cause]], isolation: str,
                 required: Collection[str], *, pruned_only: bool = False) -> VerifyError:
    """The exit-5 error naming each failure's cause (``isolation``: where the probes ran)."""
    where = "the Lambda-like sandbox" if isolation != "host" else "this host"
    lines = "\n".join(f"  - {describe_item(i, required)}: {c.describe()}" for i, c in fatal)
    when = ("in the pruned layer" if pruned_only
            else "even with nothing pruned, so it is not caused by pruning and")
    kinds = {c.kind for _i, c in fatal}
    hint = ("Every requested package and each top-level package it provides must import, "
            "and smoke scripts must pass, as they would on Lambda.")
    if MISSING_LIBRARY in kinds:
        hint += (" A missing library: ship it in a layer's lib/ (/opt/lib) and pass "
                 "--system-lib SONAME, or use a variant that does not need it.")
    if READ_ONLY in kinds:
        hint += " Write under /tmp (the only writable place on Lambda), not next to the code."
    if TIMEOUT in kinds:
        hint += " Raise the limit with --smoke-timeout SECONDS if the script is just slow."
    return VerifyError(f"The layer does not work in {where} ({when} would fail on Lambda "
                       f"too):\n{lines}", hint=hint)


def measure(tp: TargetPython, paths: Sequence[Path], modules: Sequence[str],
            report: VerifyReport, progress: Progress, *, smoke_rss: int | None,
            memory_mb: int | None, runs: int = 3) -> None:
    """Fill ``report.init_ms``/``max_rss_bytes``; warn over the init limit; with
    ``memory_mb``, fail (exit 5) when the peak does not fit."""
    layer, extra = paths[0], tuple(paths[1:])

    def run(argv: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
        return tp.run(argv, layer=layer, paths=extra, cwd=layer, timeout=timeout)

    got = measure_init(run, modules, [tp.inside(p, layer=layer, paths=extra) for p in paths],
                       environment=tp.isolation.name, runs=runs) if modules else None
    peaks = [p for p in (smoke_rss,) if p is not None]
    if isinstance(got, Measurement):
        report.init_ms = got.init_ms
        peaks.append(got.max_rss_bytes)
        if got.over_init_limit:
            msg = (f"importing {', '.join(modules)} takes {got.init_ms / 1000:.1f} s in a fresh "
                   f"interpreter, over Lambda's {INIT_LIMIT_MS / 1000:.0f} s init limit: cold "
                   "starts would time out (import lazily, or trim the layer)")
            report.warnings.append(msg)
            progress.note(msg)
    elif got is not None:
        report.warnings.append(f"init time not measured: the timing run failed "
                               f"(exit {got.returncode}): {got.output[-200:]}")
    report.max_rss_bytes = max(peaks) if peaks else None
    if memory_mb is not None and report.max_rss_bytes is not None \
            and report.max_rss_bytes > memory_mb * 1024 * 1024:
        raise VerifyError(
            f"Peak memory {human(report.max_rss_bytes)} ({report.max_rss_bytes:,} bytes, "
            f"imports and smoke scripts in the {report.environment}) does not fit a function "
            f"of --memory {memory_mb} MB.",
            hint="Give the function more memory (--memory and the function's setting), or "
                 "import less at start.")
