"""Profile-guided pruning: run a workload under an audit hook, keep what it touches.

The workload runs in the target interpreter against the rule-pruned tree. An audit hook
records every file opened (sources, pycs, data files) and every ``ctypes.dlopen``; at exit
``/proc/self/maps`` adds every shared library the process mapped (extension modules and
what they load), and ``sys.modules`` adds each imported module's file. What was never
touched can go, at a granularity the user picks; libraries that a kept native file needs
(DT_NEEDED) always stay.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import VerifyError
from ..native.elf import NativeFile
from ..rules.plan import is_kept
from ..target.bootstrap import BOOTSTRAP_CODE
from ..target.proc import tail
from ..target.python import TargetPython
from ..tree.inventory import is_license, pyc_source, walk
from ..tree.staging import PlanEntry, Staging
from .diagnose import lambda_paths
from .probes import check_imports, payload, run_smoke

_TRACER = BOOTSTRAP_CODE + r"""
import sys, os, json, runpy
args = json.loads(sys.argv[1])
roots = [os.path.realpath(r) for r in args["roots"]]
touched = set()
def note(p):
    try:
        p = os.fsdecode(p)
    except TypeError:
        return
    if not os.path.isabs(p):
        p = os.path.join(os.getcwd(), p)
    touched.add(os.path.realpath(p))
def hook(event, a):
    if event == "open" and a and isinstance(a[0], (str, bytes)):
        note(a[0])
    elif event == "ctypes.dlopen" and a and isinstance(a[0], (str, bytes)):
        note(a[0])
    elif event == "import" and len(a) > 1 and a[1]:
        note(a[1])
sys.addaudithook(hook)
_lambda_slim_bootstrap(args["paths"])  # after the hook: the .pth files it reads are kept
def finish():
    for m in list(sys.modules.values()):
        f = getattr(m, "__file__", None)
        if f:
            note(f)
    try:
        with open("/proc/self/maps") as fh:
            for line in fh:
                parts = line.split(None, 5)
                if len(parts) == 6 and parts[5].startswith("/"):
                    note(parts[5].strip())
    except OSError:
        pass
    inside = sorted(os.path.relpath(p, r) for p in touched for r in roots
                    if p.startswith(r + os.sep))
    mods = []
    for n, m in list(sys.modules.items()):
        f = os.path.realpath(str(getattr(m, "__file__", "") or ""))
        for r in roots:
            if f.startswith(r + os.sep):
                rel = os.path.relpath(f, r)
                if rel.endswith(os.sep + "__init__.py"):
                    rel = rel[: -len("/__init__.py")]
                else:
                    head, base = os.path.split(rel)
                    rel = os.path.join(head, base.split(".", 1)[0])
                if rel.replace(os.sep, ".") == n:  # importable by this name
                    mods.append(n)
    mods.sort()
    try:
        sys.stdout.flush()
    except Exception:
        pass
    os.write(1, ("\n@@LAMBDA_SLIM@@" + json.dumps({"touched": inside, "modules": mods})
                 + "\n").encode())
status = 0
sys.argv = [args["script"]]
try:
    runpy.run_path(args["script"], run_name="__main__")
except SystemExit as exc:
    status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
finally:
    finish()
sys.exit(status)
"""


@dataclass(frozen=True)
class TraceRun:
    touched: frozenset[str]  # paths relative to the tree root
    modules: tuple[str, ...]
    failures: tuple[tuple[str, str], ...]  # (script, output) of workloads that failed

    @property
    def ok(self) -> bool:
        return not self.failures


def run_trace(
    tp: TargetPython,
    root: Path,
    extra_paths: Sequence[Path],
    scripts: Sequence[Path],
    timeout: float = 900,
) -> TraceRun:
    """Run each workload in its own fresh process; the union of what they touch (paths
    relative to ``root``, the layer's ``python/`` folder). The workload sees what a smoke
    script sees (:func:`~lambda_slim.verify.probes.run_smoke`): the layer, its own folder
    as ``/var/task``, then ``extra_paths`` (a function's layers, what the runtime provides)."""
    touched: set[str] = set()
    modules: set[str] = set()
    failures: list[tuple[str, str]] = []
    for given in scripts:
        script = given.resolve()
        extra = (script.parent, *extra_paths)

        def inside(p: Path, extra: tuple[Path, ...] = extra) -> str:
            return tp.inside(p, layer=root, paths=extra)

        arg = json.dumps({"roots": [inside(root)], "paths": [inside(p) for p in [root, *extra]],
                          "script": inside(script)})
        proc = tp.run(["-I", "-S", "-B", "-c", _TRACER, arg], layer=root, paths=extra,
                      cwd=script.parent, timeout=timeout)
        data = payload(proc.stdout or "")
        if proc.returncode != 0 or data is None:
            failures.append((str(script), tail((proc.stdout or "") + (proc.stderr or ""))))
            if data is None:
                continue
        touched.update(p.replace(os.sep, "/") for p in data["touched"])
        modules.update(data["modules"])
    return TraceRun(frozenset(touched), tuple(sorted(modules)), tuple(failures))


def _protected(rel: str) -> bool:
    parts = rel.split("/")
    if parts[0].endswith((".dist-info", ".data")):
        return True
    if len(parts) == 2 and parts[1] == "__init__.py":
        return True  # a top-level package's own __init__
    return is_license(parts[-1])


def _is_module(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return name.endswith((".py", ".pyc")) or ".so" in name


def plan_trace(
    files: Mapping[str, int],
    touched: frozenset[str],
    natives: Iterable[NativeFile],
    granularity: str,
    keep: tuple[str, ...],
) -> list[PlanEntry]:
    """What the workload never touched, at ``granularity`` (package | module | file)."""

    def used(rel: str) -> bool:
        src = pyc_source(rel)  # a pyc counts as touched when its source was
        return rel in touched or (src is not None and src in touched)

    # Directories (below a top-level package) that hold at least one touched file.
    live_dirs: set[str] = set()
    for rel in files:
        if used(rel):
            parts = rel.split("/")
            for i in range(1, len(parts)):
                live_dirs.add("/".join(parts[:i]))

    def candidate(rel: str) -> bool:
        if used(rel) or _protected(rel) or is_kept(rel, keep):
            return False
        parts = rel.split("/")
        if parts[0].endswith(".libs") and len(parts) == 2:
            return True  # a vendored library the process never mapped
        if len(parts) < 2 or parts[0] not in live_dirs:
            return False  # top-level modules and untouched top-level packages stay whole
        if any("/".join(parts[:i]) not in live_dirs for i in range(2, len(parts))):
            return True  # inside a subpackage the workload never touched
        if parts[-1] == "__init__.py":
            return False
        if granularity == "module":
            return _is_module(rel)
        return granularity == "file"

    remove = {rel for rel in files if candidate(rel)}
    # Libraries that a kept native file needs stay, transitively.
    natives = list(natives)
    by_name: dict[str, list[str]] = {}
    for nf in natives:
        by_name.setdefault(nf.rel.rsplit("/", 1)[-1], []).append(nf.rel)
    needs = {nf.rel: nf.info.needed for nf in natives if nf.info is not None}
    changed = True
    while changed:
        changed = False
        for rel, needed in needs.items():
            if rel in remove:
                continue
            for lib in needed:
                for cand in by_name.get(lib, []):
                    if cand in remove:
                        remove.discard(cand)
                        changed = True
    return [PlanEntry(rel, "trace", files[rel]) for rel in sorted(remove)]


def identical_files(root: Path, files: Mapping[str, int], min_bytes: int = 65536
                    ) -> list[tuple[int, list[str]]]:
    """Groups of byte-identical files (same size, same sha256), largest first."""
    by_size: dict[int, list[str]] = {}
    for rel, size in files.items():
        if size >= min_bytes:
            by_size.setdefault(size, []).append(rel)
    groups: list[tuple[int, list[str]]] = []
    for size, rels in by_size.items():
        if len(rels) < 2:
            continue
        by_hash: dict[str, list[str]] = {}
        for rel in rels:
            h = hashlib.sha256((root / rel).read_bytes()).hexdigest()
            by_hash.setdefault(h, []).append(rel)
        groups += [(size, sorted(g)) for g in by_hash.values() if len(g) > 1]
    return sorted(groups, key=lambda g: (-g[0] * (len(g[1]) - 1), g[1]))


@dataclass(frozen=True)
class TraceInfo:
    """What a trace did: the workloads, what they touched, what the rule removed."""

    scripts: tuple[str, ...]
    granularity: str
    touched_files: int
    touched_bytes: int
    modules: int
    removed_files: int
    removed_bytes: int
    rolled_back: str | None = None
    applied: bool = False


@dataclass(frozen=True)
class TraceOutcome:
    entries: list[PlanEntry]
    info: TraceInfo
    touched: frozenset[str] = frozenset()


def trace_stage(
    tp: TargetPython,
    staging: Staging,
    natives: Sequence[NativeFile],
    scripts: Sequence[Path],
    granularity: str,
    keep: tuple[str, ...],
    apply: bool = True,
    timeout: float = 900,
    *,
    extra_paths: Sequence[Path] = (),
    runtime_dir: Path | None = None,
    runtime_sdk: str | None = None,
) -> TraceOutcome:
    """Trace the workloads, plan the ``trace`` rule, apply it, and prove the trimmed tree.

    The workloads see exactly what verification (and Lambda) sees
    (:func:`~lambda_slim.verify.diagnose.lambda_paths`): the layer, ``extra_paths`` (a
    function's layers) and, when the ``runtime-provided`` rule removed the layer's AWS SDK,
    ``runtime_dir``, the stand-in ``/var/runtime`` with the runtime's SDK (``runtime_sdk``
    describes it), never the removed copy. The trimmed tree must run the same workloads and
    import every module they reached; otherwise the rule is rolled back and the reason
    recorded (never a broken layer).
    """
    layer, *extra = lambda_paths(staging, extra_paths, runtime_dir)
    run = run_trace(tp, layer, extra, scripts, timeout)
    if not run.ok:
        script, output = run.failures[0]
        sdk = ""
        if runtime_dir is not None:
            sdk = (f" It ran against the AWS SDK the runtime provides "
                   f"({runtime_sdk or 'its floor version'}, in /var/runtime), as verification "
                   "and Lambda do, since the runtime-provided rule removed the layer's copy: "
                   "if the code needs a newer SDK, list boto3 (or botocore) in the "
                   "requirements so the layer keeps its own, or pass --runtime-sdk "
                   "botocore==X with the version your function prints.")
        raise VerifyError(
            f"The workload {script} fails on the rule-pruned layer, before any trace "
            f"pruning:\n{output}",
            hint="Make it pass first: run `lambda-slim build --smoke` with it to find the rule "
            "that broke it (or fix the script: it sees only the layer and the standard "
            "library)." + sdk,
        )
    files = walk(staging.root)
    plan = plan_trace(files, run.touched, natives, granularity, keep)
    info = TraceInfo(
        scripts=tuple(str(s) for s in scripts),
        granularity=granularity,
        touched_files=len(run.touched & set(files)),
        touched_bytes=sum(files[r] for r in run.touched if r in files),
        modules=len(run.modules),
        removed_files=len(plan),
        removed_bytes=sum(e.bytes for e in plan),
    )
    if not apply or not plan:
        return TraceOutcome(plan, info, run.touched)
    staging.apply(plan)
    paths = [layer, *extra]
    res = check_imports(tp, paths, list(run.modules))
    problems = [f"{m}: {err.strip().splitlines()[-1]}" for m, err in sorted(res.failed.items())]
    if not problems:
        for workload in scripts:
            smoke = run_smoke(tp, paths, workload, timeout)
            if not smoke.ok:
                last = (smoke.output.strip().splitlines() or ["failed"])[-1]
                problems.append(f"{workload}: {last}")
    if problems:
        staging.restore(plan)
        why = ("the trimmed layer failed its own workload, so the trace rule was rolled back: "
               + "; ".join(problems[:3]))
        return TraceOutcome([], replace(info, rolled_back=why), run.touched)
    return TraceOutcome(plan, replace(info, applied=True), run.touched)
