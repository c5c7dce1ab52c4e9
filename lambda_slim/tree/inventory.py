"""Which distribution owns which file, read from RECORD before anything is pruned."""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path, PurePosixPath

from packaging.utils import canonicalize_name

UNOWNED = "(unowned)"
_LICENSE = re.compile(r"^(licen[cs]e|copying|notice|authors|copyright|patents)", re.IGNORECASE)
_NOT_MODULES = {"bin", "__pycache__", "include", "share", "etc"}


@dataclass(frozen=True)
class Dist:
    name: str  # canonical
    display_name: str
    version: str
    dist_info: str
    files: tuple[str, ...]
    top_level: tuple[str, ...]
    #: Its METADATA's Requires-Dist lines, markers and all (the dependency graph's edges).
    requires: tuple[str, ...] = ()


@dataclass
class Inventory:
    root: Path
    dists: dict[str, Dist]
    owner: dict[str, str]
    sizes: dict[str, int]

    def bytes_by_dist(self) -> dict[str, int]:
        out: dict[str, int] = {name: 0 for name in self.dists}
        for rel, size in self.sizes.items():
            o = self.owner.get(rel, UNOWNED)
            out[o] = out.get(o, 0) + size
        return out

    @property
    def total(self) -> int:
        return sum(self.sizes.values())


def pyc_source(rel: str) -> str | None:
    """``pkg/__pycache__/mod.cpython-312.pyc`` -> ``pkg/mod.py``; None for other paths."""
    parts = rel.split("/")
    if len(parts) >= 2 and parts[-2] == "__pycache__":
        return "/".join([*parts[:-2], parts[-1].split(".", 1)[0] + ".py"])
    return None


def owner_of(rel: str, owner: dict[str, str]) -> str:
    """The distribution that owns ``rel`` (a pyc belongs to its source's owner)."""
    o = owner.get(rel)
    if o:
        return o
    src = pyc_source(rel)
    return owner.get(src, UNOWNED) if src else UNOWNED


def is_license(name: str) -> bool:
    """License and notice files, which must travel with redistributed code."""
    return bool(_LICENSE.match(name))


def walk(root: Path) -> dict[str, int]:
    """Every regular file (and symlink, by its own size) under ``root`` -> size; no following."""
    sizes: dict[str, int] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        rel_dir = os.path.relpath(dirpath, root)
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            full = os.path.join(dirpath, name)
            rel = name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/")
            sizes[rel] = os.lstat(full).st_size
    return sizes


def _metadata(dist_info: Path) -> tuple[str, str, tuple[str, ...]]:
    """Name, version and Requires-Dist lines (from the folder name when METADATA is gone)."""
    try:
        with open(dist_info / "METADATA", encoding="utf-8", errors="replace") as fh:
            msg = HeaderParser().parse(fh)
        requires = tuple(str(r) for r in msg.get_all("Requires-Dist") or ())
        return str(msg.get("Name", "")), str(msg.get("Version", "")), requires
    except OSError:
        stem = dist_info.name[: -len(".dist-info")]
        name, _, version = stem.partition("-")
        return name, version, ()


def _top_level(files: list[str]) -> tuple[str, ...]:
    mods: set[str] = set()
    for rel in files:
        parts = PurePosixPath(rel).parts
        first = parts[0]
        if first.endswith((".dist-info", ".data", ".libs", ".egg-info")) or first in _NOT_MODULES:
            continue
        if len(parts) == 1:
            if first.endswith(".py"):
                name = first[:-3]
            elif ".so" in first or first.endswith(".pyd"):
                name = first.split(".", 1)[0]
            else:
                continue
        else:
            if not (parts[-1].endswith((".py", ".so")) or ".so." in parts[-1]):
                continue
            name = first
        if name.isidentifier() and not name.startswith("__") and name != "_distutils_hack":
            mods.add(name)
    return tuple(sorted(mods))


def read_inventory(root: Path) -> Inventory:
    """Build the ownership map for an installed tree (pip --target layout)."""
    sizes = walk(root)
    dists: dict[str, Dist] = {}
    owner: dict[str, str] = {}
    root_real = root.resolve()
    for entry in sorted(os.listdir(root)):
        if not entry.endswith(".dist-info"):
            continue
        di = root / entry
        display, version, requires = _metadata(di)
        name = canonicalize_name(display or entry.split("-")[0])
        files: list[str] = []
        try:
            with open(di / "RECORD", encoding="utf-8", newline="") as fh:
                rows = list(csv.reader(fh))
        except OSError:
            rows = []
        for row in rows:
            if not row or not row[0]:
                continue
            rel = os.path.normpath(os.path.join(root_real, row[0]))
            if not rel.startswith(str(root_real) + os.sep):
                continue
            rel = os.path.relpath(rel, root_real).replace(os.sep, "/")
            if rel in sizes:
                files.append(rel)
                owner[rel] = name
        for rel in sizes:
            if rel.startswith(entry + "/"):
                owner.setdefault(rel, name)
                if rel not in files:
                    files.append(rel)
        dists[name] = Dist(name, display or name, version, entry, tuple(sorted(files)),
                           _top_level(files), requires)
    return Inventory(root, dists, owner, sizes)
