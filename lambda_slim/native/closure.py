"""Static closure audit: does every DT_NEEDED of every ELF in a layer resolve on Lambda?

Files are keyed by the absolute path Lambda gives them: a layer's ``python/…`` is under
``/opt/python`` (on ``sys.path``), its ``lib/`` is ``/opt/lib`` and function code is under
``/var/task``; ``/var/task``, ``/var/task/lib`` and ``/opt/lib`` are on Lambda's
``LD_LIBRARY_PATH`` (aws/aws-lambda-base-images Dockerfiles). For each
ELF that Python can load directly (extension modules, and any ELF nothing else in the layer
links), the audit follows the loader breadth-first, like glibc's ``_dl_map_object_deps``:
a needed name is satisfied by an object already loaded in that chain (by file name or
DT_SONAME), else searched in DT_RPATH (when the requester has no DT_RUNPATH: its own, then that
of each object up the chain that loaded it, skipping objects that have a DT_RUNPATH),
``LD_LIBRARY_PATH``, then the requester's DT_RUNPATH, with ``$ORIGIN`` expanded. A name
found nowhere in the layer must be one the runtime provides (``target.syslibs``) or one the
user declared with ``--system-lib``; anything else is a :class:`Miss`.
"""

from __future__ import annotations

import csv
import io
import os
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from elftools.common.exceptions import ELFError
from packaging.utils import canonicalize_name

from ..errors import NativeError
from ..resolve.variants import VARIANTS
from ..target.syslibs import SystemLibraries
from .elf import ElfInfo, NativeFile, inspect_elf_stream

ELF_MAGIC = b"\x7fELF"
#: The folders of LD_LIBRARY_PATH that code can ship files into, in Lambda's order.
LD_LIBRARY_PATH = ("/var/task", "/var/task/lib", "/opt/lib")
_EXTENSION = re.compile(r"\.(cpython-[^/]*|abi3|cp\d+[^/]*)?\.so$")


@dataclass(frozen=True)
class ElfDeps:
    """The dynamic-linking facts of one ELF file."""

    machine: str
    soname: str | None
    needed: tuple[str, ...]
    rpath: tuple[str, ...]
    runpath: tuple[str, ...]


def deps_of(info: ElfInfo) -> ElfDeps:
    """The dynamic-linking facts of an already inspected ELF file."""
    return ElfDeps(info.machine, info.soname, info.needed, info.rpath, info.runpath)


def read_deps(stream: BinaryIO) -> ElfDeps:
    """Read DT_NEEDED/DT_SONAME/DT_RPATH/DT_RUNPATH. Raises ELFError/ValueError if malformed."""
    return deps_of(inspect_elf_stream(stream))


def scan_tree(root: Path, mount: str = "/opt/python") -> dict[str, ElfDeps]:
    """Every readable ELF under ``root``, keyed by its path on Lambda (``mount/…``).

    ``root`` is what Lambda shows at ``mount``: ``/opt/python`` for a layer's python/ folder,
    ``/opt`` for a folder holding ``python/`` and ``lib/``, ``/var/task`` for function code.
    Malformed ELF files are skipped here: the native audit reports them.
    """
    out: dict[str, ElfDeps] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.is_symlink() or not path.is_file():
                continue
            try:
                with open(path, "rb") as fh:
                    if fh.read(4) != ELF_MAGIC:
                        continue
                    fh.seek(0)
                    deps = read_deps(fh)
            except (ELFError, ValueError, OSError, AssertionError):
                continue
            out[posixpath.join(mount, path.relative_to(root).as_posix())] = deps
    return out


@dataclass(frozen=True)
class Miss:
    """One needed library the loader would not find on Lambda."""

    file: str  # path on Lambda of the ELF that needs it
    soname: str
    distribution: str | None
    advice: tuple[str, ...]
    reported_missing: str | None = None  # public report that Lambda lacks it

    def describe(self) -> str:
        who = f" (from {self.distribution})" if self.distribution else ""
        seen = f"; reported missing on Lambda: {self.reported_missing}" if self.reported_missing \
            else ""
        return f"{self.file}{who} needs {self.soname}, which Lambda does not provide{seen}"

    def message(self) -> str:
        """What is missing, for whom, and what to do (build and check print the same)."""
        return f"{self.describe()}.\n    Fix: {fixes(self.advice)}."


def fixes(advice: Iterable[str]) -> str:
    """Advice as one sentence (the last one is an alternative: "or provide …"), said once."""
    text = "; ".join(dict.fromkeys(advice))
    return text[len("or "):] if text.startswith("or ") else text


@dataclass(frozen=True)
class ClosureResult:
    checked: int
    misses: tuple[Miss, ...]
    #: ELF files (paths on Lambda) that can never load there: loaded on their own, the
    #: loader misses a library, and no loadable file's chain brings them in.
    unloadable: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.misses


#: Advice per missing soname, beyond the drop-in variants of resolve/variants.py.
SONAME_ADVICE: Mapping[str, str] = {
    "libGL.so.1": "a -headless variant of the package does not need the GUI/GL stack",
    "libgthread-2.0.so.0": "a -headless variant of the package does not need glib",
    "libglib-2.0.so.0": "a -headless variant of the package does not need glib",
    "libX11.so.6": "a -headless variant of the package does not need X11",
    "libssl.so.3": "python3.12+ runtimes (Amazon Linux 2023) provide OpenSSL 3",
    "libcrypto.so.3": "python3.12+ runtimes (Amazon Linux 2023) provide OpenSSL 3",
    "libmagic.so.1": "puremagic (pure Python) detects file types without libmagic",
}


def advice_for(soname: str, distribution: str | None) -> tuple[str, ...]:
    out: list[str] = []
    if distribution:
        name = canonicalize_name(distribution)
        out += [f"use {v.replacement} instead of {v.original} ({v.reason})"
                for v in VARIANTS if v.original == name]
    if soname in SONAME_ADVICE and SONAME_ADVICE[soname] not in out:
        out.append(SONAME_ADVICE[soname])
    out.append(f"or provide {soname} (built for the runtime's Amazon Linux) in a layer's lib/ "
               f"(/opt/lib is on LD_LIBRARY_PATH) and pass --system-lib {soname}")
    return tuple(out)


def _expand(entry: str, origin: str) -> str | None:
    """An RPATH/RUNPATH entry as an absolute path, or None for one relative to the cwd."""
    e = entry.replace("${ORIGIN}", "$ORIGIN")
    if e.startswith("$ORIGIN"):
        return posixpath.normpath(posixpath.join(origin, e[len("$ORIGIN"):].lstrip("/")))
    return posixpath.normpath(e) if e.startswith("/") else None


class _Index:
    def __init__(self, elfs: Mapping[str, ElfDeps]) -> None:
        self.elfs = elfs

    def lookup(self, folder: str, name: str, machine: str) -> str | None:
        cand = posixpath.normpath(posixpath.join(folder, name))
        deps = self.elfs.get(cand)
        return cand if deps is not None and deps.machine == machine else None


def _chain(root: str, elfs: Mapping[str, ElfDeps], index: _Index, syslibs: SystemLibraries,
           seen_miss: dict[tuple[str, str], None]) -> set[str]:
    """Load ``root`` like the loader; record misses (file, soname) in ``seen_miss``; return
    the in-layer files it loaded."""
    machine = elfs[root].machine
    loaded: dict[str, str] = {}  # name (file name or soname) -> file
    order = [root]
    done = {root}
    parents: dict[str, str | None] = {root: None}

    def remember(rel: str) -> None:
        loaded[posixpath.basename(rel)] = rel
        so = elfs[rel].soname
        if so:
            loaded[so] = rel

    remember(root)
    i = 0
    while i < len(order):
        rel = order[i]
        i += 1
        deps = elfs[rel]
        for name in deps.needed:
            if name in loaded:
                continue
            found = _search(rel, name, elfs, index, parents, machine)
            if found is None:
                if not syslibs.provides(name):
                    seen_miss.setdefault((rel, name), None)
                continue
            remember(found)
            if found not in done:
                done.add(found)
                parents[found] = rel
                order.append(found)
    return done


def _search(rel: str, name: str, elfs: Mapping[str, ElfDeps], index: _Index,
            parents: Mapping[str, str | None], machine: str) -> str | None:
    if "/" in name:
        target = _expand(name, posixpath.dirname(rel))
        if target is None or target not in elfs:
            return None
        return target if elfs[target].machine == machine else None
    deps = elfs[rel]
    folders: list[str | None] = []
    if not deps.runpath:
        # DT_RPATH of the requester, then of each object that loaded it, on up the chain; an
        # object with DT_RUNPATH has its DT_RPATH ignored but does not stop the walk (glibc
        # elf/dl-load.c _dl_map_object, elf/get-dynamic-info.h).
        cur: str | None = rel
        while cur is not None:
            cd = elfs[cur]
            if not cd.runpath:
                folders += [_expand(e, posixpath.dirname(cur)) for e in cd.rpath]
            cur = parents.get(cur)
    folders += LD_LIBRARY_PATH
    folders += [_expand(e, posixpath.dirname(rel)) for e in deps.runpath]
    for folder in folders:
        if folder is None:
            continue
        hit = index.lookup(folder, name, machine)
        if hit is not None:
            return hit
    return None


def audit_closure(
    elfs: Mapping[str, ElfDeps],
    syslibs: SystemLibraries,
    owners: Mapping[str, str] | None = None,
) -> ClosureResult:
    """Check every ELF (keys: paths on Lambda) against the loader and ``syslibs``.

    ``owners`` maps the same keys to the distribution that installed each file; misses name
    it and the advice known for it.
    """
    index = _Index(elfs)
    referenced: set[str] = set()
    for deps in elfs.values():
        referenced.update(deps.needed)
    roots = [rel for rel in sorted(elfs)
             if _EXTENSION.search(rel) or (posixpath.basename(rel) not in referenced
                                           and (elfs[rel].soname or "") not in referenced)]
    misses: dict[tuple[str, str], None] = {}
    covered: set[str] = set()
    for root in roots:
        covered |= _chain(root, elfs, index, syslibs, misses)
    for rel in sorted(set(elfs) - covered):  # only reachable through a cycle: check alone
        _chain(rel, elfs, index, syslibs, misses)
    owners = owners or {}
    out = []
    for rel, name in sorted(misses):
        dist = owners.get(rel)
        out.append(Miss(rel, name, dist, advice_for(name, dist), syslibs.absent_report(name)))
    return ClosureResult(len(elfs), tuple(out), _unloadable(elfs, index, syslibs)
                         if misses else ())


def _unloadable(elfs: Mapping[str, ElfDeps], index: _Index,
                syslibs: SystemLibraries) -> tuple[str, ...]:
    """Files whose own load misses a library, less any file a loadable file's chain brings
    in (RPATH inheritance can find for a dependency what it misses on its own)."""
    bad: set[str] = set()
    reached: set[str] = set()
    for rel in sorted(elfs):
        own: dict[tuple[str, str], None] = {}
        chain = _chain(rel, elfs, index, syslibs, own)
        if own:
            bad.add(rel)
        else:
            reached |= chain
    return tuple(sorted(bad - reached))


def describe_misses(misses: Iterable[Miss]) -> str:
    """One paragraph per miss: what is missing, for whom, and what to do."""
    return "\n".join(f"  - {m.message()}" for m in misses)


def record_owners(record_name: str, text: str) -> dict[str, str]:
    """path (as in the archive) -> distribution, from one ``*.dist-info/RECORD``."""
    folder, _, _ = record_name.rpartition("/")
    base = folder.rsplit("/", 1)[0] + "/" if "/" in folder else ""
    dist = canonicalize_name(folder.rsplit("/", 1)[-1].split("-", 1)[0])
    out: dict[str, str] = {}
    for row in csv.reader(io.StringIO(text)):
        if row and row[0] and not row[0].startswith("/") and ".." not in row[0].split("/"):
            out[posixpath.normpath(base + row[0])] = dist
    return out


@dataclass
class ArchiveElfs:
    """The ELF files of one archive or folder and their owners, by path inside it."""

    elfs: dict[str, ElfDeps] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)

    def add_elf(self, name: str, info: ElfInfo | None) -> None:
        if info is not None:
            self.elfs[name] = deps_of(info)

    def add_record(self, name: str, data: bytes) -> None:
        self.owners.update(record_owners(name, data.decode("utf-8", "replace")))


@dataclass
class LoaderView:
    """A function and its layers as the loader sees them: every ELF by its path on Lambda."""

    elfs: dict[str, ElfDeps] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)  # path on Lambda -> where it came from

    def add(self, mount: str, found: ArchiveElfs, origin: str) -> None:
        """Add ``found`` as extracted at ``mount`` ("/opt" for a layer, "/var/task")."""
        for name, deps in found.elfs.items():
            key = posixpath.join(mount, name)
            self.elfs[key] = deps
            self.origin[key] = origin
            if name in found.owners:
                self.owners[key] = found.owners[name]

    def audit(self, syslibs: SystemLibraries) -> ClosureResult:
        return audit_closure(self.elfs, syslibs, self.owners)


def audit_natives(natives: Iterable[NativeFile], syslibs: SystemLibraries,
                  mount: str = "/opt/python") -> ClosureResult:
    """The closure audit of a build's scanned native files (their tree is at ``mount``)."""
    elfs: dict[str, ElfDeps] = {}
    owners: dict[str, str] = {}
    for nf in natives:
        if nf.kind == "elf" and nf.info is not None:
            key = posixpath.join(mount, nf.rel)
            elfs[key] = deps_of(nf.info)
            if nf.owner and not nf.owner.startswith("("):  # "(unowned)"
                owners[key] = nf.owner
    return audit_closure(elfs, syslibs, owners)


def closure_error(result: ClosureResult, syslibs: SystemLibraries) -> NativeError:
    """The exit-4 error for a failed closure audit (the same text in build and check)."""
    files = len({m.file for m in result.misses})
    return NativeError(
        f"{files} native file(s) need a shared library that Lambda's {syslibs.runtime} "
        f"({syslibs.family}, {syslibs.arch}) does not provide; the import would fail there "
        f"with 'cannot open shared object file':\n{describe_misses(result.misses)}",
        hint="If another layer or a custom runtime provides the library, declare it with "
             "--system-lib SONAME (config key system-libs).",
    )
