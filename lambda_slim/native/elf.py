"""ELF inspection (machine, glibc symbol versions, symbols, alignment) and stripping.

Used by the build's native audit and strip stages and by ``lambda-slim check``. Files are
recognised by their magic bytes, not their names, so ``libfoo.so.1.2`` is found too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection

from ..target.runtimes import Target

ELF_MAGIC = b"\x7fELF"
_MACHO_MAGICS = {
    b"\xfe\xed\xfa\xce",
    b"\xce\xfa\xed\xfe",
    b"\xfe\xed\xfa\xcf",
    b"\xcf\xfa\xed\xfe",
}
_FAT_MAGIC = b"\xca\xfe\xba\xbe"  # also Java class files: only trusted for library names
_NATIVE_NAME = re.compile(r"\.(so(\.\d+)*|dylib|pyd|dll|exe)$", re.IGNORECASE)
_GLIBC = re.compile(r"^GLIBC_(\d+)\.(\d+)(?:\.\d+)?$")

ELF_MACHINES = {"EM_X86_64": "x86_64", "EM_AARCH64": "aarch64", "EM_386": "i686"}


def sniff(head: bytes, name: str) -> str | None:
    """'elf', 'macho', 'pe' or None, from a file's first bytes and its name."""
    if head.startswith(ELF_MAGIC):
        return "elf"
    if head[:4] in _MACHO_MAGICS:
        return "macho"
    if head[:4] == _FAT_MAGIC and _NATIVE_NAME.search(name):
        return "macho"
    if head.startswith(b"MZ") and _NATIVE_NAME.search(name):
        return "pe"
    return None


def sniff_file(path: Path) -> str | None:
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError:
        return None
    return sniff(head, path.name)


@dataclass(frozen=True)
class ElfInfo:
    machine: str
    elf_type: str
    max_glibc: tuple[int, int] | None
    has_symtab: bool
    has_debug: bool
    aligned: bool
    needed: tuple[str, ...]
    soname: str | None = None
    rpath: tuple[str, ...] = ()
    runpath: tuple[str, ...] = ()

    @property
    def strippable(self) -> bool:
        return self.has_symtab or self.has_debug


def inspect_elf_stream(stream: BinaryIO) -> ElfInfo:
    """Parse one ELF file. Raises ``ELFError``/``ValueError`` on a malformed file."""
    elf = ELFFile(stream)
    machine = ELF_MACHINES.get(elf["e_machine"], str(elf["e_machine"]))
    best: tuple[int, int] | None = None
    has_symtab = False
    has_debug = False
    needed: list[str] = []
    dyn: dict[str, list[str]] = {"DT_SONAME": [], "DT_RPATH": [], "DT_RUNPATH": []}
    for section in elf.iter_sections():
        if section.name == ".symtab":
            has_symtab = True
        elif section.name.startswith((".debug_", ".zdebug_")):
            has_debug = True
        if isinstance(section, GNUVerNeedSection):
            for _verneed, aux_iter in section.iter_versions():
                for aux in aux_iter:
                    m = _GLIBC.match(aux.name)
                    if m:
                        v = (int(m.group(1)), int(m.group(2)))
                        if best is None or v > best:
                            best = v
        if section.header["sh_type"] == "SHT_DYNAMIC":
            for tag in section.iter_tags():  # type: ignore[attr-defined]
                kind = tag.entry.d_tag
                if kind == "DT_NEEDED":
                    needed.append(tag.needed)
                elif kind in dyn:
                    value = getattr(tag, kind[3:].lower(), None)
                    if isinstance(value, str):
                        dyn[kind] += [v for v in value.split(":") if v] if kind != "DT_SONAME" \
                            else [value]
    aligned = True
    for seg in elf.iter_segments():
        if seg["p_type"] == "PT_LOAD":
            align = seg["p_align"]
            if align > 1 and (seg["p_offset"] % align) != (seg["p_vaddr"] % align):
                aligned = False
    return ElfInfo(
        machine=machine,
        elf_type=str(elf["e_type"]),
        max_glibc=best,
        has_symtab=has_symtab,
        has_debug=has_debug,
        aligned=aligned,
        needed=tuple(needed),
        soname=dyn["DT_SONAME"][0] if dyn["DT_SONAME"] else None,
        rpath=tuple(dyn["DT_RPATH"]),
        runpath=tuple(dyn["DT_RUNPATH"]),
    )


def inspect_elf(path: Path) -> ElfInfo:
    with open(path, "rb") as fh:
        return inspect_elf_stream(fh)


@dataclass(frozen=True)
class NativeProblem:
    path: str
    owner: str
    kind: str  # "arch" | "glibc" | "format" | "malformed"
    detail: str

    def describe(self) -> str:
        return f"{self.path} (from {self.owner}): {self.detail}"


def check_binary(kind: str, info: ElfInfo | None, target: Target, path: str, owner: str,
                 error: str | None = None) -> NativeProblem | None:
    """Judge one native file against the target; None when it can run there."""
    if kind == "macho":
        return NativeProblem(path, owner, "format", "is a macOS (Mach-O) binary; Lambda runs Linux")
    if kind == "pe":
        return NativeProblem(path, owner, "format", "is a Windows (PE) binary; Lambda runs Linux")
    if info is None:
        return NativeProblem(path, owner, "malformed", f"is not a readable ELF file ({error})")
    if info.machine != target.machine:
        return NativeProblem(
            path, owner, "arch",
            f"is built for {info.machine}, but {target.arch} Lambda needs {target.machine}",
        )
    if info.max_glibc is not None and info.max_glibc > target.glibc:
        need = ".".join(map(str, info.max_glibc))
        have = ".".join(map(str, target.glibc))
        return NativeProblem(
            path, owner, "glibc",
            f"needs GLIBC_{need}, but {target.runtime.name} ({target.runtime.os}) has glibc {have}",
        )
    return None


@dataclass(frozen=True)
class NativeFile:
    rel: str
    owner: str
    kind: str
    info: ElfInfo | None
    error: str | None = None


class ElfFacts(Protocol):
    """Facts found earlier for a file's bytes (see :mod:`.elfcache`)."""

    def get(self, path: Path) -> ElfInfo | None: ...

    def put(self, path: Path, info: ElfInfo) -> None: ...


def scan_native(root: Path, files: Iterable[tuple[str, str]], jobs: int = 4,
                facts: ElfFacts | None = None) -> list[NativeFile]:
    """Find and inspect every native file among ``(relpath, owner)`` pairs under ``root``;
    ``facts``: what earlier inspections of the same bytes found (and where new ones go)."""

    def one(item: tuple[str, str]) -> NativeFile | None:
        rel, owner = item
        p = root / rel
        if p.is_symlink() or not p.is_file():
            return None
        kind = sniff_file(p)
        if kind is None:
            return None
        if kind != "elf":
            return NativeFile(rel, owner, kind, None)
        known = facts.get(p) if facts is not None else None
        if known is not None:
            return NativeFile(rel, owner, kind, known)
        try:
            info = inspect_elf(p)
        except (ELFError, ValueError, OSError, AssertionError) as exc:
            return NativeFile(rel, owner, kind, None, str(exc))
        if facts is not None:
            facts.put(p, info)
        return NativeFile(rel, owner, kind, info)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return [r for r in pool.map(one, list(files)) if r is not None]


def audit(natives: Iterable[NativeFile], target: Target) -> list[NativeProblem]:
    problems = []
    for nf in natives:
        prob = check_binary(nf.kind, nf.info, target, nf.rel, nf.owner, nf.error)
        if prob is not None:
            problems.append(prob)
    return sorted(problems, key=lambda p: p.path)
