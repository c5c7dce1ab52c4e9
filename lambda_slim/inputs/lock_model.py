"""The typed result of reading a lock file or a pyproject, and how markers are judged.

Every reader turns its format into the same frozen :class:`Pin` list, judged for a
:class:`LockTarget` (the Lambda runtime's Python, Linux, its machine) and never for the
machine running the build.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from ..errors import InputError
from ..target.runtimes import Target, python_target
from .pip_lines import (
    PipPin,
    PipRequirement,
    index_url,
    render,
    url_hash,
    valid_name,
    valid_version,
    wheel_url,
)

Machine = Literal["x86_64", "aarch64"]
Kind = Literal["uv.lock", "pylock.toml", "poetry.lock", "Pipfile.lock", "pyproject.toml"]


@dataclass(frozen=True)
class LockTarget:
    """Where the layer runs (CPython on Lambda's Linux): markers are judged for this, not for the
    machine running the build."""

    python: tuple[int, int]
    machine: Machine

    @property
    def target(self) -> Target:
        """The runtime target whose :meth:`~Target.marker_environment` judges the lock."""
        return python_target(self.python, self.machine)

    @property
    def python_version(self) -> str:
        return self.target.marker_environment()["python_version"]

    @property
    def python_full_version(self) -> str:
        return self.target.marker_environment()["python_full_version"]


@dataclass(frozen=True)
class Selection:
    """Which groups and extras to install (``--group``, ``--extra``, ``--no-default-groups``)."""

    groups: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    no_default_groups: bool = False

    @property
    def group_names(self) -> frozenset[str]:
        return frozenset(canonicalize_name(g) for g in self.groups)

    @property
    def extra_names(self) -> frozenset[str]:
        return frozenset(canonicalize_name(e) for e in self.extras)


@dataclass(frozen=True)
class Pin:
    """One locked distribution to install exactly: ``name==version`` with its hashes."""

    name: str  # canonical (PEP 503) name
    version: str
    hashes: tuple[str, ...] = ()  # sha256 hex digests, sorted
    wheels: tuple[str, ...] = ()  # wheel URLs, or file names where the lock gives no URL
    marker: str | None = None  # the marker that was judged true for the target (None: none)
    url: str | None = None  # a direct URL (a wheel not on an index), installed as ``name @ url``
    index: str | None = None  # the index the lock takes it from (None: PyPI)


@dataclass(frozen=True)
class PipGroup:
    """Pins pip installs in one run: one index (scoped to these pins only) and either all
    hash-checked or none (pip's hash-checking mode is all or nothing per run)."""

    index: str | None
    hashed: bool
    pins: tuple[Pin, ...]

    def text(self, kind: str) -> str:
        return render(kind, [PipPin(p.name, p.version, p.hashes, p.url) for p in self.pins],
                      self.index)


@dataclass(frozen=True)
class LockedInput:
    """What a lock file says to install for one target: exact pins, nothing to resolve."""

    path: Path
    kind: Kind
    pins: tuple[Pin, ...]
    requested: frozenset[str]  # the project's direct dependencies (the rules never remove these)
    digest: str  # sha256 over the lock (and the pyproject it was checked against)
    notes: tuple[str, ...] = field(default=())  # things the CLI may show (e.g. freshness not checked)
    #: why nothing is installed, when nothing is (markers that do not hold, groups not selected)
    skipped: tuple[str, ...] = field(default=())

    @property
    def index_urls(self) -> tuple[str, ...]:
        """Indexes other than PyPI the lock names (each used only for its own pins)."""
        return tuple(sorted({p.index for p in self.pins if p.index}))

    @property
    def hashed(self) -> bool:
        return all(p.hashes for p in self.pins)

    @property
    def unverified(self) -> tuple[str, ...]:
        """Pins the lock gives no usable (sha256) hash for: installed without a hash check."""
        return tuple(p.name for p in self.pins if not p.hashes)

    def groups(self) -> tuple[PipGroup, ...]:
        by: dict[tuple[str, bool], list[Pin]] = {}
        for p in self.pins:
            by.setdefault((p.index or "", bool(p.hashes)), []).append(p)
        return tuple(PipGroup(index or None, hashed, tuple(pins))
                     for (index, hashed), pins in sorted(by.items()))

    def requirements_text(self) -> str:
        """The pip requirements files that install exactly these pins (``--no-deps``), joined."""
        return "".join(g.text(self.kind) for g in self.groups())


@dataclass(frozen=True)
class ProjectInput:
    """A pyproject without a lock: requirements (markers judged for the target) to resolve."""

    path: Path
    kind: Kind
    requirements: tuple[str, ...]  # PEP 508 strings, markers already judged and removed
    requested: frozenset[str]
    digest: str
    notes: tuple[str, ...] = field(default=())
    skipped: tuple[str, ...] = field(default=())

    def requirements_text(self) -> str:
        return render(self.kind, [PipRequirement(Requirement(r)) for r in self.requirements])


def checked_pin(raw_name: object, version: object, where: str, *, hashes: Iterable[str] = (),
                wheels: Iterable[str] = (), marker: str | None = None, url: object = None,
                index: object = None, tool: str = "uv lock") -> Pin:
    """A :class:`Pin` whose name, version, URL and index were validated (see
    :mod:`.pip_lines`): nothing from a lock reaches pip unchecked."""
    name = canonicalize_name(valid_name(raw_name, where))
    digests = set(hashes)
    checked_url = None
    if url is not None:
        checked_url = wheel_url(url, where, name, tool)
        if (frag := url_hash(checked_url)) is not None:
            digests.add(frag)
        if not digests:
            raise InputError(
                f"{where}: {name} comes from the URL {checked_url} with no sha256 hash; a wheel "
                "URL is only installed with its hash.",
                hint="Regenerate the lock so it records the wheel's hash (or append "
                "#sha256=<hash> to the URL).")
        version = "" if version in (None, "") else valid_version(version, where, name)
    else:
        version = valid_version(version, where, name)
    checked_index = index_url(index, where) if index is not None else None
    return Pin(name, str(version), tuple(sorted(digests)), tuple(sorted(wheels)), marker,
               checked_url, checked_index)


def nothing_installed(path: Path, skipped: Iterable[str]) -> tuple[str, ...]:
    """Why a read produced no pin, for the "nothing to install" error (first few reasons)."""
    reasons = list(dict.fromkeys(skipped))
    shown = reasons[:6] + ([f"... and {len(reasons) - 6} more"] if len(reasons) > 6 else [])
    return tuple(shown) or (f"{path.name} lists no dependency for the selected groups",)


def judge(marker: str | Marker | None, target: LockTarget, where: str,
          extras: Iterable[str] = ()) -> bool:
    """Whether ``marker`` holds on the target (for any of ``extras``, or none).

    ``where`` names the file and entry for the error a malformed marker gets.
    """
    if marker is None or marker == "":
        return True
    try:
        m = marker if isinstance(marker, Marker) else Marker(marker)
    except InvalidMarker as exc:
        raise InputError(f"{where}: malformed marker {marker!r}: {exc}") from None
    env = target.target.marker_environment()
    try:
        for extra in ("", *sorted(canonicalize_name(e) for e in extras)):
            env["extra"] = extra
            if m.evaluate(env):
                return True
    except (UndefinedComparison, UndefinedEnvironmentName) as exc:
        raise InputError(f"{where}: cannot judge marker {str(m)!r} for the target: {exc}") from None
    return False


def file_digest(*parts: tuple[Path, bytes]) -> str:
    sha = hashlib.sha256()
    for path, data in parts:
        sha.update(path.name.encode() + b"\0" + data + b"\0")
    return sha.hexdigest()


def sha256_of(hash_text: str, where: str) -> str | None:
    """``sha256:HEX`` (or a bare hex) → HEX; other algorithms → None; junk → InputError."""
    algo, sep, digest = hash_text.partition(":")
    if not sep:
        algo, digest = "sha256", hash_text
    if algo.lower() != "sha256":
        return None
    digest = digest.strip().lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise InputError(f"{where}: {hash_text!r} is not a sha256 hash.")
    return digest


#: Deepest nesting of tables and arrays accepted in a lock or pyproject: real ones stay below 10.
MAX_DEPTH = 64


def check_depth(data: object, where: str, limit: int = MAX_DEPTH) -> None:
    """Refuse data nested deeper than ``limit`` (walked without recursion)."""
    stack: list[tuple[object, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            raise InputError(f"{where} is nested more than {limit} levels deep; no lock file or "
                             "pyproject.toml is.", hint="Pass the real file (regenerate it).")
        if isinstance(value, Mapping):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


def table(value: object, where: str, what: str) -> Mapping[str, object]:
    """``value`` as a TOML table, or an InputError naming the file and the key."""
    if not isinstance(value, Mapping):
        raise InputError(f"{where}: {what} should be a table, found {type(value).__name__}.")
    return value


def items(value: object, where: str, what: str) -> list[object]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(f"{where}: {what} should be a list, found {type(value).__name__}.")
    return value
