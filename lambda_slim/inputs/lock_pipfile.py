"""``Pipfile.lock`` (Pipenv): JSON with a ``default`` section, ``develop`` and any other
categories; every entry is already resolved (``==version``, hashes, a marker to judge).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from packaging.utils import canonicalize_name

from ..errors import InputError
from .lock_model import (
    LockedInput,
    LockTarget,
    Pin,
    Selection,
    check_depth,
    checked_pin,
    file_digest,
    items,
    judge,
    sha256_of,
    table,
)
from .lock_pyproject import load_toml
from .pip_lines import refuse_source

DEFAULT = "default"
DEVELOP = "develop"
PYPI_SIMPLE = "https://pypi.org/simple"
#: ``_meta.pipfile-spec`` versions this reader knows (Pipenv writes 6).
SUPPORTED_SPECS = (6,)
_RELOCK = "pipenv lock"


def looks_like(data: object) -> bool:
    return isinstance(data, Mapping) and isinstance(data.get("_meta"), Mapping) and isinstance(
        data.get(DEFAULT, {}), Mapping)


def load_json(path: Path) -> tuple[object, bytes]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path} cannot be read ({exc.strerror}); expected a Pipfile.lock.") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not valid JSON ({exc}); expected a Pipfile.lock.",
                         hint="Regenerate it with `pipenv lock`.") from None
    except RecursionError:
        raise InputError(f"{path} is nested too deeply to be a Pipfile.lock.",
                         hint="Regenerate it with `pipenv lock`.") from None
    check_depth(data, str(path))
    return data, raw


def read_pipfile_lock(path: Path, target: LockTarget, selection: Selection) -> LockedInput:
    data, raw = load_json(path)
    where = str(path)
    if not looks_like(data):
        raise InputError(f"{path} is not a Pipfile.lock: expected a JSON object with `_meta` and "
                         "`default`.", hint="Regenerate it with `pipenv lock`.")
    assert isinstance(data, Mapping)
    spec = table(data["_meta"], where, "_meta").get("pipfile-spec")
    if spec not in SUPPORTED_SPECS or isinstance(spec, bool):
        raise InputError(
            f"{path} has _meta.pipfile-spec {spec!r}; lambda-slim reads pipfile-spec "
            f"{', '.join(map(str, SUPPORTED_SPECS))}, and guessing at another format could "
            "install something other than what is locked.",
            hint="Regenerate it with `pipenv lock`, or upgrade lambda-slim.")
    if selection.extras:
        raise InputError(f"{path}: a Pipfile.lock has no extras (--extra); they are resolved into it.",
                         hint="List the extra in the Pipfile (`pkg = {extras = [\"x\"]}`) and run "
                         "`pipenv lock`.")
    categories = {("dev" if k == DEVELOP else canonicalize_name(k)): k
                  for k in data if k != "_meta" and isinstance(data[k], Mapping)}
    unknown = sorted(selection.group_names - set(categories))
    if unknown:
        raise InputError(f"{path} has no category {', '.join(map(repr, unknown))}.",
                         hint=f"Its categories: {', '.join(sorted(categories))} "
                         "(`--group dev` selects [dev-packages]).")
    wanted = {DEFAULT} | {categories[g] for g in selection.group_names}
    sources = {}
    for source in items(table(data["_meta"], where, "_meta").get("sources"), where, "_meta.sources"):
        if isinstance(source, Mapping) and isinstance(source.get("url"), str):
            sources[str(source.get("name"))] = str(source["url"]).rstrip("/")
    pins: dict[str, Pin] = {}
    skipped = [f"category {c} is not selected (--group {c})" for c in sorted(set(categories) - {
        "default"} - selection.group_names)]
    for category in sorted(wanted):
        for name, entry in table(data.get(category, {}), where, category).items():
            entry = table(entry, where, f"{category}.{name}")
            canonical = canonicalize_name(name)
            marker = entry.get("markers")
            marker = marker if isinstance(marker, str) else None
            if not judge(marker, target, f"{where} ({category}.{name})"):
                skipped.append(f"{canonical}: marker `{marker}` does not hold for the target")
                continue
            index = sources.get(str(entry.get("index", "")))
            pin = _pin(entry, name, marker, f"{where} ({category}.{name})",
                       None if index == PYPI_SIMPLE else index)
            pins.setdefault(pin.name, pin)
    notes = (f"{path}: Pipfile.lock freshness against the Pipfile is not checked; run `pipenv lock` "
             "after editing the Pipfile.",)
    return LockedInput(path, "Pipfile.lock", tuple(sorted(pins.values(), key=lambda p: p.name)),
                       frozenset(_direct(path.parent / "Pipfile", pins)), file_digest((path, raw)),
                       notes, tuple(skipped))


def _pin(entry: Mapping[str, object], name: str, marker: str | None, where: str,
         index: str | None) -> Pin:
    version = entry.get("version")
    digests = (sha256_of(str(h), where) for h in items(entry.get("hashes"), where, "hashes"))
    hashes = tuple(d for d in digests if d)
    if isinstance(version, str) and version.startswith("=="):
        return checked_pin(name, version[2:], where, hashes=hashes, marker=marker, index=index,
                           tool=_RELOCK)
    url = entry.get("file")
    if isinstance(url, str):
        return checked_pin(name, None, where, hashes=hashes, wheels=(url,), marker=marker, url=url,
                           tool=_RELOCK)
    kind = next((k for k in ("git", "path", "file", "editable") if k in entry), "unpinned")
    raise refuse_source(where, name, kind, entry.get(kind), tool=_RELOCK)


def _direct(pipfile: Path, pins: Mapping[str, Pin]) -> set[str]:
    """Names the Pipfile lists (the direct dependencies); all pins when it is absent."""
    if not pipfile.is_file():
        return set(pins)
    data, _ = load_toml(pipfile, "a Pipfile")
    names = {canonicalize_name(n) for section in data.values() if isinstance(section, Mapping)
             for n in section if isinstance(n, str)}
    return set(pins) & names
