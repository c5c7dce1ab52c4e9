"""Build stages that make a layer fit and run: overflow, and libraries served from the layer.

**Overflow**: pack, then prove the layer starts as Lambda would start it.

Runs after verification when ``--overflow`` is on and the layer is over budget. It learns which
top-level modules a ``--smoke`` run imports (those stay unpacked), packs the largest remaining
distributions (:mod:`lambda_slim.artifact.overflow`), then starts the packed layer the way the
Python runtime's ``bootstrap.py`` does (``site.addsitedir("/opt/python")``, which runs the
``.pth``), where the build runs layer code (:mod:`lambda_slim.target.placement`: the
Lambda-like sandbox with a fresh ``/tmp`` for every run, under QEMU for another machine),
and imports every requested distribution's
top-level modules. Init time is measured the same way before and after packing, so the
report shows what unpacking costs.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from ..artifact.overflow import (
    PTH_NAME,
    OverflowOutcome,
    OverflowPlan,
    StartRun,
    apply_overflow,
    candidates,
    plan_overflow,
)
from ..errors import NativeError, VerifyError
from ..inputs.config import BuildConfig
from ..native.borrow import Borrowed
from ..progress import Progress
from ..report.model import OptionRow
from ..resolve.install import Resolution
from ..rules.gpu import GpuDecision
from ..target.bootstrap import BOOTSTRAP_CODE
from ..target.measure import INIT_LIMIT_MS, MeasureFailed, RunChild, measure_init
from ..target.placement import Placement
from ..target.proc import tail
from ..target.python import TargetPython
from ..target.sandbox import LAYER_DIR
from ..tree.inventory import Inventory, walk
from .alternatives import over_budget_options, payload_dists

#: Run after the imports of a start: the overflow start-up code's state (``unpacked``, …).
OVERFLOW_STATE = ('_b = sys.modules.get("_lambda_slim_overflow")\n'
                  '_out["overflow"] = _b.STATUS["state"] if _b else "none"\n')

STARTUP_MARK = "@@LAMBDA_SLIM_STARTUP@@"
#: A smoke script run as ``__main__`` after Lambda's sys.path setup; prints the top-level
#: modules loaded by its end.
STARTUP_CODE = BOOTSTRAP_CODE + r"""
import json, runpy, sys
_lambda_slim_bootstrap(json.loads(sys.argv[1]))
sys.argv = [sys.argv[2]]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
finally:
    print("\nMARK" + json.dumps(sorted({m.partition(".")[0] for m in sys.modules})))
""".replace("MARK", STARTUP_MARK)


def _layer_run(placement: Placement, tp: TargetPython, root: Path) -> RunChild:
    """Runs with the layer at ``root``: in the sandbox (a fresh /tmp each run), or on the
    host with a fresh overflow folder standing in for a fresh /tmp."""
    def run(argv: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
        if placement.sandboxed:
            return tp.run(argv, layer=root, timeout=timeout)
        with tempfile.TemporaryDirectory(prefix="lambda-slim-tmp-") as tmp:
            fresh = replace(tp, env={**tp.env, "LAMBDA_SLIM_OVERFLOW_DIR": tmp})
            return fresh.run(argv, layer=root, timeout=timeout)
    return run


def start_layer(placement: Placement, tp: TargetPython, root: Path, modules: Sequence[str],
                runs: int, timeout: float) -> tuple[StartRun, list[float], dict[str, str]]:
    """Start the layer at ``root`` as Lambda would (bootstrap's sys.path setup, which runs
    its ``.pth`` files) and import ``modules``, ``runs`` times; the median start, the
    samples and the imports that failed."""
    got = measure_init(_layer_run(placement, tp, root), modules, [tp.inside(root, layer=root)],
                       environment=placement.isolation_name, runs=runs, timeout=timeout,
                       keep_going=True, report=OVERFLOW_STATE)
    if isinstance(got, MeasureFailed):
        raise VerifyError(
            "The overflowed layer did not start as Lambda would start it "
            f"({placement.isolation_name}; exit {got.returncode}):\n{got.output}",
            hint="Rebuild without --overflow and report this output.")
    state = str(got.extra.get("overflow", "none"))
    return (StartRun(got.init_ms, got.max_rss_bytes, state), list(got.samples_ms),
            dict(got.failed))


LOAD_CODE = "import ctypes, sys\nfor _p in sys.argv[1:]:\n    ctypes.CDLL(_p)\n"


def verify_borrowed(placement: Placement, root: Path, borrowed: Sequence[Borrowed],
                    ) -> list[Borrowed]:
    """Load every file that needed a borrowed library, as Lambda's loader would (the layer's
    ``lib/`` at ``/opt/lib``), where the build runs layer code (emulated too); raises
    NativeError when one still does not load."""
    tp = placement.runnable
    if not borrowed or tp is None:
        return list(borrowed)
    needed = sorted({f for b in borrowed for f in b.needed_by})  # as /opt/python/... paths
    files = [tp.inside(root / f[len(LAYER_DIR) + 1:], layer=root) for f in needed]
    proc = tp.run(["-I", "-S", "-c", LOAD_CODE, *files], layer=root, timeout=120.0)
    if proc.returncode != 0:
        raise NativeError(
            "A library copied into the layer's lib/ did not satisfy its dependents when "
            f"loaded as on Lambda ({placement.isolation_name}):\n"
            f"{tail((proc.stdout or '') + (proc.stderr or ''), 10)}",
            hint="Provide the library in a layer's lib/ and pass --system-lib SONAME.")
    return [replace(b, verified=placement.isolation_name) for b in borrowed]


def startup_modules(tp: TargetPython, root: Path, smoke: Sequence[Path],
                    timeout: float) -> list[str]:
    """Top-level modules loaded by the end of each smoke script run against the layer."""
    mods: set[str] = set()
    for script in smoke:
        script = script.resolve()
        task = [script.parent]
        paths = [tp.inside(p, layer=root, paths=task) for p in (script.parent, root)]
        proc = tp.run(["-I", "-S", "-B", "-c", STARTUP_CODE, json.dumps(paths),
                       tp.inside(script, layer=root, paths=task)],
                      layer=root, paths=task, cwd=script.parent, timeout=timeout)
        out = proc.stdout or ""
        idx = out.rfind(STARTUP_MARK)
        if idx >= 0:
            mods.update(json.loads(out[idx + len(STARTUP_MARK):].splitlines()[0]))
    return sorted(mods)


#: Lambda's bootstrap.py runs /opt/python's .pth files only when the function sets no
#: PYTHONPATH; wrappers that set it skip them (open-telemetry/opentelemetry-lambda#1714).
PYTHONPATH_NOTE = (
    f"overflow: the packed distributions come back through python/{PTH_NAME}, which Lambda's "
    "bootstrap runs only when the function sets no PYTHONPATH: a wrapper that sets it (the AWS "
    "Distro for OpenTelemetry and Application Signals wrappers set /var/runtime:/opt/python) "
    "skips /opt/python's .pth files and every packed package is then missing "
    "(open-telemetry/opentelemetry-lambda#1714); keep PYTHONPATH unset on functions using this "
    "layer, or build without --overflow")

#: The overflow start may unpack hundreds of MB (minutes under emulation).
_START_TIMEOUT = 600.0


def overflow_stage(
    config: BuildConfig, placement: Placement, inv: Inventory, root: Path,
    final: Mapping[str, int], requested: Collection[str], work: Path, *, runs: int = 3,
) -> tuple[OverflowOutcome, list[str]]:
    """Pack, apply and prove; returns the outcome and notes for the report.

    ``requested`` names the distributions the user asked for (variants included): their
    top-level modules, and those of every distribution that may be packed, must import from
    the packed layer if they imported before packing.
    """
    notes: list[str] = []
    tp = placement.runnable
    startup = None
    if tp is not None and config.smoke:
        startup = startup_modules(tp, root, config.smoke, config.smoke_timeout)
    cands = candidates(payload_dists(inv, final), final, startup)
    modules = sorted({m for n in requested if n in inv.dists for m in inv.dists[n].top_level}
                     | {m for c in cands if c.excluded is None for m in c.top_level
                        if m in (inv.dists[c.name].top_level if c.name in inv.dists else ())})
    outcome = OverflowOutcome(
        OverflowPlan((), tuple(cands), sum(final.values()), sum(final.values()), config.budget,
                     "deflate", work), placement.isolation_name, startup)
    before = None
    broken: dict[str, str] = {}
    if tp is not None:
        before, outcome.samples_before, broken = start_layer(placement, tp, root, modules,
                                                             runs, _START_TIMEOUT)
        modules = [m for m in modules if m not in broken]  # failed before packing too
    t0 = time.perf_counter()
    plan = plan_overflow(root, cands, sum(final.values()), config.budget, work,
                         jobs=config.workers)
    notes.append(f"overflow: packed {len(plan.packed)} distribution(s) in "
                 f"{time.perf_counter() - t0:.1f}s")
    outcome.plan, outcome.before = plan, before
    if not plan.packed:
        return outcome, notes
    outcome.removed = apply_overflow(root, plan)
    notes.append(PYTHONPATH_NOTE)
    if tp is not None:
        after, outcome.samples_after, failed = start_layer(placement, tp, root, modules, runs,
                                                           _START_TIMEOUT)
        if failed or after.overflow_state != "unpacked":
            shown = "\n".join(f"  {m}: {e}" for m, e in list(failed.items())[:10])
            raise VerifyError(
                f"The overflowed layer does not import as Lambda would start it "
                f"({placement.isolation_name}; unpack state: {after.overflow_state}):\n{shown}",
                hint="Rebuild without --overflow, or keep the failing package in the layer "
                "with --smoke (packages a smoke run imports at start are never packed).")
        outcome.after = after
        if after.init_ms > INIT_LIMIT_MS:
            notes.append(
                f"overflow: init took {after.init_ms / 1000:.1f} s with overflow here "
                f"({before.init_ms / 1000 if before else 0:.1f} s without), over Lambda's "
                f"{INIT_LIMIT_MS / 1000:.0f} s init limit; give the function more memory (more "
                "CPU), or pack less with --budget/--smoke")
    return outcome, notes


def fit_stage(
    config: BuildConfig, placement: Placement, inv: Inventory, root: Path,
    final: dict[str, int], requested: Collection[str], resolution: Resolution,
    gpu: Sequence[GpuDecision], trace_potential: int | None, work: Path, progress: Progress,
    timings: dict[str, float], notes: list[str],
) -> tuple[OverflowOutcome | None, list[OptionRow], dict[str, int]]:
    """After verification: overflow when asked and over budget, then the ranked options if
    still over. Returns (overflow, options, the final sizes)."""
    wanted = set(requested) | {r.variant for r in resolution.replacements if r.skipped is None}
    overflow = None
    if config.overflow and sum(final.values()) > config.budget:
        progress.stage("overflow")
        t0 = time.perf_counter()
        overflow, more = overflow_stage(config, placement, inv, root, final, wanted,
                                        work / "overflow")
        notes += more
        if PYTHONPATH_NOTE in more:
            progress.note(PYTHONPATH_NOTE)
        if placement.runnable is None:
            unproven = ("overflow: the packed layer's start is NOT proven: layer code cannot "
                        "run on this machine (see above)")
            notes.append(unproven)
            progress.note(unproven)
        final = walk(root)
        timings["overflow"] = time.perf_counter() - t0
    options: list[OptionRow] = []
    if sum(final.values()) > config.budget:
        t0 = time.perf_counter()
        options = over_budget_options(config, inv, root, final, wanted, gpu, trace_potential,
                                      resolution.replacements, overflow, work)
        timings["options"] = time.perf_counter() - t0
    return overflow, options, final
