"""Verification of the pruned tree, judged differentially, and the hunt for a culprit.

A module that fails in the pruned tree is re-tried with every removal undone: if it fails
there too, the same way, pruning did not cause it, and :mod:`lambda_slim.verify.verdict`
judges it (a requested package's own import or a smoke script: the build fails with the
cause; anything else: an optional part, a warning). Whatever fails only in the pruned tree,
or fails there differently, is pruning's doing: the rules are re-applied one by one to find
the rule that changes it, and that rule's removals are bisected to name the files.
``--repair`` puts those files back. What only the ``trace`` rule broke, in a module that
is no essential item, is reported as cut by the trace instead (a cut by usage the user asked
for; :func:`~lambda_slim.verify.verdict.split_trace_cut`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from ..errors import VerifyError
from ..native.closure import Miss
from ..progress import Progress
from ..rules import RULE_ORDER
from ..target.python import TargetPython
from ..target.syslibs import SystemLibraries
from ..tree.inventory import Inventory
from ..tree.staging import PlanEntry, Staging
from .causes import TIMEOUT, classify
from .probes import Culprit, SmokeOutcome, VerifyReport, check_imports, mentioned_paths, run_smoke
from .verdict import SMOKE_PREFIX as _SMOKE
from .verdict import (
    broken_layer,
    measure,
    optional_failures,
    own_imports,
    signature,
    split_failures,
    split_trace_cut,
    trace_cut_failures,
)

MAX_CULPRITS = 12


def _last_line(err: str) -> str:
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else err.strip()


def lambda_paths(layer: Staging | Path, extra_paths: Sequence[Path] = (),
                 runtime_dir: Path | None = None) -> list[Path]:
    """The folders layer code sees, in the order Lambda's bootstrap puts them on
    ``sys.path``: the layer (a build's staging tree, or ``check --verify``'s unpacked zip),
    a function's layers (after ``/var/task``), then what the runtime provides at
    ``/var/runtime``: the stand-in ``runtime_dir`` (the runtime's SDK at its floor) or, for a
    build without one, the SDK copy the ``runtime-provided`` rule removed. The build's import
    check, smoke scripts, the ``--trace`` workload and ``check --verify`` all see these."""
    stand_in = runtime_dir
    if isinstance(layer, Staging):
        stand_in = stand_in or layer.rule_root("runtime-provided")
    root = layer.root if isinstance(layer, Staging) else layer
    return [root, *extra_paths, *([stand_in] if stand_in is not None and stand_in.is_dir()
                                  else [])]


class Prober:
    """Runs the import check and smoke scripts for a set of items against the tree.

    Once ``baseline`` holds how items fail with nothing pruned, an item failing the same way
    counts as passing: only failures pruning caused (or changed) are returned."""

    def __init__(self, tp: TargetPython, staging: Staging,
                 extra_paths: Sequence[Path] = (), smoke_timeout: float = 900,
                 runtime_dir: Path | None = None) -> None:
        self.tp = tp
        #: the stand-in /var/runtime (the runtime's SDK at its floor version), when there is one
        self.runtime_dir = runtime_dir
        self.staging = staging
        self.extra_paths = list(extra_paths)
        self.smoke_timeout = smoke_timeout
        self.runs = 0
        self.last_checked = 0
        self.smoke_rss: int | None = None
        #: files (as the child saw them) the cold imports and smoke scripts loaded; None
        #: until a run with ``cold`` reported them
        self.loaded: set[str] | None = None
        self.baseline: dict[str, tuple[str, str]] = {}

    def paths(self) -> list[Path]:
        return lambda_paths(self.staging, self.extra_paths, self.runtime_dir)

    def __call__(self, items: Iterable[str], deep: bool = False,
                 cold: Sequence[str] | None = None) -> dict[str, str]:
        """Check ``items``; with ``cold``, also record what those imports (first, in a fresh
        process) and the smoke scripts loaded."""
        self.runs += 1
        items = list(items)
        mods = [i for i in items if not i.startswith(_SMOKE)]
        res = check_imports(self.tp, self.paths(), mods, deep=deep, cold=cold)
        self.last_checked = len(res.failed) + len(res.passed)
        if cold is not None and res.loaded:
            self.loaded = set(res.loaded)
        failed = dict(res.failed)
        for item in items:
            if item.startswith(_SMOKE):
                smoke = run_smoke(self.tp, self.paths(), Path(item[len(_SMOKE):]),
                                  self.smoke_timeout)
                if smoke.max_rss_bytes is not None:
                    self.smoke_rss = max(self.smoke_rss or 0, smoke.max_rss_bytes)
                if cold is not None and self.loaded is not None:
                    self.loaded |= set(smoke.loaded)
                if not smoke.ok:
                    failed[item] = smoke.output
        return {i: e for i, e in failed.items()
                if i not in self.baseline or signature(e) != self.baseline[i]}


def _describe_item(item: str) -> str:
    return f"smoke script {item[len(_SMOKE):]}" if item.startswith(_SMOKE) else item


#: Rules whose removals only make sense whole, a package at a time: putting back part of
#: the AWS SDK would mix two botocore versions, so the culprit is the package, not a file
#: (and a search through its ~2,000 files, one culprit at a time, took a minute).
WHOLE_PACKAGE_RULES = frozenset({"runtime-provided"})


def culprit_units(rule: str, entries: list[PlanEntry]) -> list[list[PlanEntry]]:
    """What a culprit can be for ``rule``: one removal, or one top-level folder's removals
    for :data:`WHOLE_PACKAGE_RULES`."""
    if rule not in WHOLE_PACKAGE_RULES:
        return [[e] for e in entries]
    groups: dict[str, list[PlanEntry]] = {}
    for e in entries:
        groups.setdefault(e.rel.split("/", 1)[0], []).append(e)
    return list(groups.values())


def unit_name(unit: list[PlanEntry]) -> str:
    """A file's path, or ``folder/`` for a whole package's removals."""
    return unit[0].rel if len(unit) == 1 else unit[0].rel.split("/", 1)[0] + "/"


def _bisect(probe: Prober, staging: Staging, units: list[list[PlanEntry]],
            items: list[str]) -> list[list[PlanEntry]]:
    """Smallest set of units whose removal breaks ``items`` (one at a time, bounded)."""
    def flat(us: list[list[PlanEntry]]) -> list[PlanEntry]:
        return [e for u in us for e in u]

    culprits: list[list[PlanEntry]] = []
    pool = list(units)
    while pool and len(culprits) < MAX_CULPRITS:
        staging.apply(flat(pool))  # on entry (and after each culprit) the whole pool is applied
        if not probe(items):
            break
        lo, hi = 0, len(pool)  # invariant: pool[:lo] alone passes, pool[:hi] fails
        while hi - lo > 1:
            mid = (lo + hi) // 2
            staging.restore(flat(pool[mid:]))
            staging.apply(flat(pool[:mid]))
            if probe(items):
                hi = mid
            else:
                lo = mid
        culprit = pool.pop(hi - 1)
        culprits.append(culprit)
        staging.restore(culprit)
    staging.apply(flat(pool))  # leave every non-culprit removal in place
    return culprits


def _hinted(errors: Iterable[str], entries: list[PlanEntry], staging: Staging,
            root_inside: str) -> list[PlanEntry]:
    wanted: set[str] = set()
    for err in errors:
        wanted |= mentioned_paths(err, root_inside)
    out = []
    for e in entries:
        base = e.rel.rsplit("/", 1)[-1]
        if e.rel in wanted or base in wanted or any(e.rel.startswith(w + "/") for w in wanted):
            out.append(e)
    return out


def _excuse_trace_cuts(blamed: list[tuple[str, list[str], dict[str, str]]],
                       trace: list[PlanEntry], probe: Prober, staging: Staging,
                       tp: TargetPython, required: Collection[str], report: VerifyReport,
                       *, strict: bool) -> list[tuple[str, list[str], dict[str, str]]]:
    """What the ``trace`` rule broke that is no essential item is reported as cut by the
    trace (:func:`~lambda_slim.verify.verdict.split_trace_cut`), not refused; failing that
    way counts as passing from here on (``--repair``'s re-check)."""
    out = []
    inside = tp.inside(staging.root, layer=staging.root)
    for rule, broke, errs in blamed:
        if rule != "trace":
            out.append((rule, broke, errs))
            continue
        refused, cut = split_trace_cut(broke, required, strict=strict)
        if refused:
            out.append((rule, refused, {i: errs[i] for i in refused}))
        hinted = {i: [(e.rel, e.bytes) for e in _hinted([errs[i]], trace, staging, inside)]
                  for i in cut}
        report.optional_failures += trace_cut_failures({i: errs[i] for i in cut}, hinted)
        probe.baseline.update({i: signature(errs[i]) for i in cut})
    return out


@dataclass
class Judged:
    """A passed (or repaired) verification, before its init-time measurement."""

    report: VerifyReport
    paths: list[Path]
    #: the modules a cold start imports (the requested packages' top-level modules)
    cold: list[str]
    smoke_rss: int | None
    #: layer-relative files the cold imports (and ``cold_extra``) and smoke scripts loaded;
    #: None when the checking run did not report them
    loaded: frozenset[str] | None = None
    extra_cold: tuple[str, ...] = field(default_factory=tuple)


def verify_tree(tp: TargetPython, staging: Staging, inv: Inventory, progress: Progress, *,
                memory_mb: int | None = None, **judge: Any) -> VerifyReport:
    """:func:`judge_tree` (same keywords), then :func:`measure_judged`: verification with
    the measurement straight after, for callers that do not change the tree in between."""
    judged = judge_tree(tp, staging, inv, progress, **judge)
    measure_judged(tp, judged, progress, memory_mb=memory_mb)
    return judged.report


def measure_judged(tp: TargetPython, judged: Judged, progress: Progress, *,
                   memory_mb: int | None = None) -> None:
    """The init time and peak memory of the cold imports, into ``judged.report``."""
    measure(tp, judged.paths, judged.cold, judged.report, progress,
            smoke_rss=judged.smoke_rss, memory_mb=memory_mb)


def judge_tree(
    tp: TargetPython,
    staging: Staging,
    inv: Inventory,
    progress: Progress,
    *,
    smoke: Sequence[Path] = (),
    repair: bool = False,
    extra_paths: Sequence[Path] = (),
    requested: Collection[str] = (),
    smoke_timeout: float = 900,
    cold_extra: Sequence[str] = (),
    strict: bool = False,
    misses: Sequence[Miss] = (),
    syslibs: SystemLibraries | None = None,
    runtime_dir: Path | None = None,
) -> Judged:
    """Import every remaining distribution's modules (and run the smoke scripts) in the
    target; on failure, judge differentially, find the culprit files, and with ``repair``
    put them back. The first checking run imports the cold-start modules first (the
    requested packages', then ``cold_extra`` such as a handler's module) and reports, with
    the smoke scripts, which files they loaded. The init time is measured separately
    (:func:`measure_judged`), once the layer's bytecode is final. A requested package's
    imports are its own (:func:`~lambda_slim.verify.verdict.own_imports`); ``strict`` refuses
    optional parts too; ``misses`` (the closure audit's, against ``syslibs``) name the files
    behind a missing-library failure. ``runtime_dir``: the stand-in /var/runtime (the
    runtime's SDK) to verify against."""
    probe = Prober(tp, staging, extra_paths, smoke_timeout, runtime_dir)
    gone = {
        d.name for d in inv.dists.values()
        if d.files and all(staging.removed(rel) for rel in d.files)
    }
    modules = sorted({m for d in inv.dists.values() if d.name not in gone for m in d.top_level})
    wanted = {canonicalize_name(r) for r in requested}
    required = sorted({m for d in inv.dists.values() if d.name not in gone
                       and canonicalize_name(d.name) in wanted
                       for m in own_imports(d.display_name, d.top_level)})
    cold = required or modules
    report = _judge(tp, staging, probe, modules, required, smoke, repair, progress,
                    [*cold, *cold_extra], strict=strict, misses=misses, syslibs=syslibs)
    inside = tp.inside(staging.root, layer=staging.root).rstrip("/") + "/"
    loaded = None if probe.loaded is None else frozenset(
        f[len(inside):] for f in probe.loaded if f.startswith(inside))
    return Judged(report, probe.paths(), cold, probe.smoke_rss, loaded, tuple(cold_extra))


def _judge(tp: TargetPython, staging: Staging, probe: Prober, modules: list[str],
           required: list[str], smoke: Sequence[Path], repair: bool,
           progress: Progress, cold: Sequence[str] = (), *, strict: bool = False,
           misses: Sequence[Miss] = (), syslibs: SystemLibraries | None = None) -> VerifyReport:
    items = modules + [_SMOKE + str(p.resolve()) for p in smoke]
    report = VerifyReport("passed", str(tp.interpreter.path), environment=tp.isolation.name)
    failed = probe(items, deep=True, cold=cold)
    report.modules_checked = probe.last_checked
    report.smoke = [SmokeOutcome(str(p), (_SMOKE + str(p.resolve())) not in failed)
                    for p in smoke]
    if not failed:
        return report

    timeouts = [(i, c) for i, c in ((i, classify(e)) for i, e in sorted(failed.items()))
                if c.kind == TIMEOUT]
    if timeouts:  # no bisection through timeouts: name them
        raise broken_layer(timeouts, tp.isolation.name, required, pruned_only=True)
    applied = staging.applied_entries()
    staging.restore(applied)
    base_failed = probe(list(failed))
    fatal, optional = split_failures(base_failed, required, strict=strict)
    if fatal:
        staging.apply(applied)
        raise broken_layer(fatal, tp.isolation.name, required, misses=misses, syslibs=syslibs)
    report.optional_failures += optional_failures(optional)
    # From here on a failure counts only when it differs from the one with nothing pruned.
    probe.baseline = {i: signature(e) for i, e in base_failed.items()}
    pending = [i for i in failed
               if i not in base_failed or signature(failed[i]) != probe.baseline[i]]
    if not pending:
        staging.apply(applied)
        return report

    # Re-apply rule by rule: the rule after which an item starts failing is its culprit.
    blamed: list[tuple[str, list[str], dict[str, str]]] = []
    by_rule = {r: [e for e in applied if e.rule == r] for r in (*RULE_ORDER, "trace")}
    left = list(pending)
    for rule, entries in by_rule.items():
        if not entries:
            continue
        staging.apply(entries)
        if not left:
            continue
        now = probe(left)
        broke = [i for i in left if i in now]
        if broke:
            blamed.append((rule, broke, {i: now[i] for i in broke}))
            left = [i for i in left if i not in now]
    blamed = _excuse_trace_cuts(blamed, by_rule.get("trace", []), probe, staging, tp,
                                required, report, strict=strict)
    if not blamed and not left:
        return report
    culprit_entries: list[list[PlanEntry]] = []
    lines: list[str] = []
    for rule, broke, errs in blamed:
        entries = [e for e in by_rule[rule] if staging.is_applied(e)]
        hinted = _hinted(errs.values(), entries, staging,
                          tp.inside(staging.root, layer=staging.root))
        pool = entries
        if hinted and rule not in WHOLE_PACKAGE_RULES:
            staging.restore(hinted)
            if not probe(broke):
                pool = hinted  # the error message pointed at them: search only there
            staging.apply(hinted)
        found = _bisect(probe, staging, culprit_units(rule, pool), broke)
        users = ", ".join(_describe_item(i) for i in broke)
        for unit in found:
            verb = "stripped" if rule == "strip" else "removed"
            what = unit_name(unit) + (f" ({len(unit):,} files)" if len(unit) > 1 else "")
            lines.append(f"rule `{rule}` {verb} {what}, imported by {users}")
            report.culprits.append(Culprit(rule, unit_name(unit), users))
        for i in broke:
            report.failures.append(f"{_describe_item(i)}: {_last_line(errs[i])}")
        culprit_entries += found
    if left:
        for i in left:
            report.failures.append(f"{_describe_item(i)}: fails only in the pruned tree, cause "
                                   "not found")
    if not repair or left:
        detail = "\n".join(f"  - {ln}" for ln in lines) or "  (no single file found)"
        fails = "\n".join(f"  - {f}" for f in report.failures)
        keep = " ".join(f"--keep '{unit_name(u).rstrip('/')}'" for u in culprit_entries[:3])
        raise VerifyError(
            f"The pruned layer does not work:\n{fails}\nCaused by:\n{detail}",
            hint=(
                "Re-run with --repair to put these files back automatically"
                + (f", or protect them with {keep}" if keep else "")
                + ", or turn the rule off with --no-<rule>."
            ),
        )
    # --repair: the culprits stay restored; everything must pass again.
    progress.note("repair: restored " + ", ".join(unit_name(u) for u in culprit_entries))
    # what the repaired layer's cold start loads; failing as with nothing pruned counts as
    # passing here
    real_again = probe(items, cold=cold)
    if real_again:
        raise VerifyError(
            "Even after restoring the culprit files the layer does not work:\n"
            + "\n".join(f"  - {_describe_item(i)}: {_last_line(e)}" for i, e in real_again.items()),
            hint="Turn off the rules named above (--no-<rule>) and report this case.",
        )
    report.status = "repaired"
    return report
