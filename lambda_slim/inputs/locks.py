"""Lock files and pyproject dependencies, recognised by name and content, read for one target.

``read_input(path, target, selection)`` returns a :class:`LockedInput` (exact pins with hashes,
to install with ``pip install --no-deps --require-hashes``: nothing re-resolved) for ``uv.lock``,
``pylock.toml``, ``poetry.lock`` and ``Pipfile.lock``, or a :class:`ProjectInput` (requirements to
resolve) for a ``pyproject.toml`` without a lock.  ``None`` from :func:`detect` means a pip
requirements file, read by :mod:`lambda_slim.requirements` as before.

The parsing uses ``tomllib``/``json`` and ``packaging`` only; uv, Poetry and Pipenv need not be
installed (tests compare the result with what ``uv export`` and ``poetry export`` give).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from ..errors import InputError
from ..target.runtimes import Target
from . import lock_pipfile, lock_poetry, lock_pylock, lock_uv
from .lock_model import (
    Kind,
    LockedInput,
    LockTarget,
    Machine,
    Pin,
    ProjectInput,
    Selection,
    judge,
    nothing_installed,
)
from .lock_pyproject import read_pyproject
from .pip_lines import write_pip_file
from .requirements import Requirements, read_requirements

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["Kind", "LockTarget", "LockedInput", "Pin", "ProjectInput", "Selection", "default_input",
           "detect", "find_input", "read_dependencies", "read_input"]

_BY_NAME: dict[str, Kind] = {"uv.lock": "uv.lock", "poetry.lock": "poetry.lock",
                             "pipfile.lock": "Pipfile.lock", "pyproject.toml": "pyproject.toml"}
_EXPECTED: dict[Kind, str] = {
    "uv.lock": "a uv lock file (`uv lock`)",
    "pylock.toml": "a PEP 751 lock file (pylock.toml)",
    "poetry.lock": "a Poetry lock file (`poetry lock`)",
    "Pipfile.lock": "a Pipenv lock file (`pipenv lock`)",
    "pyproject.toml": "a pyproject.toml with [project] dependencies",
}
#: Where a folder's input is looked for: the locks first (one of them), then the pip file, then
#: the pyproject's own declarations.
_LOCK_FILES = ("uv.lock", "poetry.lock", "pylock.toml", "Pipfile.lock")
_FALLBACKS = ("requirements.txt", "pyproject.toml")


def _kind_by_name(path: Path) -> Kind | None:
    name = path.name.lower()
    if lock_pylock.NAME.match(name):
        return "pylock.toml"
    return _BY_NAME.get(name)


def _kind_by_content(raw: bytes) -> Kind | None:
    text = raw.decode("utf-8", errors="replace").lstrip("\ufeff")
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            return None
        return "Pipfile.lock" if lock_pipfile.looks_like(data) else None
    try:
        toml = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError):
        return None
    checks: tuple[tuple[Kind, Callable[[Mapping[str, object]], bool]], ...] = (
        ("uv.lock", lock_uv.looks_like), ("pylock.toml", lock_pylock.looks_like),
        ("poetry.lock", lock_poetry.looks_like),
        ("pyproject.toml", lambda d: any(k in d for k in ("project", "build-system", "dependency-groups"))),
    )
    return next((kind for kind, check in checks if check(toml)), None)


def detect(path: Path) -> Kind | None:
    """The format of ``path`` by name and content; ``None`` for a pip requirements file.

    Content wins over an unknown name (``deps.lock`` holding a uv lock is a uv lock); a known name
    whose content is another known format is an error, so a mix-up is caught, not guessed.
    """
    by_name = _kind_by_name(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path} does not exist.",
                         hint="Pass a requirements.txt, uv.lock, poetry.lock, pylock.toml, "
                         "Pipfile.lock, pyproject.toml or the folder holding one.") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a folder; expected a file.") from None
    except PermissionError:
        raise InputError(f"{path} is not readable (permission denied).",
                         hint=f"Check its permissions: chmod u+r {path}") from None
    by_content = _kind_by_content(raw)
    if by_name and by_content and by_name != by_content:
        raise InputError(
            f"{path} is named like {_EXPECTED[by_name]}, but it holds {_EXPECTED[by_content]}.",
            hint=f"Rename it to {by_content} (or pass the file you meant).")
    if by_name is None and path.suffix.lower() == ".txt":
        return None  # a requirements file, whatever it happens to parse as
    return by_name or by_content


def find_input(folder: Path) -> Path:
    """The dependency file of a project folder: its lock, else requirements.txt, else pyproject."""
    locks = [folder / n for n in _LOCK_FILES if (folder / n).is_file()]
    if len(locks) > 1:
        raise InputError(
            f"{folder} holds more than one lock file ({', '.join(p.name for p in locks)}).",
            hint=f"Pass the one you deploy, e.g. `lambda-slim build {locks[0]}`.")
    found = locks or [folder / n for n in _FALLBACKS if (folder / n).is_file()
                      and (n != "pyproject.toml" or _has_project(folder))]
    if not found:
        raise InputError(
            f"{folder} holds no dependency file (looked for {', '.join(_LOCK_FILES + _FALLBACKS)}).",
            hint="Pass the file itself, or run `uv lock`/`poetry lock` in the project first.")
    return found[0]


def read_input(path: Path, target: LockTarget, selection: Selection | None = None,
               ) -> LockedInput | ProjectInput:
    """Read a lock file or pyproject for ``target``; InputError (exit 2) on anything wrong."""
    kind = detect(path)
    selection = selection or Selection()
    if kind is None:
        raise InputError(f"{path} is not a lock file or pyproject.toml.",
                         hint="Requirements files are read by lambda_slim.requirements.")
    if kind == "uv.lock":
        return lock_uv.read_uv_lock(path, target, selection)
    if kind == "pylock.toml":
        return lock_pylock.read_pylock(path, target, selection)
    if kind == "poetry.lock":
        return lock_poetry.read_poetry_lock(path, target, selection)
    if kind == "Pipfile.lock":
        return lock_pipfile.read_pipfile_lock(path, target, selection)
    return read_pyproject(path, target, selection)


def default_input(folder: Path) -> Path:
    """What ``lambda-slim build`` reads when given no path: ``requirements.txt`` as always, else
    the folder's lock file or ``[project]`` pyproject (the folder itself, see :func:`find_input`)."""
    req = folder / "requirements.txt"
    has_lock = any((folder / n).is_file() for n in _LOCK_FILES)
    return folder if not req.exists() and (has_lock or _has_project(folder)) else req


def _has_project(folder: Path) -> bool:
    """A pyproject that declares dependencies, not only ``[tool.lambda-slim]`` settings."""
    try:
        data = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return False
    return "project" in data or "dependency-groups" in data


def lock_target(target: Target) -> LockTarget:
    machine: Machine = "aarch64" if target.machine == "aarch64" else "x86_64"
    return LockTarget(target.runtime.python, machine)


def read_dependencies(path: Path, target: Target, selection: Selection, cache_dir: Path,
                      *, allow_empty: bool = False) -> Requirements:
    """The build's dependency input, whatever its format, as :class:`Requirements` for pip.

    A requirements file is read as before. A lock becomes generated requirements files of its
    pins with ``--hash`` lines (under ``cache_dir/inputs``; one per index, so a private index
    serves only its own packages, and one for pins without a usable hash), installed with
    ``--no-deps``; a pyproject becomes its requirements, markers judged for the target, resolved
    as usual. Everything is validated before pip sees it (:mod:`.pip_lines`); nothing to install
    for the target is an error unless ``allow_empty``.
    """
    if path.is_dir():
        path = find_input(path)
    kind = detect(path) if path.exists() or _kind_by_name(path) else None
    if kind is None:
        if selection.groups or selection.extras or selection.no_default_groups:
            raise InputError(
                f"--group/--extra/--no-default-groups select from a lock file or pyproject.toml; "
                f"{path} is a requirements file.",
                hint="Pass the project's uv.lock, poetry.lock, pylock.toml, Pipfile.lock or "
                "pyproject.toml, or drop those options.")
        reqs = read_requirements(path)
        if not allow_empty:
            _refuse_if_no_line_applies(reqs, target)
        return reqs
    result = read_input(path, lock_target(target), selection)
    empty = not (result.pins if isinstance(result, LockedInput) else result.requirements)
    if empty and not allow_empty:
        raise InputError(
            f"{path} installs nothing for {target.describe()}: "
            + "; ".join(nothing_installed(path, result.skipped)) + ".",
            hint="Select what the function needs (--group NAME, --extra NAME, another --runtime "
            "or --arch), or pass --allow-empty to build an empty layer on purpose.")
    texts = ([g.text(result.kind) for g in result.groups()] if isinstance(result, LockedInput)
             else [result.requirements_text()]) or [result.requirements_text()]
    digest = hashlib.sha256("\0".join(texts).encode()).hexdigest()
    pip_files = []
    for text in texts:
        pip_file = cache_dir / "inputs" / f"{hashlib.sha256(text.encode()).hexdigest()[:32]}.txt"
        write_pip_file(pip_file, text)
        pip_files.append(pip_file)
    notes = list(result.notes)
    unverified: tuple[str, ...] = ()
    if isinstance(result, LockedInput):
        lines = tuple(f"{p.name} @ {p.url}" if p.url else f"{p.name}=={p.version}" for p in result.pins)
        unverified = result.unverified
        if unverified:
            notes.append(f"{path}: no usable sha256 hash for {len(unverified)} pin(s) "
                         f"({', '.join(unverified[:5])}{', ...' if len(unverified) > 5 else ''}); "
                         "they are installed without a hash check (md5 or no hash in the lock). "
                         "Re-lock with a current tool to record sha256 hashes.")
    else:
        lines = result.requirements
    return Requirements(path, result.requested, lines, digest, pip_file=pip_files[0],
                        no_deps=isinstance(result, LockedInput), kind=result.kind,
                        notes=tuple(notes), pip_files=tuple(pip_files), unverified=unverified,
                        files=(path, *(p for p in (path.parent / "pyproject.toml", path.parent / "Pipfile")
                                       if p != path and p.is_file())))


def _refuse_if_no_line_applies(reqs: Requirements, target: Target) -> None:
    """A requirements file whose every line has a marker that is false for the target would
    build an empty layer: refuse it, naming the markers (``--allow-empty`` builds it)."""
    skipped = []
    for line in reqs.lines:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            return  # a wheel file or URL: it is installed
        if req.marker is None or judge(req.marker, lock_target(target), str(reqs.path)):
            return
        skipped.append(f"{req.name}: marker `{req.marker}` does not hold for the target")
    raise InputError(
        f"{reqs.path} installs nothing for {target.describe()}: "
        + "; ".join(nothing_installed(reqs.path, skipped)) + ".",
        hint="Build for the target the markers name (--runtime, --arch), fix the markers, or "
        "pass --allow-empty to build an empty layer on purpose.")
