"""Resolution with variants: rewrite, resolve, satisfy dependencies on originals, report.

1. The requirement lines are rewritten to their variants (:func:`rewrite_requirements`).
2. pip resolves the rewritten file. A variant without a release matching the line's pin for
   this target (``opencv-contrib-python==5.1.0.95`` has no headless twin) is dropped from the
   table for this build and the original is kept, announced.
3. A distribution pip still resolved as someone's *dependency* on an original is satisfied by
   the variant pinned to the same version, resolved again; the original and whatever only it
   needed are left out of the wheel set (both would install the same import package).
4. Requirement lines that only the replaced original needed (pip-compile and lock files list
   every transitive pin) are reported as orphans; the ``gpu`` prune rule removes them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from packaging.utils import canonicalize_name

from ..errors import ResolveError
from ..inputs.requirements import read_requirements
from ..target.runtimes import Target
from .depgraph import DistMeta, orphaned_pins, wheel_meta
from .variants import Replacement, Variant, rewrite_requirements, transitive_plan

#: ``download(requirements_file) -> [(canonical name, version, wheel path), ...]``
Download = Callable[[Path], Sequence[tuple[str, str, Path]]]
#: ``original_requires(name, version, requirements_file) -> Requires-Dist lines``, with the
#: index options of that file (may raise ResolveError)
OriginalRequires = Callable[[str, str, Path], Sequence[str]]

_NO_WHEEL = re.compile(r"No wheel of ([A-Za-z0-9._-]+)")


@dataclass(frozen=True)
class VariantOutcome:
    wheels: tuple[tuple[str, str, Path], ...]
    replacements: tuple[Replacement, ...] = ()
    #: left out of the wheel set: name -> why (a replaced original and its own dependencies)
    dropped: Mapping[str, str] = field(default_factory=dict)
    #: requirement lines only a replaced original needed: name -> why (the gpu rule drops them)
    orphans: Mapping[str, str] = field(default_factory=dict)


def resolve_variants(
    requirements: Path,
    table: Mapping[str, Variant],
    target: Target,
    work: Path,
    download: Download,
    original_requires: OriginalRequires | None = None,
) -> VariantOutcome:
    """Resolve ``requirements`` with ``table`` applied (see the module docstring)."""
    machine = target.machine
    active = dict(table)
    declined: list[Replacement] = []
    for attempt in range(len(table) + 1):
        req_file, reps = rewrite_requirements(requirements, active, machine, work / f"r{attempt}")
        try:
            wheels = download(req_file)
        except ResolveError as exc:
            missing = _variant_without_wheel(exc, active, reps)
            if missing is None:
                raise
            active.pop(missing.original)
            declined.append(replace(missing, skipped=(
                f"no {missing.variant} release matches {missing.requirement} for "
                f"{target.describe()}; kept {missing.original}")))
            continue
        return _finish(req_file, wheels, reps, declined, active, target, work, download,
                       original_requires)
    raise AssertionError("unreachable: each retry removes one variant")  # pragma: no cover


def _variant_without_wheel(
    exc: ResolveError, active: Mapping[str, Variant], reps: Sequence[Replacement]
) -> Replacement | None:
    m = _NO_WHEEL.search(exc.message)
    if not m:
        return None
    name = canonicalize_name(re.split(r"[<>=!~;\[ ]", m.group(1), maxsplit=1)[0])
    for r in reps:
        if r.variant == name and r.skipped is None and r.original in active:
            return r
    return None


def _metas(wheels: Sequence[tuple[str, str, Path]]) -> list[DistMeta]:
    return [wheel_meta(p) for _n, _v, p in wheels]


def _finish(
    req_file: Path, wheels: Sequence[tuple[str, str, Path]], reps: list[Replacement],
    declined: list[Replacement], table: Mapping[str, Variant], target: Target, work: Path,
    download: Download, original_requires: OriginalRequires | None,
) -> VariantOutcome:
    roots = list(read_requirements(req_file).lines)
    metas = _metas(wheels)
    plan = transitive_plan(metas, roots, table, target)
    if plan.extra_requirements:
        for attempt, lines in enumerate((plan.extra_requirements, plan.loose_requirements)):
            extra = work / f"with-variants-{attempt}.txt"
            extra.write_text(f"-r {req_file}\n" + "\n".join(lines) + "\n")
            try:
                more = download(extra)
            except ResolveError as exc:
                if not _NO_WHEEL.search(exc.message):
                    raise
                if attempt == 0:  # no release of the exact version: the dependents' range
                    continue
                # no release of a variant fits the dependents: keep the originals
                declined += [replace(r, skipped=(
                    f"no {r.variant} release satisfies {r.via} for {target.describe()}; "
                    f"kept {r.original}")) for r in plan.replacements]
                return _outcome(wheels, reps, declined, {}, {}, [])
            wheels, roots = more, [*roots, *lines]
            break
        metas = _metas(wheels)
        plan = transitive_plan(metas, roots, table, target)
    drop = set(plan.drop)
    replaced = {r.original: r.variant for r in plan.replacements}
    dropped = {n: (f"replaced by {replaced[n]}" if n in replaced
                   else "only a replaced original required it") for n in sorted(drop)}
    kept = [w for w in wheels if w[0] not in drop]
    versions = {n: v for n, v, _p in kept}
    done = [replace(r, version=versions.get(r.variant)) for r in reps if r.skipped is None]
    orphans: dict[str, str] = {}
    if original_requires is not None and done:
        kept_metas = [m for m in metas if m.name not in drop]
        env = target.marker_environment()
        needs: dict[str, Sequence[str]] = {}
        for r in done:
            try:
                needs[r.original] = original_requires(r.original, r.version or "", req_file)
            except ResolveError:
                continue
        for n in sorted(orphaned_pins(kept_metas, roots, needs, env)):
            by = sorted(o for o, req in needs.items() if any(_names(req, n)))
            orphans[n] = (f"orphaned pin: only {', '.join(by)} required it, and "
                          f"{', '.join(table[o].replacement for o in by)} does not")
    return _outcome(kept, reps, declined, dropped, orphans,
                    [*done, *(r for r in plan.replacements if r.original not in
                              {d.original for d in done})])


def _outcome(
    wheels: Sequence[tuple[str, str, Path]], reps: Sequence[Replacement],
    declined: Sequence[Replacement], dropped: Mapping[str, str], orphans: Mapping[str, str],
    done: Sequence[Replacement],
) -> VariantOutcome:
    if not done:  # nothing replaced: the rewritten lines' versions are still worth reporting
        versions = {n: v for n, v, _p in wheels}
        done = [replace(r, version=versions.get(r.variant)) for r in reps if r.skipped is None]
    skipped = [r for r in reps if r.skipped is not None]
    return VariantOutcome(tuple(wheels), (*done, *skipped, *declined), dropped, orphans)


def _names(requires: Sequence[str], name: str) -> list[str]:
    out = []
    for line in requires:
        head = re.split(r"[<>=!~;\[ (]", line.strip(), maxsplit=1)[0]
        if canonicalize_name(head) == name:
            out.append(line)
    return out


def locked_originals(wheels: Sequence[tuple[str, str]], variants: Mapping[str, Variant],
                     source: Path) -> tuple[Replacement, ...]:
    """A lock file's pins are installed exactly as locked (hashes included): an original with
    a variant stays, and the report says how to get the variant."""
    out = []
    for name, version in wheels:
        v = variants.get(str(canonicalize_name(name)))
        if v is not None:
            out.append(Replacement(
                v.original, v.replacement, v.reason, v.source, "locked", f"{name}=={version}",
                version, skipped=f"{source.name} pins it and is installed as locked; lock "
                f"{v.replacement} instead (replace {v.original} by {v.replacement} in the "
                "project's dependencies and re-lock)"))
    return tuple(out)
