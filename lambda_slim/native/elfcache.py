"""The ELF facts of installed libraries, by content, beside the wheel cache.

The native audit parses every ELF file of the tree with pyelftools (machine, glibc symbol
versions, DT_NEEDED, SONAME, RPATH/RUNPATH, symbols, LOAD alignment): the slowest part of
planning a warm build, and the same answer for the same bytes. A file installed unchanged
from a verified unpacked wheel has a known SHA-256 (the install checked it against the
manifest and its stat key has not changed since), so its facts are looked up under that
hash; any other file (changed, or not known) is parsed as before. Entries are small JSON
files checked field by field: one that does not read back as facts is parsed again and
written over. ``--refresh`` parses everything again (and stores it).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..artifact.atomic import atomic_write_text
from .elf import ElfInfo

_VERSION = 1


def _strs(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def _from_json(data: Any) -> ElfInfo | None:
    if not isinstance(data, dict):
        return None
    glibc = data.get("max_glibc")
    needed, rpath, runpath = (_strs(data.get(k)) for k in ("needed", "rpath", "runpath"))
    flags = [data.get(k) for k in ("has_symtab", "has_debug", "aligned")]
    if (not isinstance(data.get("machine"), str) or not isinstance(data.get("elf_type"), str)
            or not all(isinstance(f, bool) for f in flags)
            or needed is None or rpath is None or runpath is None
            or not (data.get("soname") is None or isinstance(data.get("soname"), str))
            or not (glibc is None or (isinstance(glibc, list) and len(glibc) == 2
                                      and all(type(v) is int for v in glibc)))):
        return None
    return ElfInfo(machine=data["machine"], elf_type=data["elf_type"],
                   max_glibc=(glibc[0], glibc[1]) if glibc is not None else None,
                   has_symtab=data["has_symtab"], has_debug=data["has_debug"],
                   aligned=data["aligned"], needed=needed, soname=data["soname"],
                   rpath=rpath, runpath=runpath)


def _to_json(info: ElfInfo) -> str:
    return json.dumps({
        "machine": info.machine, "elf_type": info.elf_type,
        "max_glibc": list(info.max_glibc) if info.max_glibc is not None else None,
        "has_symtab": info.has_symtab, "has_debug": info.has_debug, "aligned": info.aligned,
        "needed": list(info.needed), "soname": info.soname, "rpath": list(info.rpath),
        "runpath": list(info.runpath)})


class ElfFactsCache:
    """ELF facts by the file's SHA-256, for the files whose hash ``known`` vouches for
    (the :class:`~lambda_slim.native.elf.ElfFacts` the native scan takes)."""

    def __init__(self, folder: Path, known: Callable[[Path], str | None], *,
                 read: bool = True) -> None:
        self.folder = folder / f"v{_VERSION}"
        self.known = known
        self.read = read
        self.hits = 0

    def _entry(self, sha: str) -> Path:
        return self.folder / sha[:2] / sha[2:]

    def get(self, path: Path) -> ElfInfo | None:
        sha = self.known(path) if self.read else None
        if not sha:
            return None
        try:
            got = _from_json(json.loads(self._entry(sha).read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return None
        if got is not None:
            self.hits += 1  # (a race between threads only miscounts a statistic)
        return got

    def put(self, path: Path, info: ElfInfo) -> None:
        sha = self.known(path)
        if not sha:
            return
        with contextlib.suppress(OSError):
            entry = self._entry(sha)
            entry.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(entry, _to_json(info))
