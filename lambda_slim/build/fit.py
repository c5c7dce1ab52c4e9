"""Build stages that make a layer fit and run: overflow, and libraries served from the layer.

**Overflow**: pack, then prove the layer starts as Lambda would start it.

Runs after verification when ``--overflow`` is on and the layer is over budget. It learns which
top-level modules a ``--smoke`` run imports (those stay unpacked), packs the largest remaining
distributions (:mod:`lambda_slim.artifact.overflow`), then starts the packed layer the way the
Python runtime's ``bootstrap.py`` does (``site.addsitedir("/opt/python")``, which runs the
``.pth``), in the Lambda-like sandbox when this machine allows it (layer read-only at
``/opt/python``, a fresh ``/tmp`` for every run), and imports every requested distribution's
top-level modules. Init time is measured the same way before and after packing, so the
report shows what unpacking costs.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import tempfile
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from ..artifact.overflow import (
    OverflowOutcome,
    OverflowPlan,
    StartRun,
    apply_overflow,
    candidates,
    lambda_start_code,
    plan_overflow,
)
from ..errors import NativeError, VerifyError
from ..inputs.config import BuildConfig
from ..native.borrow import Borrowed, satisfy_from_layer
from ..native.closure import ClosureResult, closure_error
from ..native.elf import NativeFile
from ..progress import Progress
from ..report.model import OptionRow
from ..resolve.install import Resolution
from ..rules.gpu import GpuDecision
from ..target.measure import INIT_LIMIT_MS, PEAK_RSS_CODE, parse_measure
from ..target.proc import Runner, tail
from ..target.python import Interpreter, TargetPython
from ..target.sandbox import LAYER_DIR, Sandbox, make_sandbox, sandbox_unavailable
from ..target.syslibs import SystemLibraries, runtime_syslibs
from ..tree.inventory import Inventory, walk
from .alternatives import over_budget_options, payload_dists

#: Started as ``python -I -S -B -c CODE ARGS``: Lambda's sys.path setup for the layer (which
#: runs the overflow .pth), then the imports, timed from before the setup.
START_CODE = PEAK_RSS_CODE + r"""
import importlib, json, sys, time, traceback
_args = json.loads(sys.argv[1])
_t0 = time.perf_counter()
exec(_args["prelude"])
_failed = {}
for _m in _args["modules"]:
    try:
        importlib.import_module(_m)
    except BaseException as _e:
        _failed[_m] = "".join(traceback.format_exception_only(type(_e), _e)).strip()
_dt = time.perf_counter() - _t0
_b = sys.modules.get("_lambda_slim_overflow")
_state = _b.STATUS["state"] if _b else "none"
print("\n" + MARK + json.dumps({"init_s": _dt, "rss": _lambda_slim_peak_rss(),
                                "failed": _failed, "overflow": _state}))
""".replace("MARK", repr("@@LAMBDA_SLIM_MEASURE@@"))

STARTUP_CODE = r"""
import json, runpy, sys
sys.path.insert(0, sys.argv[1])
sys.argv = [sys.argv[2]]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
finally:
    print("\n@@LAMBDA_SLIM_STARTUP@@" + json.dumps(sorted({m.partition(".")[0] for m in sys.modules})))
"""


class _Starter:
    """Starts fresh interpreters on the layer: in the sandbox, or on the host with a fresh
    overflow folder standing in for a fresh /tmp."""

    def __init__(self, interp: Interpreter, root: Path, env: Mapping[str, str], runner: Runner,
                 sandbox: Sandbox | None) -> None:
        self.interp, self.root, self.env, self.runner, self.sandbox = (
            interp, root, env, runner, sandbox)
        self.environment = "sandbox" if sandbox is not None else "host"

    def run(self, args: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
        """``python ARGS`` through the TargetPython seam: in the sandbox, or on the host."""
        if self.sandbox is not None:
            tp = TargetPython(self.interp, self.env, self.runner, self.sandbox)
            return tp.run(args, layer=self.root, timeout=timeout)
        with tempfile.TemporaryDirectory(prefix="lambda-slim-tmp-") as tmp:
            host = TargetPython(self.interp, {**self.env, "LAMBDA_SLIM_OVERFLOW_DIR": tmp},
                                self.runner)
            return host.run(args, timeout=timeout)

    @property
    def layer(self) -> str:
        return LAYER_DIR if self.sandbox is not None else str(self.root)

    def start(self, modules: Sequence[str], runs: int, timeout: float
              ) -> tuple[StartRun, list[float], dict[str, str]]:
        arg = json.dumps({"prelude": lambda_start_code(self.layer), "modules": list(modules)})
        samples: list[float] = []
        peak, state, failed = 0, "none", {}
        for _ in range(max(1, runs)):
            proc = self.run(["-I", "-S", "-B", "-c", START_CODE, arg], timeout)
            out = proc.stdout or ""
            got = parse_measure(out)
            if proc.returncode != 0 or got is None:
                raise VerifyError(
                    "The overflowed layer did not start as Lambda would start it "
                    f"({self.environment}):\n{tail(out + (proc.stderr or ''), 15)}",
                    hint="Rebuild without --overflow and report this output.")
            data = json.loads(out[out.rfind("@@LAMBDA_SLIM_MEASURE@@") + 23:].splitlines()[0])
            samples.append(round(got[0] * 1000.0, 1))
            peak, state, failed = max(peak, got[1]), str(data["overflow"]), data["failed"]
        return StartRun(statistics.median(samples), peak, state), samples, failed


def lambda_starter(config: BuildConfig, interp: Interpreter, root: Path,
                   env: Mapping[str, str], runner: Runner) -> tuple[_Starter, list[str]]:
    """A starter in the Lambda-like sandbox, or on the host with a note saying why."""
    why = sandbox_unavailable(env)
    if why is not None:
        return _Starter(interp, root, env, runner, None), [
            f"started on the host, not in the sandbox: {why}"]
    sandbox = make_sandbox(
        interp.path, runtime_syslibs(config.target.runtime.name, config.target.arch,
                                     config.system_libs),
        env, cache_dir=config.cache_dir / "sandbox")
    return _Starter(interp, root, env, runner, sandbox), []


LOAD_CODE = "import ctypes, sys\nfor _p in sys.argv[1:]:\n    ctypes.CDLL(_p)\n"


def verify_borrowed(config: BuildConfig, interp: Interpreter | None, root: Path,
                    borrowed: Sequence[Borrowed], env: Mapping[str, str], runner: Runner,
                    ) -> tuple[list[Borrowed], list[str]]:
    """Load every file that needed a borrowed library, as Lambda's loader would (the layer's
    ``lib/`` at ``/opt/lib``); raises NativeError when one still does not load."""
    if not borrowed or interp is None:
        return list(borrowed), []
    starter, notes = lambda_starter(config, interp, root, env, runner)
    files = sorted({f for b in borrowed for f in b.needed_by})
    if starter.sandbox is None:  # the host path of each file; the host may have the library
        files = [str(root / f[len(LAYER_DIR) + 1:]) for f in files]
    proc = starter.run(["-I", "-S", "-c", LOAD_CODE, *files], 120.0)
    if proc.returncode != 0:
        raise NativeError(
            "A library copied into the layer's lib/ did not satisfy its dependents when "
            f"loaded as on Lambda ({starter.environment}):\n"
            f"{tail((proc.stdout or '') + (proc.stderr or ''), 10)}",
            hint="Provide the library in a layer's lib/ and pass --system-lib SONAME.")
    return [replace(b, verified=starter.environment) for b in borrowed], notes


def startup_modules(starter: _Starter, smoke: Sequence[Path], timeout: float) -> list[str]:
    """Top-level modules loaded by the end of each smoke script run against the layer."""
    mods: set[str] = set()
    for script in smoke:
        host = TargetPython(starter.interp, starter.env, starter.runner)
        proc = host.run(["-I", "-c", STARTUP_CODE, str(starter.root), str(script)],
                        cwd=script.parent, timeout=timeout)
        out = proc.stdout or ""
        idx = out.rfind("@@LAMBDA_SLIM_STARTUP@@")
        if idx >= 0:
            mods.update(json.loads(out[idx + 23:].splitlines()[0]))
    return sorted(mods)


def overflow_stage(
    config: BuildConfig, interp: Interpreter | None, inv: Inventory, root: Path,
    final: Mapping[str, int], requested: Collection[str], env: Mapping[str, str],
    runner: Runner, work: Path, *, runs: int = 3,
) -> tuple[OverflowOutcome, list[str]]:
    """Pack, apply and prove; returns the outcome and notes for the report.

    ``requested`` names the distributions the user asked for (variants included): their
    top-level modules, and those of every distribution that may be packed, must import from
    the packed layer if they imported before packing.
    """
    notes: list[str] = []
    starter = None
    if interp is not None:
        starter, why = lambda_starter(config, interp, root, env, runner)
        notes += [f"overflow: {w}" for w in why]
    startup = None
    if starter is not None and config.smoke:
        startup = startup_modules(starter, config.smoke, config.smoke_timeout)
    cands = candidates(payload_dists(inv, final), final, startup)
    modules = sorted({m for n in requested if n in inv.dists for m in inv.dists[n].top_level}
                     | {m for c in cands if c.excluded is None for m in c.top_level
                        if m in (inv.dists[c.name].top_level if c.name in inv.dists else ())})
    outcome = OverflowOutcome(
        OverflowPlan((), tuple(cands), sum(final.values()), sum(final.values()), config.budget,
                     "deflate", work), starter.environment if starter else "none", startup)
    before = None
    broken: dict[str, str] = {}
    if starter is not None:
        before, outcome.samples_before, broken = starter.start(modules, runs, 600.0)
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
    if starter is not None:
        after, outcome.samples_after, failed = starter.start(modules, runs, 600.0)
        if failed or after.overflow_state != "unpacked":
            shown = "\n".join(f"  {m}: {e}" for m, e in list(failed.items())[:10])
            raise VerifyError(
                f"The overflowed layer does not import as Lambda would start it "
                f"({starter.environment}; unpack state: {after.overflow_state}):\n{shown}",
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


def borrow_stage(
    config: BuildConfig, interp: Interpreter | None, closure: ClosureResult,
    natives: Sequence[NativeFile], root: Path, lib_dir: Path, syslibs: SystemLibraries,
    env: Mapping[str, str], runner: Runner, notes: list[str],
) -> tuple[list[Borrowed], dict[str, int], ClosureResult]:
    """Misses of the closure audit served from the layer (placed, re-audited, loaded as on
    Lambda), or the exit-4 error naming what nothing serves."""
    if closure.ok:
        return [], {}, closure
    borrowed, lib_sizes, closure = satisfy_from_layer(closure, natives, root, lib_dir, syslibs)
    if not closure.ok:
        raise closure_error(closure, syslibs)
    borrowed, more = verify_borrowed(config, interp, root, borrowed, env, runner)
    notes += more
    return borrowed, lib_sizes, closure


def fit_stage(
    config: BuildConfig, interp: Interpreter | None, inv: Inventory, root: Path,
    final: dict[str, int], requested: Collection[str], resolution: Resolution,
    gpu: Sequence[GpuDecision], trace_potential: int | None, env: Mapping[str, str],
    runner: Runner, work: Path, progress: Progress, timings: dict[str, float], notes: list[str],
) -> tuple[OverflowOutcome | None, list[OptionRow], dict[str, int]]:
    """After verification: overflow when asked and over budget, then the ranked options if
    still over. Returns (overflow, options, the final sizes)."""
    wanted = set(requested) | {r.variant for r in resolution.replacements if r.skipped is None}
    overflow = None
    if config.overflow and sum(final.values()) > config.budget:
        progress.stage("overflow")
        t0 = time.perf_counter()
        overflow, more = overflow_stage(config, interp, inv, root, final, wanted, env, runner,
                                        work / "overflow")
        notes += more
        final = walk(root)
        timings["overflow"] = time.perf_counter() - t0
    options: list[OptionRow] = []
    if sum(final.values()) > config.budget:
        t0 = time.perf_counter()
        options = over_budget_options(config, inv, root, final, wanted, gpu, trace_potential,
                                      resolution.replacements, overflow, work)
        timings["options"] = time.perf_counter() - t0
    return overflow, options, final
