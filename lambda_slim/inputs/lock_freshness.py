"""Is a lock still what its pyproject declares?  Requirements are compared by name, specifiers,
extras and what their marker *means*: each marker is judged on a grid of environments (the
Python versions the lock allows, three platforms, two machines, every extra), because lockers
rewrite markers (``python_version`` to ``python_full_version``, quotes, order) without
changing them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

_PLATFORMS = (("linux", "Linux"), ("darwin", "Darwin"), ("win32", "Windows"))
_MACHINES = ("x86_64", "aarch64")


def grid(requires_python: str | None, extras: Iterable[str]) -> list[dict[str, str]]:
    allowed = SpecifierSet(requires_python or "")
    envs = []
    for minor in range(8, 16):
        version = f"3.{minor}"
        if not allowed.contains(f"{version}.0", prereleases=True) and not allowed.contains(
                f"{version}.99", prereleases=True):
            continue
        for platform, system in _PLATFORMS:
            for machine in _MACHINES:
                for extra in ("", *sorted(extras)):
                    envs.append({
                        "implementation_name": "cpython", "implementation_version": f"{version}.0",
                        "os_name": "nt" if platform == "win32" else "posix",
                        "platform_machine": machine, "platform_python_implementation": "CPython",
                        "platform_release": "", "platform_system": system, "platform_version": "",
                        "python_full_version": f"{version}.0", "python_version": version,
                        "sys_platform": platform, "extra": extra,
                    })
    return envs


def key(name: str, specifier: str, extras: Iterable[str], marker: Marker | None,
        only_extra: str | None, envs: Sequence[dict[str, str]]) -> str:
    """A comparable description of one requirement (``only_extra``: it belongs to that extra)."""
    specs = ",".join(sorted(str(s) for s in SpecifierSet(specifier)))
    meaning = "".join(
        "1" if (only_extra is None or env["extra"] == only_extra)
        and (marker is None or marker.evaluate(env)) else "0"
        for env in envs)
    return f"{canonicalize_name(name)}[{','.join(sorted(map(canonicalize_name, extras)))}]{specs} @{meaning}"


def requirement_key(req: Requirement, only_extra: str | None, envs: Sequence[dict[str, str]]) -> str:
    return key(req.name, str(req.specifier), req.extras, req.marker, only_extra, envs)


def describe_difference(locked: Sequence[str], declared: Sequence[str]) -> str:
    """Which names differ between two key lists, for the error message."""
    def names(keys: Iterable[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for k in keys:
            out.setdefault(k.split("[", 1)[0], []).append(k)
        return out
    lock_names, decl_names = names(locked), names(declared)
    parts = []
    added = sorted(set(decl_names) - set(lock_names))
    removed = sorted(set(lock_names) - set(decl_names))
    changed = sorted(n for n in set(lock_names) & set(decl_names)
                     if sorted(lock_names[n]) != sorted(decl_names[n]))
    if added:
        parts.append(f"not in the lock: {', '.join(added)}")
    if removed:
        parts.append(f"no longer declared: {', '.join(removed)}")
    if changed:
        parts.append(f"changed: {', '.join(changed)}")
    return "; ".join(parts) or "the declarations differ"
