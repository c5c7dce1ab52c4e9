"""``pylock.toml`` (PEP 751): packages with markers that may name ``extras`` and
``dependency_groups``.  Validated with ``packaging.pylock`` when the installed ``packaging``
has it (26.1+), else read by the small reader below; markers are judged for the target.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import Marker
from packaging.utils import canonicalize_name

from ..errors import InputError
from .lock_model import LockedInput, LockTarget, Pin, Selection, file_digest, items, judge, table
from .lock_pyproject import check_selection, declared_names, load_toml

try:  # packaging >= 26.1
    from packaging.pylock import Pylock, PylockValidationError
except ImportError:  # pragma: no cover - exercised by forcing the fallback in tests
    Pylock = None  # type: ignore[assignment,misc]
    PylockValidationError = ValueError  # type: ignore[assignment,misc]

PYPI_SIMPLE = "https://pypi.org/simple"
NAME = re.compile(r"^pylock\.([^.]+\.)?toml$")
_LOCK_VARIABLES = re.compile(r"\b(extras|dependency_groups)\b")


def looks_like(data: Mapping[str, object]) -> bool:
    return isinstance(data.get("lock-version"), str) and isinstance(data.get("packages"), list)


@dataclass(frozen=True)
class _Entry:
    name: str
    version: str
    marker: str | None
    hashes: tuple[str, ...]
    wheels: tuple[str, ...]
    url: str | None
    index: str | None


def _validate(path: Path, data: Mapping[str, object], use_packaging: bool) -> None:
    if use_packaging and Pylock is not None:
        try:
            Pylock.from_dict(data)
        except PylockValidationError as exc:
            raise InputError(f"{path} is not a valid pylock.toml (PEP 751): {exc}",
                             hint="Regenerate it with the tool that wrote it "
                             "(e.g. `uv export --format pylock.toml -o pylock.toml`).") from None
    elif not str(data.get("lock-version", "")).startswith("1."):
        raise InputError(f"{path}: lock-version {data.get('lock-version')!r} is not supported "
                         "(lambda-slim reads pylock.toml 1.x).")


def _entries(path: Path, data: Mapping[str, object]) -> list[_Entry]:
    where = str(path)
    out = []
    for raw in items(data.get("packages"), where, "packages"):
        pkg = table(raw, where, "[[packages]]")
        name = canonicalize_name(str(pkg.get("name")))
        what = f"{where} ({name})"
        hashes: set[str] = set()
        wheels: list[str] = []
        for wheel in items(pkg.get("wheels"), where, f"{name} wheels"):
            wheel = table(wheel, where, f"{name} wheel")
            hashes.update(str(h) for k, h in table(wheel.get("hashes", {}), what, "hashes").items()
                          if k == "sha256")
            ref = wheel.get("url") or wheel.get("name") or wheel.get("path")
            if isinstance(ref, str):
                wheels.append(ref)
        url = None
        if not wheels:
            archive = pkg.get("archive")
            archive_url = archive.get("url") if isinstance(archive, Mapping) else None
            if isinstance(archive, Mapping) and isinstance(archive_url, str) \
                    and archive_url.split("#")[0].endswith(".whl"):
                url = archive_url
                hashes.update(str(h) for k, h in table(archive.get("hashes", {}), what, "hashes").items()
                              if k == "sha256")
            else:
                kind = next((k for k in ("vcs", "directory", "archive", "sdist") if k in pkg), "no")
                raise InputError(
                    f"{what}: the lock has no wheel for {name}, only a {kind} source; a layer "
                    "installs locked wheels only.",
                    hint=f"Lock a version of {name} that publishes wheels, or publish one.")
        sdist = pkg.get("sdist")
        if isinstance(sdist, Mapping):
            hashes.update(str(h) for k, h in table(sdist.get("hashes", {}), what, "hashes").items()
                          if k == "sha256")
        marker = pkg.get("marker")
        index = pkg.get("index")
        out.append(_Entry(name, str(pkg.get("version", "")), marker if isinstance(marker, str) else None,
                          tuple(sorted(hashes)), tuple(sorted(wheels)), url,
                          str(index).rstrip("/") if isinstance(index, str) else None))
    return out


def _holds(entry: _Entry, target: LockTarget, extras: frozenset[str], groups: frozenset[str],
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
    pins, indexes = [], set()
    for entry in _entries(path, data):
        if _holds(entry, target, selection.extra_names, groups, f"{where} ({entry.name})", use_packaging):
            pins.append(Pin(entry.name, entry.version, entry.hashes, entry.wheels, entry.marker, entry.url))
            if entry.index and entry.index != PYPI_SIMPLE:
                indexes.add(entry.index)
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
                       frozenset(requested), file_digest(*digest_parts), (), tuple(sorted(indexes)))
