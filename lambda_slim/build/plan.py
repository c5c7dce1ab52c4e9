"""Planning a build: resolve -> install -> inventory -> the rules' plan -> native audit.

Shared by a real build, ``--dry-run`` and ``lambda-slim trace``; nothing in the tree is
changed here (the plan is applied by :mod:`lambda_slim.build.job`). The work folder lives in the
cache (same filesystem as the wheels) and is always removed.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..artifact.zipreuse import WheelStreams
from ..errors import NativeError
from ..inputs.config import BuildConfig
from ..inputs.requirements import Requirements
from ..native.borrow import Borrowed, satisfy_from_layer
from ..native.closure import ClosureResult, audit_natives, closure_error
from ..native.elf import NativeFile, audit, scan_native
from ..native.elfcache import ElfFactsCache
from ..progress import Progress
from ..resolve.install import Resolution, install, resolve
from ..resolve.variants import Variant
from ..rules import PruneContext
from ..rules.gpu import GpuDecision
from ..rules.plan import make_plan, unmatched_keeps
from ..rules.unloadable import NAME as UNLOADABLE
from ..rules.unloadable import plan_unloadable
from ..target.proc import Runner
from ..target.syslibs import SystemLibraries, runtime_syslibs
from ..tree.function import FunctionTree
from ..tree.inventory import UNOWNED, Inventory, read_inventory
from ..tree.staging import PlanEntry, Staging, remove_tree
from . import function as fn_pkg
from .tools import Tools


@contextlib.contextmanager
def timed(timings: dict[str, float], name: str) -> Iterator[None]:
    t0 = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - t0


def sweep_stale(builds: Path, max_age: float = 86400.0) -> None:
    """Staging folders of builds killed outright (SIGKILL, power loss) go after a day."""
    now = time.time()
    for d in builds.glob("build-*"):
        with contextlib.suppress(OSError):
            if now - d.stat().st_mtime > max_age:
                remove_tree(d)


@contextlib.contextmanager
def workspace(config: BuildConfig) -> Iterator[Path]:
    """A staging folder in the cache (same filesystem as the wheels), always removed."""
    builds = config.cache_dir / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    sweep_stale(builds)
    work = Path(tempfile.mkdtemp(prefix="build-", dir=builds))
    try:
        yield work
    finally:
        remove_tree(work)


@dataclass
class Planned:
    """The installed tree and what the rules would remove from it, audited (nothing applied)."""

    requirements: Requirements
    resolution: Resolution
    inventory: Inventory
    staging: Staging
    plan: list[PlanEntry]
    #: native files of what the plan leaves in the layer
    natives: list[NativeFile]
    tests_kept: list[str]
    #: the ``gpu`` rule's verdict on each CUDA payload and orphaned pin
    gpu: list[GpuDecision]
    #: a function package's code and layers (``--function``)
    function: FunctionTree | None
    #: missing system libraries served by copies other wheels vendor (into the zip's lib/)
    borrowed: list[Borrowed]
    lib_sizes: dict[str, int]
    #: the closure audit of what the plan leaves, after borrowing (its misses are judged by
    #: what verification loads) and the runtime's libraries it was judged against
    closure: ClosureResult
    syslibs: SystemLibraries
    #: the ``unloadable`` rule's plan (applied after verification, see rules/unloadable.py)
    unloadable: list[PlanEntry]
    timings: dict[str, float] = field(default_factory=dict)
    #: why the ``runtime-provided`` rule kept the AWS SDK in the layer (empty: it did not)
    sdk_kept: tuple[str, ...] = ()
    #: the installed files' deflated bytes in their wheels (the zip copies unchanged ones)
    streams: WheelStreams | None = None

    @property
    def lib_dir(self) -> Path:
        return self.staging.root.parent / "lib"


def plan_tree(config: BuildConfig, reqs: Requirements, tools: Tools, env: Mapping[str, str],
          runner: Runner, progress: Progress, work: Path,
          variants: Mapping[str, Variant]) -> Planned:
    """resolve -> install -> inventory -> the rules' plan -> native audit (arch/glibc, then the
    DT_NEEDED closure against the runtime's libraries) of what the plan leaves. A closure
    miss is judged after verification (what loads), except with ``--strict``: an error now."""
    timings: dict[str, float] = {}
    root = work / "python"
    streams = WheelStreams()
    progress.stage("resolve")
    with timed(timings, "resolve"):
        resolution = resolve(reqs, config.target, tools.pip_python, config.cache_dir, runner,
                             env, refresh=config.refresh, variants=variants)
        if config.with_project:
            resolution = fn_pkg.add_project(config, resolution, tools.pip_python, runner, env)
    for note in resolution.notes:
        progress.note(note)
    progress.stage("install")
    with timed(timings, "install"):
        install(resolution, config.target, tools.pip_python, root, runner, env,
                installer=config.installer, jobs=config.workers, streams=streams,
                unpacked=None if config.refresh else config.cache_dir / "unpacked")
    fn = fn_pkg.assemble(config, root, work) if config.function else None
    for left in fn.left_out if fn else ():
        progress.note(f"left out of the function zip: {left}")
    with timed(timings, "inventory"):
        inv = read_inventory(root)
    progress.stage("prune")
    with timed(timings, "prune"):
        ctx = PruneContext(inv, reqs.requested, work / "scratch", keep=config.keep,
                           orphans=resolution.orphans, runtime_sdk=config.runtime_sdk,
                           markers=config.target.marker_environment())
        plan = make_plan(ctx, config.rules, config.keep)
    for glob in unmatched_keeps(inv.sizes, config.keep):
        progress.note(f"--keep {glob!r} matched nothing in the layer; check the pattern "
                      "(globs match paths below python/, e.g. 'pandas/io/*').")
    with timed(timings, "native"):
        gone = {e.rel for e in plan if e.replacement is None}
        remaining = [(rel, owner) for rel in sorted(inv.sizes) if rel not in gone
                     for owner in [inv.owner.get(rel, UNOWNED)]]
        natives = scan_native(root, remaining, config.workers,
                              ElfFactsCache(config.cache_dir / "elf", streams.known_sha256,
                                            read=not config.refresh))
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
    syslibs = runtime_syslibs(config.target.runtime.name, config.target.arch, config.system_libs)
    closure = audit_natives(natives, syslibs)
    borrowed: list[Borrowed] = []
    lib_sizes: dict[str, int] = {}
    if not closure.ok:  # a soname Lambda lacks may be served by a copy another wheel vendors
        borrowed, lib_sizes, closure = satisfy_from_layer(closure, natives, root, work / "lib",
                                                          syslibs)
        if not closure.ok and config.strict:
            raise closure_error(closure, syslibs)
    unloadable = (plan_unloadable(closure.unloadable, inv.sizes, config.keep)
                  if UNLOADABLE in config.rules else [])
    return Planned(reqs, resolution, inv, Staging(root, work / "trash"), plan, natives,
                   ctx.tests_kept, list(ctx.gpu), fn, borrowed, lib_sizes, closure, syslibs,
                   unloadable, timings,
                   tuple(ctx.sdk_kept), streams)
