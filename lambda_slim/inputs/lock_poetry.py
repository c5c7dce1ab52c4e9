"""``poetry.lock`` (lock-version 2.1, Poetry 2): every package records its groups and, per group,
the marker under which it is needed, so a target's set is chosen without re-resolving, as
``poetry export`` (main group, ``--with``, ``--extras``) would.  Freshness is the lock's
``content-hash`` compared with the hash of the pyproject's relevant sections.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..errors import InputError
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
from .lock_pyproject import check_selection, declared_names, load_toml
from .pip_lines import refuse_source

MAIN = "main"
PYPI_SIMPLE = "https://pypi.org/simple"
_PROJECT_KEYS = ("requires-python", "dependencies", "optional-dependencies")
_LEGACY_POETRY_KEYS = ("dependencies", "source", "extras", "dev-dependencies")
#: lock-version 2.1 (Poetry 2) records each package's groups and markers; 1.x and 2.0 do not,
#: and a 3.x would be a format this reader does not know.
_OLDEST, _NEXT_MAJOR = Version("2.1"), Version("3")


def looks_like(data: Mapping[str, object]) -> bool:
    meta = data.get("metadata")
    return isinstance(meta, Mapping) and "content-hash" in meta and isinstance(data.get("package", []), list)


def content_hash(pyproject: Mapping[str, object], *, with_groups: bool = True) -> str:
    """The hash Poetry stores as ``content-hash``: sha256 of the sorted JSON of the pyproject's
    dependency-relevant sections (``[project]`` keys, ``[dependency-groups]``, ``[tool.poetry]``)."""
    def section(data: object, name: str) -> Mapping[str, object]:
        value = data.get(name) if isinstance(data, Mapping) else None
        return value if isinstance(value, Mapping) else {}

    declared = section(pyproject, "project")
    project = {k: declared[k] for k in _PROJECT_KEYS if k in declared}
    groups = section(pyproject, "dependency-groups") if with_groups else {}
    poetry = section(section(pyproject, "tool"), "poetry")
    relevant_poetry = {}
    for k in (*_LEGACY_POETRY_KEYS, "group"):
        if k in poetry or (k in _LEGACY_POETRY_KEYS and not project and not groups):
            relevant_poetry[k] = poetry.get(k)
    content: dict[str, object]
    if project or groups:
        content = {"project": project} if project else {}
        if groups:
            content["dependency-groups"] = groups
        content["tool"] = {"poetry": relevant_poetry}
    else:
        content = relevant_poetry
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _check_fresh(lock: Path, raw: bytes, stored: object, pyproject: Path,
                 data: Mapping[str, object]) -> None:
    hashes = {content_hash(data)}
    made_by = re.search(rb"Poetry ([^ \n]+)", raw.split(b"\n", 1)[0])
    try:
        if made_by and Version(made_by.group(1).decode()) < Version("2.3.0"):
            hashes.add(content_hash(data, with_groups=False))  # older Poetry left groups out
    except InvalidVersion:
        pass
    if stored not in hashes:
        raise InputError(
            f"{lock} is out of date with {pyproject}: its content-hash does not match the "
            "dependencies pyproject.toml declares now.",
            hint=f"Run `poetry lock` in {lock.parent} and commit the updated poetry.lock.")


def _known_groups(packages: list[Mapping[str, object]], pyproject: Mapping[str, object]) -> set[str]:
    known: set[str] = {canonicalize_name(str(g)) for p in packages for g in items(p.get("groups"), "", "")}
    tool = pyproject.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, Mapping) else None
    declared = poetry.get("group") if isinstance(poetry, Mapping) else None
    if isinstance(declared, Mapping):
        known |= {canonicalize_name(g) for g in declared}
    dg = pyproject.get("dependency-groups")
    if isinstance(dg, Mapping):
        known |= {canonicalize_name(g) for g in dg}
    return known - {MAIN}


def read_poetry_lock(path: Path, target: LockTarget, selection: Selection) -> LockedInput:
    data, raw = load_toml(path, "a poetry.lock")
    where = str(path)
    if not looks_like(data):
        raise InputError(f"{path} is not a Poetry lock file: expected [[package]] tables and "
                         "[metadata] with a content-hash.",
                         hint="Regenerate it with `poetry lock`, or pass the file you meant.")
    meta = table(data["metadata"], where, "[metadata]")
    try:
        lock_version = Version(str(meta.get("lock-version")))
    except InvalidVersion:
        raise InputError(f"{path}: lock-version {meta.get('lock-version')!r} is not a version.",
                         hint=f"Regenerate it with `poetry lock` in {path.parent}.") from None
    if lock_version < _OLDEST:
        raise InputError(
            f"{path} has lock-version {meta.get('lock-version')}: it was written by Poetry 1 and does "
            "not record each package's groups and markers, which lambda-slim needs to install "
            "exactly what is locked without re-resolving.",
            hint=f"Run `poetry lock` with Poetry 2 in {path.parent} (the versions stay as locked).")
    if lock_version >= _NEXT_MAJOR:
        raise InputError(
            f"{path} has lock-version {meta.get('lock-version')}, a format newer than lambda-slim "
            "reads (2.x); guessing at it could install something other than what is locked.",
            hint="Upgrade lambda-slim, or lock with the Poetry 2 release your team uses.")
    packages = [table(p, where, "[[package]]") for p in items(data.get("package"), where, "package")]
    pyproject_path = path.parent / "pyproject.toml"
    pyproject: Mapping[str, object] = {}
    digest_parts = [(path, raw)]
    notes: list[str] = []
    if pyproject_path.is_file():
        pyproject, py_raw = load_toml(pyproject_path, "a pyproject.toml")
        _check_fresh(path, raw, meta.get("content-hash"), pyproject_path, pyproject)
        digest_parts.append((pyproject_path, py_raw))
    else:
        notes.append(f"{path}: no pyproject.toml beside it, so its freshness was not checked.")
    extras_table = table(data.get("extras", {}), where, "[extras]")
    known_extras = {canonicalize_name(e) for e in extras_table}
    check_selection(path, selection, frozenset(known_extras), frozenset(_known_groups(packages, pyproject)))
    groups = {MAIN} | selection.group_names
    extras = selection.extra_names

    pins: list[Pin] = []
    skipped: list[str] = []
    for pkg in packages:
        name = canonicalize_name(str(pkg.get("name")))
        pkg_groups = [canonicalize_name(str(g)) for g in items(pkg.get("groups"), where, f"{name} groups")]
        markers = pkg.get("markers")
        chosen: str | None = None
        needed = False
        for group in (g for g in pkg_groups if g in groups):
            marker = markers.get(group) if isinstance(markers, Mapping) else markers
            text = str(marker) if marker else None
            if judge(text, target, f"{where} ({name}, group {group})", extras):
                needed, chosen = True, text
                break
        if needed:
            pins.append(_pin(pkg, chosen, f"{where} ({name})"))
        elif not set(pkg_groups) & groups:
            skipped.append(f"{name} is only in group(s) {', '.join(pkg_groups) or 'none'} "
                           "(select one with --group)")
        else:
            skipped.append(f"{name}: its marker does not hold for the target")
    requested = {p.name for p in pins} & declared_names(pyproject)
    return LockedInput(path, "poetry.lock", tuple(sorted(pins, key=lambda p: p.name)),
                       frozenset(requested), file_digest(*digest_parts), tuple(notes),
                       tuple(skipped))


def _pin(pkg: Mapping[str, object], marker: str | None, where: str) -> Pin:
    name = str(pkg.get("name"))
    source = pkg.get("source")
    kind = source.get("type") if isinstance(source, Mapping) else None
    url = index = None
    if isinstance(source, Mapping) and kind not in (None, "legacy"):
        if kind != "url":
            raise refuse_source(where, name, str(kind), source.get("url"), tool="poetry lock")
        url = source.get("url")
    elif isinstance(source, Mapping) and kind == "legacy":
        given = source.get("url")
        index = None if isinstance(given, str) and given.rstrip("/") == PYPI_SIMPLE else given
    hashes, wheels = set(), []
    for f in items(pkg.get("files"), where, f"{name} files"):
        f = table(f, where, f"{name} files entry")
        digest = sha256_of(str(f.get("hash", "")), f"{where} {name}") if f.get("hash") else None
        if digest:
            hashes.add(digest)
        if str(f.get("file", "")).endswith(".whl"):
            wheels.append(str(f["file"]))  # Poetry records file names, not URLs
    return checked_pin(pkg.get("name"), pkg.get("version"), where, hashes=hashes, wheels=wheels,
                       marker=marker, url=url, index=index, tool="poetry lock")
