"""Why a distribution is in the layer: the requirement chains that bring it, its bytes, what
only it brings, and what would take it out.

Works on the typed build report: its ``requires`` holds every installed distribution's
Requires-Dist lines that name another installed one, and ``requirement_lines`` the
requested lines. Markers are judged for the report's target (not this machine) and extras
follow the chain, the way pip resolved them (see :func:`..resolve.depgraph.dependency_graph`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from ..errors import InputError
from ..resolve.depgraph import DistMeta, dependency_graph
from ..resolve.variants import VARIANTS
from ..suggest import did_you_mean
from ..target.runtimes import RUNTIME_PROVIDED
from .model import LayerReport, PackageRow

_EXTRA = re.compile(r"""extra\s*==\s*['"]([^'"]+)['"]""")


@dataclass(frozen=True)
class Link:
    """``parent`` requires ``child`` through the Requires-Dist line ``spec``."""

    parent: str
    child: str
    spec: str

    @property
    def extra(self) -> str | None:
        m = _EXTRA.search(self.spec)
        return m.group(1) if m else None

    @property
    def marker(self) -> str | None:
        try:
            req = Requirement(self.spec)
        except InvalidRequirement:
            return None
        return str(req.marker) if req.marker is not None else None


@dataclass(frozen=True)
class Why:
    name: str  # display name
    version: str
    final_bytes: int
    installed_bytes: int
    requested: tuple[str, ...]  # requirement lines naming it
    chains: tuple[tuple[Link, ...], ...]  # each from a requested distribution down to it
    only_via: tuple[tuple[str, int], ...]  # (name, final bytes) that would go with it
    removals: tuple[str, ...]  # ways to take it out of the layer
    target: str

    @property
    def only_bytes(self) -> int:
        return sum(b for _, b in self.only_via)


def _as_requirement(line: str) -> str | None:
    """A requirement line as PEP 508: a wheel given by path or URL (``./dist/x-1.0-….whl``,
    what pip accepts in a requirements file) stands for its project name."""
    try:
        Requirement(line)
        return line
    except InvalidRequirement:
        pass
    name = unquote(line.split("#", 1)[0].strip().rsplit("/", 1)[-1])
    try:
        return str(parse_wheel_filename(name)[0])
    except InvalidWheelFilename:
        return None


def _roots(lines: list[str]) -> dict[str, str]:
    """Canonical name -> the requirement line (as the user wrote it) that asks for it."""
    out: dict[str, str] = {}
    for line in lines:
        spec = _as_requirement(line)
        if spec is not None:
            out.setdefault(canonicalize_name(Requirement(spec).name), line)
    return out


def _chains(key: str, rev: Mapping[str, list[tuple[str, Requirement]]], roots: set[str],
            requires: Mapping[str, list[str]], limit: int) -> list[tuple[Link, ...]]:
    """Simple paths from a root down to ``key`` over applied edges, shortest first."""
    found: list[tuple[Link, ...]] = []

    def spec(parent: str, req: Requirement) -> str:
        for line in requires.get(parent, []):
            try:
                if Requirement(line) == req:
                    return line
            except InvalidRequirement:
                continue
        return str(req)

    def up(node: str, path: tuple[Link, ...], seen: frozenset[str]) -> None:
        if len(found) >= limit * 4:
            return
        for parent, req in sorted(rev.get(node, []), key=lambda pr: pr[0]):
            if parent in seen:
                continue
            link = Link(parent, node, spec(parent, req))
            if parent in roots:
                found.append((link, *path))
            up(parent, (link, *path), seen | {parent})

    up(key, (), frozenset({key}))
    found.sort(key=lambda c: (len(c), [x.parent for x in c]))
    return found[:limit]


def explain(rep: LayerReport, name: str, limit: int = 10) -> Why:
    """Answer ``why NAME`` from a build report (raises InputError for an unknown name)."""
    if not rep.requirement_lines:
        raise InputError(
            "This report has no dependency graph (\"requires\"): it was written by an older "
            "lambda-slim.",
            hint="Rebuild with this version (`lambda-slim build --json report.json`), or pass "
            "the requirements file instead of the report.",
        )
    rows: dict[str, PackageRow] = {canonicalize_name(p.name): p for p in rep.packages}
    key = canonicalize_name(name)
    if key not in rows:
        raise InputError(
            f"{name} is not in this layer ({len(rows)} distributions)."
            + did_you_mean(key, sorted(rows)),
            hint="`lambda-slim why` names an installed distribution; the report's "
            "\"packages\" list them all.",
        )
    requires: dict[str, list[str]] = {canonicalize_name(k): list(v)
                                      for k, v in rep.requires.items()}
    lines = list(rep.requirement_lines)
    env = rep.target.marker_environment()
    dists = [DistMeta(k, rows[k].version, tuple(requires.get(k, ()))) for k in rows]
    roots = _roots(lines)
    specs = [spec for line in lines if (spec := _as_requirement(line)) is not None]
    reach, rev = dependency_graph(dists, specs, env)
    chains = _chains(key, rev, set(roots), requires, limit)
    without, _ = dependency_graph([d for d in dists if d.name != key], specs, env)
    only = sorted(((rows[k].name, rows[k].final_bytes)
                   for k in set(reach) - set(without) - {key} if k in rows),
                  key=lambda nb: (-nb[1], nb[0]))
    row = rows[key]
    return Why(
        name=row.name, version=row.version, final_bytes=row.final_bytes,
        installed_bytes=row.installed_bytes,
        requested=tuple(line for k, line in roots.items() if k == key),
        chains=tuple(chains), only_via=tuple(only),
        removals=tuple(_removals(key, row, roots, chains, reach, rows, only)),
        target=f"{rep.target.runtime.name} {rep.target.arch}",
    )


def _removals(key: str, row: PackageRow, roots: Mapping[str, str],
              chains: list[tuple[Link, ...]], reach: Mapping[str, set[str]],
              rows: Mapping[str, PackageRow], only: list[tuple[str, int]]) -> list[str]:
    out: list[str] = []
    shown = row.name
    if key not in reach:
        out.append(f"No requirement chain reaches {shown} on this target: it is installed "
                   "without being needed here (a dependency whose marker pip judged for another "
                   "machine, or a leftover). Rebuilding should drop it.")
    if key in roots:
        more = "; other distributions need it too, so it would stay" if chains else ""
        out.append(f"It is in your requirements (`{roots[key]}`): remove that line{more}.")
    firsts = {c[0].parent for c in chains}
    if chains and key not in roots and len(firsts) == 1:
        (root,) = firsts
        gone = f" and {len(only)} other distribution(s) that only it brings" if only else ""
        out.append(f"Everything that brings it starts at `{roots[root]}`: removing that "
                   f"requirement removes {shown}{gone}.")
    for link in {c[-1] for c in chains}:
        if link.extra:
            out.append(f"{link.parent} asks for it only with its extra [{link.extra}]: "
                       f"request {link.parent} without [{link.extra}] (if nothing else asks "
                       "for that extra).")
        elif link.marker:
            out.append(f"{link.parent} asks for it only when `{link.marker}`, which holds "
                       "on this target.")
    names = {key} | {x.parent for c in chains for x in c}
    for v in VARIANTS:
        if v.original in names and v.original in rows:
            out.append(f"{rows[v.original].name} has a drop-in variant, {v.replacement}: "
                       f"{v.reason}.")
    if key in RUNTIME_PROVIDED:
        out.append(f"The Lambda runtime ships {shown}; the runtime-provided rule leaves it out "
                   "when it is only a dependency (not a line of your requirements).")
    if not out:
        out.append("Every chain is an unconditional requirement of what you asked for: "
                   "nothing short of dropping a requirement removes it.")
    return sorted(set(out), key=out.index)
