"""``pyproject.toml`` dependencies: ``[project]`` dependencies and optional dependencies, and
``[dependency-groups]`` (PEP 735, with ``include-group``).

Used on its own (a project without a lock: requirements to resolve, markers judged for the
target) and by the uv reader, which checks its lock against what the pyproject declares.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from ..errors import InputError
from .lock_model import LockTarget, ProjectInput, Selection, check_depth, file_digest, items, judge, table
from .pip_lines import project_requirement

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEV = "dev"


def load_toml(path: Path, expected: str) -> tuple[dict[str, object], bytes]:
    """Parse ``path`` as TOML; ``expected`` says what it should be, for the error."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path} does not exist (expected {expected}).") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a directory, not {expected}.") from None
    except PermissionError:
        raise InputError(f"{path} is not readable (permission denied).",
                         hint=f"Check its permissions: chmod u+r {path}") from None
    try:
        parsed = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not valid TOML ({exc}); expected {expected}.") from None
    except RecursionError:
        raise InputError(f"{path} is nested too deeply to be {expected}.",
                         hint="Pass the real file (regenerate it).") from None
    check_depth(parsed, str(path))
    return parsed, data


def requirement(text: object, where: str) -> Requirement:
    if not isinstance(text, str):
        raise InputError(f"{where}: {text!r} is not a requirement string.")
    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        raise InputError(f"{where}: malformed requirement {text!r}: {exc}",
                         hint="Use PEP 508 syntax, e.g. `requests>=2.32` or `idna; python_version < '3.13'`.",
                         ) from None


@dataclass(frozen=True)
class Project:
    """The dependency declarations of one pyproject.toml."""

    path: Path
    raw: bytes
    data: Mapping[str, object]
    name: str | None
    dependencies: tuple[Requirement, ...]
    optional: Mapping[str, tuple[Requirement, ...]]  # canonical extra name -> requirements
    groups: Mapping[str, tuple[Requirement, ...]]  # canonical group -> requirements (includes expanded)

    def default_groups(self) -> frozenset[str]:
        """uv's default groups (``[tool.uv] default-groups``, else ``dev``) without ``dev``,
        which is what ``uv export --no-dev`` installs."""
        tool = self.data.get("tool")
        uv = tool.get("uv") if isinstance(tool, Mapping) else None
        declared = uv.get("default-groups") if isinstance(uv, Mapping) else None
        if declared == "all":
            names = set(self.groups)
        elif isinstance(declared, list):
            names = {canonicalize_name(str(g)) for g in declared}
        else:
            names = {DEV}
        return frozenset(names - {DEV})


def _expand_groups(raw: Mapping[str, object], where: str) -> dict[str, tuple[Requirement, ...]]:
    by_name: dict[str, list[object]] = {}
    for name, entries in raw.items():
        key = canonicalize_name(name)
        if key in by_name:
            raise InputError(f"{where}: dependency group {name!r} is declared twice (names are "
                             "compared normalised, PEP 735).")
        by_name[key] = items(entries, where, f"[dependency-groups] {name}")
    done: dict[str, tuple[Requirement, ...]] = {}

    def expand(name: str, chain: tuple[str, ...]) -> tuple[Requirement, ...]:
        if name in done:
            return done[name]
        if name in chain:
            raise InputError(f"{where}: dependency group {name!r} includes itself "
                             f"({' -> '.join((*chain, name))}).")
        if name not in by_name:
            raise InputError(f"{where}: group {chain[-1]!r} includes unknown group {name!r}.",
                             hint=f"Declared groups: {', '.join(sorted(by_name)) or 'none'}.")
        out: list[Requirement] = []
        for entry in by_name[name]:
            if isinstance(entry, Mapping):
                inc = entry.get("include-group")
                if not isinstance(inc, str) or len(entry) != 1:
                    raise InputError(f"{where}: [dependency-groups] {name}: {dict(entry)!r} is neither "
                                     "a requirement nor {include-group = \"NAME\"}.")
                out.extend(expand(canonicalize_name(inc), (*chain, name)))
            else:
                out.append(requirement(entry, f"{where} [dependency-groups] {name}"))
        done[name] = tuple(out)
        return done[name]

    for name in by_name:
        expand(name, ())
    return done


def read_project(path: Path) -> Project:
    data, raw = load_toml(path, "a pyproject.toml")
    where = str(path)
    project = table(data.get("project", {}), where, "[project]")
    deps = tuple(requirement(r, f"{where} [project] dependencies")
                 for r in items(project.get("dependencies"), where, "[project] dependencies"))
    optional: dict[str, tuple[Requirement, ...]] = {}
    for extra, reqs in table(project.get("optional-dependencies", {}), where,
                             "[project.optional-dependencies]").items():
        optional[canonicalize_name(extra)] = tuple(
            requirement(r, f"{where} [project.optional-dependencies] {extra}")
            for r in items(reqs, where, f"[project.optional-dependencies] {extra}"))
    groups = _expand_groups(table(data.get("dependency-groups", {}), where, "[dependency-groups]"), where)
    name = project.get("name")
    return Project(path, raw, data, canonicalize_name(name) if isinstance(name, str) else None,
                   deps, optional, groups)


def check_selection(path: Path, selection: Selection, extras: frozenset[str],
                    groups: frozenset[str]) -> None:
    """Every ``--extra``/``--group`` asked for must exist in the file."""
    for what, asked, known in (("extra", selection.extra_names, extras),
                               ("group", selection.group_names, groups)):
        unknown = sorted(asked - known)
        if unknown:
            raise InputError(
                f"{path} has no {what} {', '.join(map(repr, unknown))}.",
                hint=f"Its {what}s: {', '.join(sorted(known)) or 'none'}. "
                f"Drop --{what} {unknown[0]} or declare it.")


def selected_groups(selection: Selection, defaults: frozenset[str]) -> frozenset[str]:
    return (frozenset() if selection.no_default_groups else defaults) | selection.group_names


def read_pyproject(path: Path, target: LockTarget, selection: Selection) -> ProjectInput:
    """The requirements a pyproject declares for ``selection``, markers judged for ``target``."""
    project = read_project(path)
    check_selection(path, selection, frozenset(project.optional), frozenset(project.groups))
    chosen: list[Requirement] = list(project.dependencies)
    for extra in sorted(selection.extra_names):
        chosen.extend(project.optional[extra])
    for group in sorted(selected_groups(selection, project.default_groups())):
        chosen.extend(project.groups.get(group, ()))
    lines: list[str] = []
    requested: set[str] = set()
    skipped = [f"group {g} is not selected (--group {g})"
               for g in sorted(set(project.groups) - selected_groups(selection, project.default_groups()))]
    expanded = set(selection.extra_names)
    for req in chosen:  # grows while it is walked: self-references add their extras
        name = canonicalize_name(req.name)
        if name == project.name:  # ``proj[extra]`` pulls the project's own extras, not a package
            for extra in map(canonicalize_name, req.extras):
                if extra not in expanded and judge(req.marker, target, str(path)):
                    expanded.add(extra)
                    chosen.extend(project.optional.get(extra, ()))
            continue
        if not judge(req.marker, target, f"{path} requirement {str(req)!r}"):
            skipped.append(f"{req.name}: marker `{req.marker}` does not hold for the target")
            continue
        project_requirement(req, f"{path} requirement {str(req)!r}")
        req.marker = None
        if str(req) not in lines:
            lines.append(str(req))
        requested.add(name)
    return ProjectInput(path, "pyproject.toml", tuple(lines), frozenset(requested),
                        file_digest((path, project.raw)), skipped=tuple(skipped))


def declared_names(pyproject: Mapping[str, object]) -> set[str]:
    """Every name a pyproject asks for (PEP 621, PEP 735 and Poetry tables): the direct dependencies,
    which the rules never remove."""
    def section(data: object, *names: str) -> Mapping[str, object]:
        for name in names:
            data = data.get(name) if isinstance(data, Mapping) else None
        return data if isinstance(data, Mapping) else {}

    names: set[str] = set()
    project = section(pyproject, "project")
    reqs = list(items(project.get("dependencies"), "", ""))
    for extra in section(project, "optional-dependencies").values():
        reqs += items(extra, "", "")
    for group in section(pyproject, "dependency-groups").values():
        reqs += [r for r in items(group, "", "") if isinstance(r, str)]
    for req in reqs:
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", str(req))
        if match:
            names.add(canonicalize_name(match.group(1)))
    poetry = section(pyproject, "tool", "poetry")
    names |= {canonicalize_name(n) for n in section(poetry, "dependencies")}
    names |= {canonicalize_name(n) for n in section(poetry, "dev-dependencies")}
    for group in section(poetry, "group").values():
        names |= {canonicalize_name(n) for n in section(group, "dependencies")}
    return names
