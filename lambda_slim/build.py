"""The build as a sequence of stages with typed inputs and outputs.

resolve -> install -> inventory -> prune -> strip -> native audit -> compile -> verify ->
archive. Nothing here prints or exits; progress goes through :class:`Progress`, problems are
raised as :class:`LambdaSlimError` subclasses, and the result is a :class:`BuildResult`.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import function as fn_pkg
from .artifact.atomic import require_parent
from .artifact.manifest import manifest_json
from .artifact.zipwrite import write_layer_zip
from .cache import restore_cached, result_key, store_cached, write_sidecars
from .errors import LambdaSlimError, NativeError, ToolMissingError
from .fit import borrow_stage, fit_stage
from .inputs.config import BuildConfig
from .inputs.locks import read_dependencies
from .inputs.requirements import Requirements
from .native.closure import audit_natives
from .native.elf import NativeFile, audit, scan_native
from .native.strip import find_strip, strip_candidates, strip_stage
from .progress import NullProgress, Progress
from .report.jsonio import manifest_sizes, to_json
from .report.model import BuildResult
from .resolve.install import Resolution, install, resolve
from .resolve.variants import variant_table
from .rules import PruneContext
from .rules.plan import make_plan
from .target.proc import Runner
from .target.proc import run as default_runner
from .target.python import Interpreter, find_interpreter
from .target.runtimes import host_machine
from .target.syslibs import runtime_syslibs
from .tree.compile import compile_tree
from .tree.inventory import Inventory, owner_of, read_inventory, walk
from .tree.staging import PlanEntry, Staging, remove_tree
from .verify.diagnose import verify_tree
from .verify.probes import VerifyReport, check_loadable
from .verify.trace import identical_files, trace_stage


@dataclass(frozen=True)
class Tools:
    """Everything external, resolved before any work starts."""

    interpreter: Interpreter | None
    pip_python: Interpreter
    strip: str | None
    #: False when the target's machine differs from this one: its binaries can't run here.
    can_execute: bool = True


def check_tools(config: BuildConfig, env: Mapping[str, str]) -> tuple[Tools, list[str]]:
    notes: list[str] = []
    version = config.target.runtime.python
    interp = find_interpreter(version, env, config.python)
    if interp is None:
        v = config.target.runtime.python_str
        msg = (
            f"No Python {v} interpreter found (looked for $LAMBDA_SLIM_PYTHON_{version[0]}_"
            f"{version[1]}, python{v} on PATH, pyenv and uv installs)."
        )
        if config.require_verify:
            raise ToolMissingError(
                msg, hint=f"Install Python {v} (pyenv install {v}) or pass --python PATH."
            )
        notes.append(
            msg + f" Verification and byte-compilation are skipped (pip runs under this Python "
            f"with environment markers judged for Python {v}). "
            f"Install Python {v} (e.g. `pyenv install {v}`) for a verified build."
        )
    pip_python = interp or Interpreter(Path(sys.executable), sys.version_info[:2])
    host = host_machine()
    can_execute = host == config.target.machine
    if not can_execute:
        msg = (
            f"This machine is {host}; {config.target.arch} binaries cannot run here, so the "
            "layer cannot be imported to verify it."
        )
        if config.require_verify or config.trace:
            raise ToolMissingError(
                msg + (" --trace needs to run the workload." if config.trace else ""),
                hint=f"Build on an {config.target.arch} machine (e.g. an arm64 CI runner or "
                "Graviton instance), or drop --require-verify/--trace.",
            )
        notes.append(msg + " Verification is skipped; byte-compilation still runs "
                     "(bytecode is architecture-independent); environment markers are judged "
                     f"for {config.target.machine}.")
    if config.create_output_dir and not config.dry_run:
        config.output.parent.mkdir(parents=True, exist_ok=True)
    strip = find_strip(config.target, env) if "strip" in config.rules else None
    if not config.dry_run and not config.trace_preview:
        require_parent(config.output)
    if config.json_path is not None:
        require_parent(config.json_path, "--json")
    return Tools(interp, pip_python, strip, can_execute), notes


@contextlib.contextmanager
def _timed(timings: dict[str, float], name: str) -> Iterator[None]:
    t0 = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - t0


@dataclass
class BuildOutcome:
    """What the CLI shows: the versioned JSON report, and the plan for a dry run."""

    report: dict[str, Any]
    plan: list[PlanEntry]
    cached: bool = False

    @property
    def over_budget(self) -> bool:
        return int(self.report["final_bytes"]) > int(self.report["budget_bytes"])


def build(
    config: BuildConfig,
    env: Mapping[str, str],
    *,
    runner: Runner = default_runner,
    progress: Progress | None = None,
) -> BuildOutcome:
    """Run every stage (or reuse an identical earlier build) and write the outputs.

    Raises on bad input, a failed native audit or a failed verification; an over-budget
    layer is not an error here (the zip is written; the CLI exits 1).
    """
    progress = progress or NullProgress()
    t0 = time.perf_counter()
    config = fn_pkg.prepare(config)
    reqs = read_dependencies(config.requirements, config.target, config.selection, config.cache_dir)
    tools, notes = check_tools(config, env)
    notes += reqs.notes
    for n in notes:
        progress.note(n)
    key = result_key(config, reqs, tools.strip, tools.interpreter)
    use_cache = (config.use_result_cache and not config.refresh and not config.dry_run
                 and not config.trace_preview and not config.with_project)
    if use_cache:
        hit = restore_cached(config, key, t0)
        if hit is not None:
            return BuildOutcome(hit, [], cached=True)
    result = _build_fresh(config, env, reqs, tools, notes, runner, progress)
    if config.dry_run:
        cands = (strip_candidates(result.natives, config.target.machine, config.keep)
                 if "strip" in config.rules else [])
        return BuildOutcome({"strip_candidates": cands}, result.plan)
    rep = to_json(result)
    rep["timings"]["total"] = round(time.perf_counter() - t0, 3)
    if config.trace_preview:
        rep["trace_plan"] = [
            {"path": "python/" + e.rel, "bytes": e.bytes,
             "package": owner_of(e.rel, result.inventory.owner)} for e in result.plan
        ]
        return BuildOutcome(rep, result.plan)
    manifest = manifest_json(config.target, result.archive.sha256 if result.archive else None,
                             result.plan, {**{k: rep[k] for k in ("variants", "gpu", "overflow",
                                                                  "borrowed")
                                              if k in rep}, **manifest_sizes(rep)})
    write_sidecars(config, rep, manifest)
    store_cached(config, key, rep, manifest)
    return BuildOutcome(rep, result.plan)


def _identical_json(root: Path, sizes: Mapping[str, int]) -> list[dict[str, object]]:
    """The ten largest groups of byte-identical files, for the report."""
    return [{"bytes": size, "paths": ["python/" + p for p in paths]}
            for size, paths in identical_files(root, sizes)[:10]]


def _trace_extras(
    config: BuildConfig, tools: Tools, staging: Staging, natives: list[NativeFile],
    final_sizes: dict[str, int], env: Mapping[str, str], runner: Runner, progress: Progress,
    timings: dict[str, float],
) -> dict[str, object]:
    """Byte-identical files, and what a trace of the smoke scripts would save when the trace
    rule is off (shown in every report that has a workload)."""
    out: dict[str, object] = {"identical_files": _identical_json(staging.root, final_sizes)}
    if not config.trace and config.smoke and tools.interpreter is not None and tools.can_execute:
        with _timed(timings, "trace"):
            try:
                tr = trace_stage(tools.interpreter, staging, natives, config.smoke,
                                 config.trace_granularity, config.keep, env, runner,
                                 apply=False)
            except LambdaSlimError:
                return out
        out["potential_bytes"] = tr.info["removed_bytes"]
        out["potential_files"] = tr.info["removed_files"]
    return out


def _preview_result(
    config: BuildConfig, reqs: Requirements, resolution: Resolution, inv: Inventory,
    entries: list[PlanEntry], natives: list[NativeFile], tools: Tools,
    timings: dict[str, float], notes: list[str], trace_info: dict[str, object],
    staging: Staging,
) -> BuildResult:
    sizes = walk(staging.root)
    trace_info["identical_files"] = _identical_json(staging.root, sizes)
    return BuildResult(
        config=config, requirements=reqs, resolution=resolution, inventory=inv,
        plan=entries, natives=natives, verify=VerifyReport("skipped", None),
        final_sizes=sizes, compiled_bytes=0, archive=None, timings=timings, notes=notes, trace=trace_info,
    )


def _sweep_stale(builds: Path, max_age: float = 86400.0) -> None:
    """Staging folders of builds killed outright (SIGKILL, power loss) go after a day."""
    now = time.time()
    for d in builds.glob("build-*"):
        with contextlib.suppress(OSError):
            if now - d.stat().st_mtime > max_age:
                remove_tree(d)


def _build_fresh(
    config: BuildConfig,
    env: Mapping[str, str],
    reqs: Requirements,
    tools: Tools,
    notes: list[str],
    runner: Runner,
    progress: Progress,
) -> BuildResult:
    timings: dict[str, float] = {}
    config.cache_dir.mkdir(parents=True, exist_ok=True)
    builds = config.cache_dir / "builds"
    builds.mkdir(exist_ok=True)
    _sweep_stale(builds)
    work = Path(tempfile.mkdtemp(prefix="build-", dir=builds))
    try:
        root = work / "python"
        progress.stage("resolve")
        with _timed(timings, "resolve"):
            resolution = resolve(reqs, config.target, tools.pip_python, config.cache_dir,
                                 runner, env, refresh=config.refresh,
                                 variants=variant_table(config.variant,
                                                        enabled=config.variants))
            if config.with_project:
                resolution = fn_pkg.add_project(config, resolution, tools.pip_python, runner, env)
        progress.stage("install")
        with _timed(timings, "install"):
            install(resolution, config.target, tools.pip_python, root, runner, env,
                    installer=config.installer, jobs=config.workers)
        fn = fn_pkg.assemble(config, root, work) if config.function else None
        with _timed(timings, "inventory"):
            inv = read_inventory(root)
        staging = Staging(root, work / "trash")
        progress.stage("prune")
        with _timed(timings, "prune"):
            ctx = PruneContext(inv, reqs.requested, work / "scratch", keep=config.keep,
                               orphans=resolution.orphans)
            plan = make_plan(ctx, config.rules, config.keep)
            if not config.dry_run:
                staging.apply(plan)
        with _timed(timings, "native"):
            remaining = [(rel, inv.owner.get(rel, "(unowned)")) for rel in sorted(walk(root))]
            natives = scan_native(root, remaining, config.workers)
        problems = audit(natives, config.target)
        if problems:
            shown = "\n".join(f"  - {p.describe()}" for p in problems[:20])
            more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
            raise NativeError(
                f"{len(problems)} native file(s) cannot run on {config.target.describe()}:\n"
                f"{shown}{more}",
                hint="Pin a version of the package named in parentheses that ships a manylinux "
                "wheel for this target, or choose a runtime with a newer glibc (python3.12+).",
            )
        syslibs = runtime_syslibs(config.target.runtime.name, config.target.arch,
                                  config.system_libs)
        closure = audit_natives(natives, syslibs)
        borrowed, lib_sizes, closure = borrow_stage(
            config, tools.interpreter if tools.can_execute else None, closure, natives, root,
            work / "lib", syslibs, env, runner, notes)
        strip_entries: list[PlanEntry] = []
        strip_skipped: list[tuple[str, str]] = []
        if "strip" in config.rules and not config.dry_run:
            assert tools.strip is not None
            loads = None
            if tools.interpreter is not None and tools.can_execute:
                loads = functools.partial(check_loadable, tools.interpreter, env=env,
                                          runner=runner)
            with _timed(timings, "strip"):
                strip_entries, strip_skipped = strip_stage(
                    tools.strip, staging,
                    strip_candidates(natives, config.target.machine, config.keep),
                    workers=config.workers, runner=runner, loads=loads, progress=progress)
        trace_entries: list[PlanEntry] = []
        trace_info: dict[str, object] = {"enabled": bool(config.trace)}
        touched: list[str] | None = None
        if config.trace and tools.interpreter is not None and not config.dry_run:
            progress.stage("trace")
            with _timed(timings, "trace"):
                tr = trace_stage(tools.interpreter, staging, natives, config.trace,
                                 config.trace_granularity, config.keep, env, runner,
                                 apply=not config.trace_preview)
            trace_entries = tr.entries
            trace_info.update(tr.info)
            touched = sorted(tr.touched)
            if tr.info.get("rolled_back"):
                progress.note(str(tr.info["rolled_back"]))
            if config.trace_preview:
                return _preview_result(config, reqs, resolution, inv, tr.entries, natives,
                                       tools, timings, notes, trace_info, staging)
        compiled = 0
        if config.compile != "none" and tools.interpreter is not None and not config.dry_run:
            progress.stage("compile")
            only = None
            if config.compile == "traced" and touched is not None:
                only = [r for r in touched if r.endswith(".py") and (root / r).is_file()]
            with _timed(timings, "compile"):
                compiled, errs = compile_tree(tools.interpreter, root, runner, env,
                                              workers=config.workers, only=only)
            for e in errs[:5]:
                progress.note(f"compile: {e}")
        handler = None
        if config.dry_run:
            vrep = VerifyReport("skipped", None)
        elif tools.interpreter is None or not tools.can_execute:
            vrep = VerifyReport("skipped", None, warnings=notes[:])
        else:
            progress.stage("verify")
            with _timed(timings, "verify"):
                vrep = verify_tree(tools.interpreter, staging, inv, env, runner, progress,
                                   smoke=config.smoke, repair=config.repair,
                                   extra_paths=fn.layer_paths(tools.interpreter.version) if fn else ())
                handler = (fn_pkg.check_handler(config, fn, tools.interpreter, root, env, runner)
                           if fn and config.handler else None)
        full_plan = [e for e in [*plan, *strip_entries, *trace_entries]
                     if staging.is_applied(e)]
        final_sizes = walk(root) if not config.dry_run else dict(inv.sizes)
        if not config.dry_run:
            trace_info.update(_trace_extras(config, tools, staging, natives, final_sizes, env,
                                            runner, progress, timings))
        interp = tools.interpreter if tools.can_execute else None
        overflow, options, final_sizes = fit_stage(
            config, interp, inv, root, final_sizes, reqs.requested, resolution, ctx.gpu,
            trace_info, env, runner, work, progress, timings, notes)
        archive_res = None
        if not config.dry_run:
            progress.stage("zip", len(final_sizes))
            with _timed(timings, "zip"):
                archive_res = write_layer_zip(
                    root, config.output, prefix="" if fn else "python", lib=work / "lib",
                    epoch=config.epoch, level=config.zip_level, jobs=config.workers,
                    on_file=lambda _n: progress.advance(),
                )
        result = BuildResult(
            config=config, requirements=reqs, resolution=resolution, inventory=inv,
            plan=full_plan if not config.dry_run else plan, natives=natives, verify=vrep,
            final_sizes=final_sizes, compiled_bytes=compiled, archive=archive_res,
            timings=timings, notes=notes, strip_skipped=strip_skipped, tests_kept=ctx.tests_kept,
            trace=trace_info, gpu=list(ctx.gpu), overflow=overflow,
            function=fn_pkg.report(config, fn, handler) if fn else {}, borrowed=borrowed,
            lib_sizes=lib_sizes, options=options,
        )
        return result
    finally:
        remove_tree(work)


