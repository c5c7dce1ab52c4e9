"""``uv.lock``: walk the lock's graph from the project, as ``uv export --no-dev`` would, judging
every edge's marker for the target; check the lock against ``pyproject.toml`` first.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from packaging.markers import Marker
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from ..errors import InputError
from .lock_freshness import describe_difference, grid, key, requirement_key
from .lock_model import (
    LockedInput,
    LockTarget,
    Pin,
    Selection,
    checked_pin,
    file_digest,
    items,
    judge,
    sha256_of,
    table,
)
from .lock_pyproject import Project, check_selection, load_toml, read_project, selected_groups
from .pip_lines import refuse_source

_ROOT_SOURCES = ("virtual", "editable")
PYPI_SIMPLE = "https://pypi.org/simple"
#: The uv.lock format versions this reader knows (uv writes ``version = 1``, with a ``revision``).
SUPPORTED_VERSIONS = (1,)


def looks_like(data: Mapping[str, object]) -> bool:
    pkgs = data.get("package")
    return isinstance(data.get("version"), int) and isinstance(pkgs, list) and all(
        isinstance(p, Mapping) and isinstance(p.get("source"), Mapping) for p in pkgs)


def _requires_python_ok(spec: object, target: LockTarget, where: str) -> None:
    if not isinstance(spec, str):
        return
    try:
        ok = SpecifierSet(spec).contains(target.python_full_version, prereleases=True)
    except InvalidSpecifier:
        raise InputError(f"{where}: requires-python {spec!r} is not a version specifier.") from None
    if not ok:
        raise InputError(
            f"{where} is locked for Python {spec}, but the target runs Python {target.python_version}.",
            hint="Pick a runtime the lock allows (--runtime), or widen requires-python and re-lock.")


def _check_fresh(lock: Path, root: Mapping[str, object], project: Project, requires_python: object) -> None:
    meta = root.get("metadata")
    if not isinstance(meta, Mapping):
        return
    extras = set(project.optional)
    envs = grid(requires_python if isinstance(requires_python, str) else None, extras)

    def lock_keys(entries: object) -> list[str]:
        out = []
        for e in items(entries, str(lock), "requires-dist"):
            e = table(e, str(lock), "a requires-dist entry")
            marker = e.get("marker")
            out.append(key(str(e.get("name")), str(e.get("specifier", "")),
                           [str(x) for x in items(e.get("extras"), str(lock), "extras")],
                           Marker(marker) if isinstance(marker, str) else None, None, envs))
        return sorted(out)

    locked = lock_keys(meta.get("requires-dist"))
    declared = sorted([requirement_key(r, None, envs) for r in project.dependencies] + [
        requirement_key(r, extra, envs) for extra, reqs in project.optional.items() for r in reqs])
    problems = []
    if locked != declared:
        problems.append(describe_difference(locked, declared))
    dev = table(meta.get("requires-dev", {}), str(lock), "[package.metadata.requires-dev]")
    locked_groups: dict[str, list[str]] = {canonicalize_name(g): lock_keys(v) for g, v in dev.items()}
    declared_groups: dict[str, list[str]] = {g: sorted(requirement_key(r, None, envs) for r in reqs)
                       for g, reqs in project.groups.items()}
    for group in sorted(set(locked_groups) | set(declared_groups)):
        if locked_groups.get(group, []) != declared_groups.get(group, []):
            problems.append(f"group {group}: " + describe_difference(
                locked_groups.get(group, []), declared_groups.get(group, [])))
    if problems:
        raise InputError(
            f"{lock} is out of date with {project.path} ({'; '.join(problems)}).",
            hint=f"Run `uv lock` in {lock.parent} and commit the updated uv.lock.")


def read_uv_lock(path: Path, target: LockTarget, selection: Selection) -> LockedInput:
    data, raw = load_toml(path, "a uv.lock")
    where = str(path)
    if not looks_like(data):
        raise InputError(f"{path} is not a uv lock file: expected a top-level `version` number and "
                         "[[package]] tables with a `source`.",
                         hint="Regenerate it with `uv lock`, or pass the file you meant.")
    if data.get("version") not in SUPPORTED_VERSIONS or isinstance(data.get("version"), bool):
        raise InputError(
            f"{path} is uv.lock format version {data.get('version')!r}; lambda-slim reads version "
            f"{', '.join(map(str, SUPPORTED_VERSIONS))}, and guessing at a newer format could "
            "install something other than what is locked.",
            hint="Upgrade lambda-slim, or lock with the uv release your team uses.")
    _requires_python_ok(data.get("requires-python"), target, where)
    packages = [table(p, where, "[[package]]") for p in items(data.get("package"), where, "package")]
    by_name: dict[str, list[Mapping[str, object]]] = {}
    for p in packages:
        by_name.setdefault(canonicalize_name(str(p.get("name"))), []).append(p)
    roots = [p for p in packages
             if any(table(p["source"], where, "source").get(s) == "." for s in _ROOT_SOURCES)]
    if len(roots) != 1:
        raise InputError(f"{path}: cannot find the project itself (one package with source "
                         f"{{ virtual = \".\" }} or {{ editable = \".\" }}); found {len(roots)}.",
                         hint="Pass the uv.lock at the root of your project.")
    root = roots[0]
    root_name = canonicalize_name(str(root.get("name")))
    notes: list[str] = []
    digest_parts = [(path, raw)]
    pyproject = path.parent / "pyproject.toml"
    defaults: frozenset[str] = frozenset()
    if pyproject.is_file():
        project = read_project(pyproject)
        _check_fresh(path, root, project, data.get("requires-python"))
        defaults = project.default_groups()
        digest_parts.append((pyproject, project.raw))
    else:
        notes.append(f"{path}: no pyproject.toml beside it, so its freshness was not checked.")
    optional = table(root.get("optional-dependencies", {}), where, "[package.optional-dependencies]")
    dev = table(root.get("dev-dependencies", {}), where, "[package.dev-dependencies]")
    extras: dict[str, object] = {canonicalize_name(e): v for e, v in optional.items()}
    groups: dict[str, object] = {canonicalize_name(g): v for g, v in dev.items()}
    check_selection(path, selection, frozenset(extras), frozenset(groups))

    def edges_of(deps: object, parent: str) -> list[tuple[Mapping[str, object], str]]:
        return [(table(e, where, "a dependency"), parent) for e in items(deps, where, "dependencies")]

    edges = edges_of(root.get("dependencies"), root_name)
    for extra in sorted(selection.extra_names):
        edges += edges_of(extras[extra], f"{root_name}[{extra}]")
    for group in sorted(selected_groups(selection, defaults) & set(groups)):
        edges += edges_of(groups[group], f"{root_name}:{group}")
    direct = {id(e) for e, _ in edges}
    requested: set[str] = set()
    skipped = [f"group {g} is not selected (--group {g})"
               for g in sorted(set(groups) - selected_groups(selection, defaults))]

    pins: dict[tuple[str, str], Pin] = {}
    walked: set[tuple[int, str]] = set()
    while edges:
        edge, parent = edges.pop()
        name = canonicalize_name(str(edge.get("name")))
        marker = edge.get("marker")
        if not judge(marker if isinstance(marker, str) else None, target, f"{where} ({parent} -> {name})"):
            skipped.append(f"{name}: marker `{marker}` does not hold for the target")
            continue
        pkg = _pick(by_name.get(name, []), edge, target, f"{where} ({parent} -> {name})")
        if id(edge) in direct and pkg is not root:
            requested.add(name)
        if pkg is not root:
            pin = _pin(pkg, marker if isinstance(marker, str) else None, f"{where} ({parent} -> {name})")
            pins.setdefault((pin.name, pin.version), pin)
        wanted = [""] + [canonicalize_name(str(x)) for x in items(edge.get("extra"), where, "extra")]
        pkg_optional = table(pkg.get("optional-dependencies", {}), where, "optional-dependencies")
        for extra in wanted:
            if (id(pkg), extra) in walked:
                continue
            walked.add((id(pkg), extra))
            deps = pkg.get("dependencies") if extra == "" else next(
                (v for k, v in pkg_optional.items() if canonicalize_name(k) == extra), None)
            edges += edges_of(deps, name)
    return LockedInput(path, "uv.lock", tuple(sorted(pins.values(), key=lambda p: (p.name, p.version))),
                       frozenset(requested), file_digest(*digest_parts), tuple(notes), tuple(skipped))


def _pick(candidates: list[Mapping[str, object]], edge: Mapping[str, object], target: LockTarget,
          where: str) -> Mapping[str, object]:
    """The package an edge points at: uv names the version (and source) when a name is forked."""
    found = candidates
    if "version" in edge:
        found = [p for p in found if p.get("version") == edge["version"]]
    if "source" in edge and len(found) > 1:
        found = [p for p in found if p.get("source") == edge["source"]]
    if len(found) > 1:
        found = [p for p in found if any(
            judge(m, target, where) for m in items(p.get("resolution-markers"), where, "resolution-markers")
            if isinstance(m, str))] or found
    if len(found) != 1:
        raise InputError(f"{where}: the lock has {len(found)} matching packages for this dependency.",
                         hint="Regenerate the lock with `uv lock`.")
    return found[0]


def _pin(pkg: Mapping[str, object], marker: str | None, where: str) -> Pin:
    name = str(pkg.get("name"))
    source = table(pkg.get("source"), where, f"{name}'s source")
    kind = next(iter(source), "?")
    if kind not in ("registry", "url"):
        raise refuse_source(where, name, str(kind), source.get(kind))
    hashes: set[str] = set()
    urls: list[str] = []
    for wheel in items(pkg.get("wheels"), where, "wheels"):
        wheel = table(wheel, where, "a wheel")
        if isinstance(wheel.get("url"), str):
            urls.append(str(wheel["url"]))
        digest = sha256_of(str(wheel.get("hash", "")), f"{where} {name}") if wheel.get("hash") else None
        if digest:
            hashes.add(digest)
    sdist = pkg.get("sdist")
    if isinstance(sdist, Mapping) and sdist.get("hash"):
        digest = sha256_of(str(sdist["hash"]), f"{where} {name}")
        if digest:
            hashes.add(digest)
    registry = source.get("registry")
    index = str(registry).rstrip("/") if kind == "registry" else None
    return checked_pin(pkg.get("name"), pkg.get("version"), where, hashes=hashes, wheels=urls,
                       marker=marker, url=source["url"] if kind == "url" else None,
                       index=None if index == PYPI_SIMPLE else registry)
