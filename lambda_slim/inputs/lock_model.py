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
from packaging.utils import canonicalize_name

from ..errors import InputError
from ..target.runtimes import Target, python_target

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

    def requirement_line(self) -> str:
        head = f"{self.name} @ {self.url}" if self.url else f"{self.name}=={self.version}"
        return " \\\n    ".join([head, *(f"--hash=sha256:{h}" for h in self.hashes)])


@dataclass(frozen=True)
class LockedInput:
    """What a lock file says to install for one target: exact pins, nothing to resolve."""

    path: Path
    kind: Kind
    pins: tuple[Pin, ...]
    requested: frozenset[str]  # the project's direct dependencies (the rules never remove these)
    digest: str  # sha256 over the lock (and the pyproject it was checked against)
    notes: tuple[str, ...] = field(default=())  # things the CLI may show (e.g. freshness not checked)
    index_urls: tuple[str, ...] = ()  # indexes other than PyPI the lock names (private registries)

    @property
    def hashed(self) -> bool:
        return all(p.hashes for p in self.pins)

    def requirements_text(self) -> str:
        """A pip requirements file that installs exactly these pins (use with ``--no-deps``)."""
        header = f"# {self.kind} {self.path.name}: {len(self.pins)} pins, judged for the target\n"
        header += "".join(f"--extra-index-url {url}\n" for url in self.index_urls)
        return header + "".join(p.requirement_line() + "\n" for p in self.pins)


@dataclass(frozen=True)
class ProjectInput:
    """A pyproject without a lock: requirements (markers judged for the target) to resolve."""

    path: Path
    kind: Kind
    requirements: tuple[str, ...]  # PEP 508 strings, markers already judged and removed
    requested: frozenset[str]
    digest: str
    notes: tuple[str, ...] = field(default=())

    def requirements_text(self) -> str:
        header = f"# {self.kind} {self.path.name}: {len(self.requirements)} requirements\n"
        return header + "".join(r + "\n" for r in self.requirements)


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
