"""Missing system libraries satisfied from the layer itself.

A wheel may link a library from the system that Lambda's image lacks (LightGBM's
``lib_lightgbm.so`` needs ``libgomp.so.1``) while another wheel in the same layer vendors an
ABI-compatible copy. auditwheel renames such a copy with a hash and sets its DT_SONAME to
that name (``scikit_learn.libs/libgomp-e985bcbb.so.1.0.0``), so the loader never finds it
for a plain ``libgomp.so.1`` request. A copy qualifies when its name (file name or
DT_SONAME, without auditwheel's ``-<8 hex>`` hash) is the missing soname or a longer version
of it, its machine matches, and it defines every symbol version the dependent requires of
that soname (``GOMP_4.0``, ``OMP_1.0``, … from the dependent's DT_VERNEED). The copy is placed
as a plain file at the layer's ``lib/<soname>``, which Lambda mounts at ``/opt/lib`` on the
loader's ``LD_LIBRARY_PATH`` (aws/aws-lambda-base-images Dockerfiles); no binary is patched.
"""

from __future__ import annotations

import posixpath
import re
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerDefSection, GNUVerNeedSection

from ..target.syslibs import SystemLibraries
from .closure import ClosureResult, Miss, audit_closure, deps_of
from .elf import NativeFile

_HASHED = re.compile(r"^(?P<stem>.+?)-[0-9a-f]{8}(?P<rest>\.so(\..*)?)$")


@dataclass(frozen=True)
class Borrowed:
    """A missing soname served by a copy of a library another wheel vendors."""

    soname: str
    source: str  # layer-relative path of the vendored copy (python/…)
    dest: str  # where the copy goes, relative to the layer zip's root (lib/<soname>)
    needed_by: tuple[str, ...]  # paths on Lambda of the files that need it
    versions: tuple[str, ...]  # symbol versions the dependents require of it
    bytes: int
    distribution: str | None = None  # who vendored it
    verified: str | None = None  # "sandbox"/"host": its dependents loaded with it there

    def to_json(self) -> dict[str, object]:
        return {"soname": self.soname, "from": "python/" + self.source, "to": self.dest,
                "needed_by": list(self.needed_by), "versions": list(self.versions),
                "bytes": self.bytes, "distribution": self.distribution,
                "verified": self.verified}


def plain_name(name: str) -> str:
    """``libgomp-e985bcbb.so.1.0.0`` -> ``libgomp.so.1.0.0`` (auditwheel's hash removed)."""
    m = _HASHED.match(name)
    return m.group("stem") + m.group("rest") if m else name


def _serves(name: str, soname: str) -> bool:
    plain = plain_name(name)
    return plain == soname or plain.startswith(soname + ".")


def version_needs(path: Path) -> dict[str, set[str]]:
    """DT_VERNEED of an ELF file: needed file name -> symbol versions required of it."""
    out: dict[str, set[str]] = {}
    with open(path, "rb") as fh:
        elf = ELFFile(fh)
        for section in elf.iter_sections():
            if isinstance(section, GNUVerNeedSection):
                for verneed, aux_iter in section.iter_versions():
                    out.setdefault(str(verneed.name), set()).update(
                        str(aux.name) for aux in aux_iter)
    return out


def version_defs(path: Path) -> tuple[str, str | None, set[str]]:
    """(machine, DT_SONAME, symbol versions defined) of an ELF file."""
    with open(path, "rb") as fh:
        elf = ELFFile(fh)
        soname = None
        defs: set[str] = set()
        for section in elf.iter_sections():
            if isinstance(section, GNUVerDefSection):
                for _verdef, aux_iter in section.iter_versions():
                    defs.update(str(aux.name) for aux in aux_iter)
            if section.header["sh_type"] == "SHT_DYNAMIC":
                for tag in section.iter_tags():  # type: ignore[attr-defined]
                    if tag.entry.d_tag == "DT_SONAME":
                        soname = str(tag.soname)
        return str(elf["e_machine"]), soname, defs


def find_copies(
    misses: Sequence[Miss], root: Path, elf_files: Iterable[str],
    owners: Mapping[str, str], mount: str = "/opt/python",
) -> tuple[list[Borrowed], list[Miss]]:
    """For each missing soname, a vendored copy in ``root`` that serves every dependent.

    ``elf_files`` are the layer-relative ELF files of the tree (``root``); ``misses`` come
    from the closure audit (their ``file`` is a path on Lambda under ``mount``). Returns the
    copies to place and the misses nothing in the layer can serve.
    """
    by_soname: dict[str, list[Miss]] = {}
    for m in misses:
        by_soname.setdefault(m.soname, []).append(m)
    files = sorted(elf_files)
    borrowed: list[Borrowed] = []
    unserved: list[Miss] = []
    for soname, ms in sorted(by_soname.items()):
        wanted: set[str] = set()
        machines: set[str] = set()
        dependents_ok = True
        for m in ms:
            rel = m.file[len(mount) + 1:] if m.file.startswith(mount + "/") else None
            if rel is None:
                dependents_ok = False
                break
            try:
                wanted |= version_needs(root / rel).get(soname, set())
                machines.add(version_defs(root / rel)[0])
            except (OSError, ELFError, ValueError):
                dependents_ok = False
                break
        found: Borrowed | None = None
        if dependents_ok:
            for rel in files:
                base = rel.rsplit("/", 1)[-1]
                try:
                    machine, own, defs = version_defs(root / rel)
                except (OSError, ELFError, ValueError):
                    continue
                if not (_serves(base, soname) or (own and _serves(own, soname))):
                    continue
                if machines != {machine} or not wanted <= defs:
                    continue
                found = Borrowed(soname, rel, f"lib/{soname}", tuple(sorted(m.file for m in ms)),
                                 tuple(sorted(wanted)), (root / rel).stat().st_size,
                                 owners.get(rel))
                break
        if found is None:
            unserved += ms
        else:
            borrowed.append(found)
    return borrowed, unserved


def place(borrowed: Iterable[Borrowed], root: Path, lib_dir: Path) -> dict[str, int]:
    """Copy each vendored library to ``lib_dir/<soname>`` (a regular file, no symlink);
    returns ``{zip path: bytes}`` of what was added."""
    out: dict[str, int] = {}
    for b in borrowed:
        lib_dir.mkdir(parents=True, exist_ok=True)
        dest = lib_dir / b.soname
        shutil.copyfile(root / b.source, dest)
        dest.chmod(0o755)
        out[b.dest] = dest.stat().st_size
    return out


def satisfy_from_layer(
    result: ClosureResult, natives: Sequence[NativeFile], root: Path, lib_dir: Path,
    syslibs: SystemLibraries, mount: str = "/opt/python",
) -> tuple[list[Borrowed], dict[str, int], ClosureResult]:
    """Serve the audit's misses from vendored copies, place them, and audit again.

    Returns ``(borrowed, {zip path: bytes}, new result)``; what nothing serves stays a miss
    of the new result (the caller judges it). Nothing is placed when the new audit would
    miss anything the old one did not.
    """
    elf = [nf for nf in natives if nf.kind == "elf" and nf.info is not None]
    owners = {nf.rel: nf.owner for nf in elf if nf.owner and not nf.owner.startswith("(")}
    borrowed, unserved = find_copies(result.misses, root, [nf.rel for nf in elf], owners, mount)
    if not borrowed:
        return [], {}, result
    elfs = {posixpath.join(mount, nf.rel): deps_of(nf.info) for nf in elf if nf.info}
    by_rel = {nf.rel: nf for nf in elf}
    for b in borrowed:
        info = by_rel[b.source].info
        assert info is not None
        elfs[f"/opt/{b.dest}"] = deps_of(info)
    again = audit_closure(elfs, syslibs, {posixpath.join(mount, k): v for k, v in owners.items()})
    if {(m.file, m.soname) for m in again.misses} - {(m.file, m.soname) for m in unserved}:
        return [], {}, result
    return borrowed, place(borrowed, root, lib_dir), again
