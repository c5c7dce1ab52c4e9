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
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import VerifyError
from ..native.elf import NativeFile
from ..rules.plan import is_kept
from ..target.proc import Runner, tail
from ..target.python import Interpreter
from ..tree.inventory import is_license, pyc_source, walk
from ..tree.staging import PlanEntry, Staging
from .probes import check_imports, child_env, run_smoke

_TRACER = r"""
import sys, os, json, runpy
args = json.loads(sys.argv[1])
roots = [os.path.realpath(r) for r in args["roots"]]
sys.path[:0] = args["paths"]
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
    inside = sorted(p for p in touched if any(p.startswith(r + os.sep) for r in roots))
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
    with open(args["out"], "w") as fh:
        json.dump({"touched": inside, "modules": mods}, fh)
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
    interp: Interpreter,
    root: Path,
    extra_paths: Sequence[Path],
    scripts: Sequence[Path],
    env: Mapping[str, str],
    runner: Runner,
    timeout: float = 900,
) -> TraceRun:
    """Run each workload in its own fresh process; the union of what they touch."""
    real_root = os.path.realpath(root)
    touched: set[str] = set()
    modules: set[str] = set()
    failures: list[tuple[str, str]] = []
    for given in scripts:
        script = given.resolve()
        with tempfile.TemporaryDirectory(prefix="lambda-slim-trace-") as tmp:
            out = Path(tmp) / "trace.json"
            arg = json.dumps({
                "roots": [str(root)], "paths": [str(p) for p in [root, *extra_paths,
                                                                  script.parent]],
                "script": str(script), "out": str(out),
            })
            proc = runner([str(interp.path), "-I", "-S", "-B", "-c", _TRACER, arg],
                          env=child_env(env), timeout=timeout, cwd=script.parent)
            if proc.returncode != 0 or not out.exists():
                failures.append((str(script), tail((proc.stdout or "") + (proc.stderr or ""))))
                if not out.exists():
                    continue
            data = json.loads(out.read_text())
        for p in data["touched"]:
            touched.add(os.path.relpath(p, real_root).replace(os.sep, "/"))
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


@dataclass
class TraceOutcome:
    entries: list[PlanEntry]
    info: dict[str, object]
    touched: frozenset[str] = frozenset()


def trace_stage(
    interp: Interpreter,
    staging: Staging,
    natives: Sequence[NativeFile],
    scripts: Sequence[Path],
    granularity: str,
    keep: tuple[str, ...],
    env: Mapping[str, str],
    runner: Runner,
    apply: bool = True,
) -> TraceOutcome:
    """Trace the workloads, plan the ``trace`` rule, apply it, and prove the trimmed tree.

    The trimmed tree must run the same workloads and import every module they reached;
    otherwise the rule is rolled back and the reason recorded (never a broken layer).
    """
    stand_in = staging.rule_root("runtime-provided")
    extra = [stand_in] if stand_in.is_dir() else []
    run = run_trace(interp, staging.root, extra, scripts, env, runner)
    if not run.ok:
        script, output = run.failures[0]
        raise VerifyError(
            f"The workload {script} fails on the rule-pruned layer, before any trace "
            f"pruning:\n{output}",
            hint="Make it pass first: run `lambda-slim build --smoke` with it to find the rule "
            "that broke it (or fix the script: it sees only the layer and the standard library).",
        )
    files = walk(staging.root)
    plan = plan_trace(files, run.touched, natives, granularity, keep)
    info: dict[str, object] = {
        "scripts": [str(s) for s in scripts],
        "granularity": granularity,
        "touched_files": len(run.touched & set(files)),
        "touched_bytes": sum(files[r] for r in run.touched if r in files),
        "modules": len(run.modules),
        "removed_files": len(plan),
        "removed_bytes": sum(e.bytes for e in plan),
        "rolled_back": None,
        "applied": False,
    }
    if not apply or not plan:
        return TraceOutcome(plan, info, run.touched)
    staging.apply(plan)
    paths = [staging.root, *extra]
    res = check_imports(interp, paths, list(run.modules), env, runner)
    problems = [f"{m}: {err.strip().splitlines()[-1]}" for m, err in sorted(res.failed.items())]
    if not problems:
        for workload in scripts:
            smoke = run_smoke(interp, paths, workload, env, runner)
            if not smoke.ok:
                last = (smoke.output.strip().splitlines() or ["failed"])[-1]
                problems.append(f"{workload}: {last}")
    if problems:
        staging.restore(plan)
        info["rolled_back"] = (
            "the trimmed layer failed its own workload, so the trace rule was rolled back: "
            + "; ".join(problems[:3])
        )
        return TraceOutcome([], info, run.touched)
    info["applied"] = True
    return TraceOutcome(plan, info, run.touched)
