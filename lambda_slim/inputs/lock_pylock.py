"""``pylock.toml`` (PEP 751): packages with markers that may name ``extras`` and
``dependency_groups``.  Validated with ``packaging.pylock`` when the installed ``packaging``
has it (26.1+), else read by the small reader below; markers are judged for the target.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from packaging.markers import Marker
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

try:  # packaging >= 26.1
    from packaging.pylock import Pylock, PylockValidationError
except ImportError:  # pragma: no cover - exercised by forcing the fallback in tests
    Pylock = None  # type: ignore[assignment,misc]
    PylockValidationError = ValueError  # type: ignore[assignment,misc]

PYPI_SIMPLE = "https://pypi.org/simple"
NAME = re.compile(r"^pylock\.([^.]+\.)?toml$")
_RELOCK = "uv export --format pylock.toml"
_LOCK_VARIABLES = re.compile(r"\b(extras|dependency_groups)\b")


def looks_like(data: Mapping[str, object]) -> bool:
    return isinstance(data.get("lock-version"), str) and isinstance(data.get("packages"), list)


def _validate(path: Path, data: Mapping[str, object], use_packaging: bool) -> None:
    try:
        major = Version(str(data.get("lock-version"))).major
    except InvalidVersion:
        major = None
    if major != 1:
        raise InputError(f"{path}: lock-version {data.get('lock-version')!r} is not supported "
                         "(lambda-slim reads pylock.toml 1.x); guessing at another format could "
                         "install something other than what is locked.",
                         hint="Export the lock again as pylock.toml 1.0, or upgrade lambda-slim.")
    if use_packaging and Pylock is not None:
        try:
            Pylock.from_dict(data)
        except (PylockValidationError, TypeError, ValueError, KeyError, AttributeError) as exc:
            raise InputError(f"{path} is not a valid pylock.toml (PEP 751): {exc}",
                             hint="Regenerate it with the tool that wrote it "
                             "(e.g. `uv export --format pylock.toml -o pylock.toml`).") from None


def _sha256s(value: object, where: str) -> set[str]:
    hashes = table(value if value is not None else {}, where, "hashes")
    return {d for k, h in hashes.items() if k == "sha256" and (d := sha256_of(str(h), where))}


def _entries(path: Path, data: Mapping[str, object]) -> list[Pin]:
    where = str(path)
    out = []
    for raw in items(data.get("packages"), where, "packages"):
        pkg = table(raw, where, "[[packages]]")
        name = str(pkg.get("name"))
        what = f"{where} ({name})"
        hashes: set[str] = set()
        wheels: list[str] = []
        for wheel in items(pkg.get("wheels"), where, f"{name} wheels"):
            wheel = table(wheel, where, f"{name} wheel")
            hashes |= _sha256s(wheel.get("hashes"), what)
            ref = wheel.get("url") or wheel.get("name") or wheel.get("path")
            if isinstance(ref, str):
                wheels.append(ref)
        url = None
        if not wheels:
            archive = pkg.get("archive")
            if isinstance(archive, Mapping) and isinstance(archive.get("url"), str):
                url = archive["url"]
                hashes |= _sha256s(archive.get("hashes"), what)
            else:
                kind = next((k for k in ("vcs", "directory", "archive", "sdist") if k in pkg), "no")
                detail = pkg.get(kind)
                if isinstance(detail, Mapping):
                    detail = detail.get("url") or detail.get("path")
                raise refuse_source(what, name, kind, detail, tool=_RELOCK)
        if isinstance(pkg.get("sdist"), Mapping):
            hashes |= _sha256s(table(pkg["sdist"], what, "sdist").get("hashes"), what)
        marker = pkg.get("marker")
        index = pkg.get("index")
        if isinstance(index, str) and index.rstrip("/") == PYPI_SIMPLE:
            index = None
        out.append(checked_pin(pkg.get("name"), pkg.get("version"), what, hashes=hashes,
                               wheels=wheels, marker=marker if isinstance(marker, str) else None,
                               url=url, index=index if url is None else None, tool=_RELOCK))
    return out


def _holds(entry: Pin, target: LockTarget, extras: frozenset[str], groups: frozenset[str],
           where: str, use_packaging: bool) -> bool:
    if entry.marker is None or not _LOCK_VARIABLES.search(entry.marker):
        return judge(entry.marker, target, where)
    if not use_packaging or Pylock is None:
        raise InputError(
            f"{where}: marker {entry.marker!r} uses `extras`/`dependency_groups`, which needs "
            "packaging 26.1 or newer to judge.",
            hint="pip install -U 'packaging>=26.1' in lambda-slim's environment.")
    env: dict[str, str | frozenset[str]] = dict(target.target.marker_environment())
    env.update(extras=extras, dependency_groups=groups)
    return Marker(entry.marker).evaluate(env, context="lock_file")  # type: ignore[arg-type,call-arg]


def read_pylock(path: Path, target: LockTarget, selection: Selection, *,
                use_packaging: bool = True) -> LockedInput:
    data, raw = load_toml(path, "a pylock.toml")
    where = str(path)
    if not looks_like(data):
        raise InputError(f"{path} is not a pylock.toml (PEP 751): expected a `lock-version` string and "
                         "[[packages]] tables.",
                         hint="Regenerate it, e.g. `uv export --format pylock.toml -o pylock.toml`.")
    _validate(path, data, use_packaging)
    requires = data.get("requires-python")
    if isinstance(requires, str):
        from packaging.specifiers import SpecifierSet
        if not SpecifierSet(requires).contains(target.python_full_version, prereleases=True):
            raise InputError(f"{path} is locked for Python {requires}, but the target runs Python "
                             f"{target.python_version}.",
                             hint="Pick a runtime the lock allows (--runtime), or re-lock.")
    declared_extras = frozenset(canonicalize_name(str(e)) for e in items(data.get("extras"), where, "extras"))
    declared_groups = frozenset(canonicalize_name(str(g))
                                for g in items(data.get("dependency-groups"), where, "dependency-groups"))
    defaults = frozenset(canonicalize_name(str(g))
                         for g in items(data.get("default-groups"), where, "default-groups"))
    check_selection(path, selection, declared_extras, declared_groups | defaults)
    groups = (frozenset() if selection.no_default_groups else defaults - {"dev"}) | selection.group_names
    pins: list[Pin] = []
    skipped = [f"group {g} is not selected (--group {g})"
               for g in sorted((declared_groups | defaults) - groups)]
    for entry in _entries(path, data):
        if _holds(entry, target, selection.extra_names, groups, f"{where} ({entry.name})", use_packaging):
            pins.append(entry)
        else:
            skipped.append(f"{entry.name}: marker `{entry.marker}` does not hold for the target")
    names = [p.name for p in pins]
    requested = set(names)
    digest_parts = [(path, raw)]
    pyproject = path.parent / "pyproject.toml"
    if pyproject.is_file():
        pyproject_data, pyproject_raw = load_toml(pyproject, "a pyproject.toml")
        requested &= declared_names(pyproject_data)
        digest_parts.append((pyproject, pyproject_raw))
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise InputError(f"{path}: more than one entry of {', '.join(duplicated)} applies to the target.",
                         hint="Regenerate the lock; each package must apply at most once per environment.")
    return LockedInput(path, "pylock.toml", tuple(sorted(pins, key=lambda p: p.name)),
                       frozenset(requested), file_digest(*digest_parts), (), tuple(skipped))
