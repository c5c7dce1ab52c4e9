"""The dependency graph of a resolved wheel set, judged for a Lambda runtime's markers.

Who requires whom (``Requires-Dist`` with extras and environment markers evaluated for CPython
on Linux), what is reachable from the requirement lines, and what only a removed distribution
needed. Used by variants (a replaced original's own dependencies) and the GPU rule (pins
orphaned by a replacement).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name


@dataclass(frozen=True)
class DistMeta:
    """A resolved distribution: canonical name, version and its ``Requires-Dist`` lines."""

    name: str
    version: str
    requires: tuple[str, ...]


def applicable(req: Requirement, env: Mapping[str, str], extras: Iterable[str]) -> bool:
    """Whether ``req`` applies in ``env`` given the extras requested of its owner."""
    if req.marker is None:
        return True
    marker: Marker = req.marker
    return any(marker.evaluate({**env, "extra": e}) for e in ("", *extras))


def dependency_graph(
    dists: Iterable[DistMeta], roots: Iterable[str], env: Mapping[str, str]
) -> tuple[dict[str, set[str]], dict[str, list[tuple[str, Requirement]]]]:
    """Reachable set (name -> requested extras) and reverse edges (name -> [(who, req)])."""
    by_name = {d.name: d for d in dists}
    extras: dict[str, set[str]] = {}
    rev: dict[str, list[tuple[str, Requirement]]] = {}
    stack: list[str] = []
    for spec in roots:
        try:
            r = Requirement(spec)
        except InvalidRequirement:
            continue
        if r.marker is not None and not r.marker.evaluate(dict(env)):
            continue
        root = str(canonicalize_name(r.name))
        extras.setdefault(root, set()).update(r.extras)
        stack.append(root)
    done: dict[str, frozenset[str]] = {}
    while stack:
        n = stack.pop()
        d = by_name.get(n)
        if d is None or done.get(n) == frozenset(extras[n]):
            continue
        done[n] = frozenset(extras[n])
        for line in d.requires:
            try:
                r = Requirement(line)
            except InvalidRequirement:
                continue
            if not applicable(r, env, extras[n]):
                continue
            dep = canonicalize_name(r.name)
            if not any(w == n for w, _ in rev.get(dep, [])):
                rev.setdefault(dep, []).append((n, r))
            before = set(extras.get(dep, set()))
            extras.setdefault(dep, set()).update(r.extras)
            if dep not in done or extras[dep] != before:
                stack.append(dep)
    return {n: extras[n] for n in extras if n in by_name}, rev


def orphans_of(
    dists: Sequence[DistMeta], roots: Sequence[str], removed: Iterable[str],
    env: Mapping[str, str],
) -> set[str]:
    """Distributions reachable only through ``removed`` (a replaced original's own deps).

    The removed originals count as satisfied by their variants, so edges from a dependent
    to the original now point at the variant; whatever is no longer reachable from the
    requirement lines is orphaned.
    """
    gone = set(removed)
    kept = [d for d in dists if d.name not in gone]
    keep_roots = [r for r in roots if _root_name(r) not in gone]
    reach, _rev = dependency_graph(kept, keep_roots, env)
    return {d.name for d in dists if d.name not in reach and d.name not in gone}


def _root_name(spec: str) -> str:
    try:
        return canonicalize_name(Requirement(spec).name)
    except InvalidRequirement:
        return ""


def orphaned_pins(
    dists: Sequence[DistMeta], roots: Sequence[str],
    replaced: Mapping[str, Sequence[str]], env: Mapping[str, str],
) -> set[str]:
    """Requirement lines that were only there for a replaced original.

    pip-compile output and lock files list every transitive pin as a line of its own, so
    ``nvidia-nccl-cu12==2.23`` stays requested after ``xgboost`` became ``xgboost-cpu``.
    ``replaced`` maps each replaced original to its ``Requires-Dist`` lines; a pinned
    distribution the original required and no kept distribution requires is orphaned.
    """
    wanted_by_original: set[str] = set()
    for requires in replaced.values():
        for line in requires:
            try:
                r = Requirement(line)
            except InvalidRequirement:
                continue
            if applicable(r, env, ()):
                wanted_by_original.add(canonicalize_name(r.name))
    _reach, rev = dependency_graph(dists, [d.name for d in dists], env)
    present = {d.name for d in dists}
    out: set[str] = set()
    for spec in roots:
        n = _root_name(spec)
        dependents = [w for w, _ in rev.get(n, []) if w != n]
        if n in present and n in wanted_by_original and n not in replaced and not dependents:
            out.add(n)
    return out


def wheel_meta(path: Path) -> DistMeta:
    """Name, version and ``Requires-Dist`` of a wheel, read from its ``METADATA``."""
    with zipfile.ZipFile(path) as zf:
        name = next(n for n in zf.namelist()
                    if n.count("/") == 1 and n.endswith(".dist-info/METADATA"))
        msg = HeaderParser().parsestr(zf.read(name).decode("utf-8", "replace"))
    return DistMeta(str(canonicalize_name(str(msg["Name"]))), str(msg["Version"]),
                    tuple(str(r) for r in msg.get_all("Requires-Dist") or ()))
