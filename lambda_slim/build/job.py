"""The build job: plan, then build from the plan.

Planning is resolve -> install -> inventory -> the rules' plan -> native audit (shared by
``--dry-run`` and ``lambda-slim trace``); building from a plan applies it, strips, traces,
byte-compiles, verifies and zips. Nothing here prints or exits: progress goes through
:class:`~lambda_slim.progress.Progress`, problems are raised as :class:`LambdaSlimError`
subclasses, and the results are typed (:class:`BuildResult`, :class:`CachedBuild`,
:class:`BuildPlan`). Every run of the target interpreter goes through one
:class:`~lambda_slim.target.python.TargetPython`, bound in :func:`check_tools`.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from ..artifact.deflatecache import DeflateCache
from ..artifact.zipahead import Ahead
from ..artifact.zipwrite import ahead_of, write_layer_zip
from ..errors import LambdaSlimError, ToolMissingError
from ..inputs.config import BuildConfig
from ..native.borrow import Borrowed
from ..native.borrow import place as place_borrowed
from ..native.strip import strip_candidates, strip_stage
from ..progress import NullProgress, Progress
from ..report.jsonio import manifest_extra, manifest_json
from ..report.model import (
    BuildPlan,
    BuildResult,
    CachedBuild,
    FileRow,
    IdenticalGroup,
    TraceSummary,
)
from ..report.summary import LayerFacts, layer_report
from ..target.measure import INIT_LIMIT_MS
from ..target.proc import Runner
from ..target.proc import run as default_runner
from ..target.python import HOST, Isolation, TargetPython
from ..tree.compile import Compiled
from ..tree.inventory import owner_of, walk
from ..tree.staging import PlanEntry, Staging, remove_tree
from ..verify.diagnose import Judged, judge_tree, measure_judged
from ..verify.probes import VerifyReport, check_loadable
from ..verify.trace import TraceInfo, TraceOutcome, identical_files, trace_stage
from ..verify.verdict import judge_closure
from . import function as fn_pkg
from .bytecode import (
    beside,
    choose_bytecode,
    compile_notes,
    compile_stage,
    compiles_early,
)
from .cache import restore_cached, result_key, store_cached, write_sidecars
from .fit import fit_stage, verify_borrowed
from .plan import Planned, plan_tree, timed, workspace
from .runtime_sdk import sdk_stand_in, var_runtime_or_note
from .start import start
from .tools import Tools


def _strip_candidates(config: BuildConfig, planned: Planned) -> list[str]:
    if "strip" not in config.rules:
        return []
    return strip_candidates(planned.natives, config.target.machine, config.keep)


def _apply_rules(config: BuildConfig, planned: Planned, tools: Tools, progress: Progress,
                 during_strip: Callable[[], None] | None = None,
                 ) -> tuple[list[PlanEntry], list[tuple[str, str]]]:
    """Apply the rules' plan, then strip (putting back what no longer loads), with
    ``during_strip`` (work on other files than the strip's) running beside it."""
    staging, timings = planned.staging, planned.timings
    with timed(timings, "prune"):
        staging.apply(planned.plan)
    with beside(during_strip):
        if "strip" not in config.rules:
            return [], []
        assert tools.strip is not None
        tp = tools.runnable
        loads = functools.partial(check_loadable, tp, layer=staging.root) if tp else None
        with timed(timings, "strip"):
            return strip_stage(tools.strip, staging, _strip_candidates(config, planned),
                               workers=config.workers, runner=tools.runner, loads=loads,
                               progress=progress, refresh=config.refresh,
                               cache_dir=(config.cache_dir / "stripped", config.target.machine),
                               known=planned.streams.known_sha256 if planned.streams else None)


def _identical(root: Path, sizes: Mapping[str, int]) -> tuple[IdenticalGroup, ...]:
    """The ten largest groups of byte-identical files, for the report."""
    return tuple(IdenticalGroup(size, tuple("python/" + p for p in paths))
                 for size, paths in identical_files(root, sizes)[:10])


def _trace(config: BuildConfig, tp: TargetPython, planned: Planned, scripts: Sequence[Path],
           runtime_dir: Path | None, *, apply: bool = True) -> TraceOutcome:
    """The trace stage, its workloads seeing what verification sees: the layer, a function's
    layers and the stand-in /var/runtime (``runtime_dir``, see :func:`~.runtime_sdk.sdk_stand_in`)."""
    fn = planned.function
    return trace_stage(tp, planned.staging, planned.natives, scripts, config.trace_granularity,
                       config.keep, apply=apply, timeout=config.smoke_timeout,
                       extra_paths=fn.layer_paths(tp.interpreter.version) if fn else (),
                       runtime_dir=runtime_dir,
                       runtime_sdk=config.runtime_sdk.describe() if config.runtime_sdk else None)


def _potential(config: BuildConfig, tools: Tools, planned: Planned,
               runtime_dir: Path | None) -> TraceInfo | None:
    """What a trace of the smoke scripts would save, when the trace rule is off."""
    tp = tools.runnable
    if config.trace or not config.smoke or tp is None:
        return None
    with timed(planned.timings, "trace"):
        try:
            return _trace(config, tp, planned, config.smoke, runtime_dir, apply=False).info
        except LambdaSlimError:
            return None


def _not_run(notes: list[str], progress: Progress, note: str) -> None:
    """A check that could not run here: in the report and printed, never silent."""
    notes.append(note)
    progress.note(note)


def _unloadable_stage(planned: Planned, judged: Judged | None) -> list[PlanEntry]:
    """Judge the closure audit by what verification loaded (exit 4 for a file a requested
    import, a smoke script or the handler's module loads, and for every miss when nothing
    showed what loads); the other misses are optional parts, and the ``unloadable`` rule's
    plan is applied to those files (--strict refused every miss at planning already)."""
    mount = "/opt/python/"
    loaded = {mount + rel for rel in (judged.loaded or ())} if judged else set()
    entries = [e for e in planned.unloadable if mount + e.rel not in loaded
               and (planned.staging.root / e.rel).is_file()]
    found = judge_closure(planned.closure, loaded, planned.syslibs,
                          verified=judged is not None and judged.loaded is not None,
                          dropped={mount + e.rel: e.bytes for e in entries})
    if judged is not None:
        judged.report.optional_failures += found
        if judged.loaded is not None:
            elfs = {n.rel for n in planned.natives if n.kind == "elf"}
            judged.report.loaded_natives = sorted(judged.loaded & elfs)
    planned.staging.apply(entries)
    return entries


def _borrowed_as_shipped(planned: Planned) -> list[Borrowed]:
    """The borrowed copies in /opt/lib made again from the vendored files as the layer ships
    them (after prune and strip: the strip rule may have stripped the vendored copy), so the
    two are the same bytes and what is loaded next is what Lambda will load."""
    if not planned.borrowed:
        return []
    planned.lib_sizes.update(place_borrowed(planned.borrowed, planned.staging.root,
                                            planned.lib_dir))
    return [replace(b, bytes=planned.lib_sizes[b.dest]) for b in planned.borrowed]


def _build_from_plan(config: BuildConfig, planned: Planned, tools: Tools, notes: list[str],
                     env: Mapping[str, str], progress: Progress) -> LayerFacts:
    """prune -> strip -> trace -> compile -> verify (and the handler) -> overflow -> zip,
    from an audited plan."""
    staging, timings, root = planned.staging, planned.timings, planned.staging.root
    fn = planned.function
    tp = tools.runnable
    early: list[Compiled | None] = []  # compiling the final sources beside the strip

    def compile_early() -> None:
        early.append(compile_stage(config, tools, root, None, timings, None))
    strip_entries, strip_skipped = _apply_rules(
        config, planned, tools, progress, compile_early if compiles_early(config) else None)
    borrowed = _borrowed_as_shipped(planned)
    if borrowed:
        borrowed = verify_borrowed(tools.placement, root, borrowed)
        if tp is None:
            _not_run(notes, progress, "borrowed libraries: NOT loaded as on Lambda (layer "
                     "code cannot run on this machine; see above)")
    trace_entries: list[PlanEntry] = []
    trace_run: TraceInfo | None = None
    touched: frozenset[str] | None = None
    runtime_dir = sdk_stand_in(config, planned, tools, env, notes) if tp is not None else None
    if config.trace and tp is not None:
        progress.stage("trace")
        with timed(timings, "trace"):
            tr = _trace(config, tp, planned, config.trace, runtime_dir)
        trace_entries, trace_run, touched = tr.entries, tr.info, tr.touched
        if tr.info.rolled_back:
            progress.note(tr.info.rolled_back)
    if early:
        compiled = early[0]
        compile_notes(compiled, progress)
    else:
        compiled = compile_stage(config, tools, root, touched, timings, progress)
    handler = None
    judged: Judged | None = None
    ahead: Ahead | None = None
    deflated = DeflateCache(config.cache_dir / "deflated", config.zip_level,
                            read=not config.refresh)
    notes += [f"runtime-provided: kept the AWS SDK in the layer: {why}" for why in planned.sdk_kept]
    if tp is None:
        if fn and config.handler:
            _not_run(notes, progress, f"handler: {config.handler} was NOT imported (layer "
                     "code cannot run on this machine; see above)")
        vrep = VerifyReport("skipped", None, warnings=notes[:])
    else:
        progress.stage("verify")
        # verification runs one interpreter at a time: the zip's deflating starts beside it
        with timed(timings, "verify"), \
                ahead_of(root, config.zip_level, planned.streams, deflated) as ahead:
            judged = judge_tree(tp, staging, planned.inventory, progress, smoke=config.smoke,
                                repair=config.repair,
                                extra_paths=fn.layer_paths(tp.interpreter.version) if fn else (),
                                requested=planned.requirements.requested,
                                smoke_timeout=config.smoke_timeout,
                                cold_extra=(config.handler.rpartition(".")[0],)
                                if fn and config.handler else (),
                                strict=config.strict, misses=planned.closure.misses,
                                syslibs=planned.syslibs,
                                runtime_dir=runtime_dir)
            vrep = judged.report
            if fn and config.handler:
                handler = fn_pkg.check_handler(
                    config, fn, tp, root,
                    runtime_dir or var_runtime_or_note(config, tools, env, notes))
                if handler.init_ms is not None and handler.init_ms > INIT_LIMIT_MS:
                    notes.append(
                        f"The handler's init took {handler.init_ms / 1000:.1f} s, past Lambda's "
                        f"{INIT_LIMIT_MS / 1000:.0f} s limit for on-demand functions: Lambda "
                        "would retry it inside the first invocation's timeout (cold starts "
                        "that slow also count against it).")
    unloadable = _unloadable_stage(planned, judged)
    bytecode = choose_bytecode(config, root, compiled, judged, timings)
    measurement = _measurement(config, tp, judged, progress, timings)
    if measurement is not None and config.overflow:  # overflow changes the tree: measure first
        measurement()
        measurement = None
    with beside(measurement) as measured:  # the measurement runs beside the rest
        full_plan = [e for e in [*planned.plan, *strip_entries, *trace_entries, *unloadable]
                     if staging.is_applied(e)]
        final_sizes = walk(root)
        potential = _potential(config, tools, planned, runtime_dir)
        trace = TraceSummary(
            enabled=bool(config.trace), run=trace_run,
            identical_files=_identical(root, final_sizes),
            potential_files=potential.removed_files if potential else None,
            potential_bytes=potential.removed_bytes if potential else None,
        )
        overflow, options, final_sizes = fit_stage(
            config, tools.placement, planned.inventory, root, final_sizes,
            planned.requirements.requested, planned.resolution, planned.gpu,
            potential.removed_bytes if potential else None, root.parent, progress, timings,
            notes)
        progress.stage("zip", len(final_sizes))
        with timed(timings, "zip"):
            archive = write_layer_zip(root, config.output, prefix="" if fn else "python",
                                      lib=planned.lib_dir, epoch=config.epoch,
                                      level=config.zip_level, jobs=config.workers,
                                      on_file=lambda _n: progress.advance(),
                                      before_commit=lambda: _clear_then(staging, measured, timings),
                                      ahead=ahead,
                                      reuse=planned.streams, cache=deflated)
        return LayerFacts(
            config=config, requirements=planned.requirements, resolution=planned.resolution,
            inventory=planned.inventory, plan=full_plan, verify=vrep, final_sizes=final_sizes,
            compiled_bytes=bytecode.bytes, archive=archive, trace=trace, timings=timings,
            notes=notes,
            strip_skipped=strip_skipped, tests_kept=planned.tests_kept, gpu=planned.gpu,
            overflow=overflow, function=fn_pkg.report(config, fn, handler) if fn else None,
            borrowed=borrowed, lib_sizes=planned.lib_sizes, options=options,
            bytecode=bytecode,
        )


def _clear_then(staging: Staging, measured: Callable[[], None],
                timings: dict[str, float]) -> None:
    """Once the zip's bytes are written nothing is restored from the trash: delete it while
    the init-time measurement may still be running, then wait for the measurement."""
    with timed(timings, "trash"):
        remove_tree(staging.trash)
    measured()


def _measurement(config: BuildConfig, tp: TargetPython | None, judged: Judged | None,
                 progress: Progress, timings: dict[str, float]) -> Callable[[], None] | None:
    """The init-time measurement of the layer as it ships (None when nothing was verified)."""
    if tp is None or judged is None:
        return None

    def run() -> None:
        with timed(timings, "measure"):
            measure_judged(tp, judged, progress, memory_mb=config.memory_mb)
    return run


def build(
    config: BuildConfig,
    env: Mapping[str, str],
    *,
    runner: Runner = default_runner,
    progress: Progress | None = None,
    isolation: Isolation = HOST,
) -> BuildResult | CachedBuild:
    """Run every stage (or reuse an identical earlier build) and write the outputs: the zip,
    its removal manifest and, with ``config.json_path``, the JSON report.

    Raises on bad input, a failed native audit or a failed verification; an over-budget
    layer is not an error here (the zip is written; the CLI exits 1).
    """
    progress = progress or NullProgress()
    t0 = time.perf_counter()
    config = fn_pkg.prepare(config)
    st = start(config, env, runner, progress, isolation, writes=True)
    reqs, tools, notes = st.requirements, st.tools, st.notes
    key = result_key(config, reqs, tools.strip, tools.interpreter,
                     tools.runnable.isolation.name if tools.runnable else None)
    if config.use_result_cache and not config.refresh and not config.with_project:
        hit = restore_cached(config, key, t0)
        if hit is not None:
            return hit
    with workspace(config) as work:
        planned = plan_tree(config, reqs, tools, env, runner, progress, work, st.variants)
        facts = _build_from_plan(config, planned, tools, notes, env, progress)
    report = layer_report(facts)
    report = replace(report, timings={**report.timings,
                                      "total": round(time.perf_counter() - t0, 3)})
    assert facts.archive is not None
    manifest = manifest_json(config.target, facts.archive.sha256, facts.plan,
                             manifest_extra(report, strict=config.strict,
                                            system_libs=config.system_libs))
    write_sidecars(config, report, manifest)
    store_cached(config, key, report, manifest)
    return BuildResult(report, tuple(facts.plan))


def plan_build(
    config: BuildConfig,
    env: Mapping[str, str],
    *,
    runner: Runner = default_runner,
    progress: Progress | None = None,
    isolation: Isolation = HOST,
) -> BuildPlan:
    """``--dry-run``: resolve, install, plan and audit; remove and write nothing."""
    progress = progress or NullProgress()
    config = fn_pkg.prepare(config)
    st = start(config, env, runner, progress, isolation, writes=False)
    with workspace(config) as work:
        planned = plan_tree(config, st.requirements, st.tools, env, runner, progress, work,
                        st.variants)
    return BuildPlan("dry-run", config.budget, tuple(planned.plan + planned.unloadable),
                     tuple(_strip_candidates(config, planned)))


def trace_preview(
    config: BuildConfig,
    env: Mapping[str, str],
    *,
    runner: Runner = default_runner,
    progress: Progress | None = None,
    isolation: Isolation = HOST,
) -> BuildPlan:
    """``lambda-slim trace``: apply the rules, trace ``config.trace`` on the result and plan
    the trace rule without applying it; write nothing."""
    progress = progress or NullProgress()
    config = fn_pkg.prepare(config)
    t0 = time.perf_counter()
    st = start(config, env, runner, progress, isolation, writes=False)
    reqs, tools, notes = st.requirements, st.tools, st.notes
    tp = tools.runnable
    if tp is None or not config.trace:
        raise ToolMissingError(
            f"No Python {config.target.runtime.python_str} interpreter to run the workload.",
            hint="Install it (pyenv install) or pass --python PATH.")
    with workspace(config) as work:
        planned = plan_tree(config, reqs, tools, env, runner, progress, work, st.variants)
        _apply_rules(config, planned, tools, progress)
        runtime_dir = sdk_stand_in(config, planned, tools, env, notes)
        progress.stage("trace")
        with timed(planned.timings, "trace"):
            tr = _trace(config, tp, planned, config.trace, runtime_dir, apply=False)
        sizes = walk(planned.staging.root)
        facts = LayerFacts(
            config=config, requirements=reqs, resolution=planned.resolution,
            inventory=planned.inventory, plan=tr.entries, verify=VerifyReport("skipped", None),
            final_sizes=sizes, compiled_bytes=0, archive=None,
            trace=TraceSummary(True, tr.info, _identical(planned.staging.root, sizes)),
            timings=planned.timings, notes=notes,
        )
    report = layer_report(facts)
    report = replace(report, timings={**report.timings,
                                      "total": round(time.perf_counter() - t0, 3)})
    owner = planned.inventory.owner
    rows = tuple(FileRow("python/" + e.rel, e.bytes, owner_of(e.rel, owner))
                 for e in tr.entries)
    return BuildPlan("trace", config.budget, tuple(tr.entries), report=report, trace_plan=rows)
