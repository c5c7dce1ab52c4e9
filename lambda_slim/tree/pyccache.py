"""A content-addressed cache of target bytecode, beside the wheel cache.

A pyc that ``compileall --invalidation-mode unchecked-hash -p /opt/python`` writes depends
only on the source's bytes, the path recorded in it (``/opt/python/<rel>``) and the compiler
(the target interpreter's exact version and bytecode magic number). Those are the key, so a
build of wheels an earlier build already compiled links (or copies) their pycs instead of
compiling again, and the result is the same bytes (the zip stays byte-identical). Each pyc
is stored under its SHA-256, checked on the way out: a damaged entry is compiled again, never
shipped. ``--refresh`` compiles everything (and stores it).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..artifact.atomic import atomic_write_bytes, place_verified
from ..target.python import TargetPython

_HEADER = b"LSPYC1\n"
_QUERY = ("import importlib.util, json, sys; print(json.dumps([importlib.util.MAGIC_NUMBER.hex(),"
          " sys.version, sys.implementation.cache_tag]))")


@dataclass(frozen=True)
class Compiler:
    """What makes the bytes of a pyc, besides its source and recorded path."""

    magic: str
    version: str
    cache_tag: str  # e.g. cpython-312: the pyc's name in __pycache__


def compiler_of(tp: TargetPython) -> Compiler | None:
    """Ask the interpreter that compiles; None when it cannot say (no cache is used then)."""
    proc = tp.run(["-I", "-S", "-c", _QUERY], timeout=120)
    try:
        magic, version, tag = json.loads((proc.stdout or "").strip().splitlines()[-1])
    except (ValueError, IndexError, TypeError):
        return None
    if proc.returncode != 0 or not tag:
        return None
    return Compiler(str(magic), str(version), str(tag))


def sources(root: Path) -> list[str]:
    """The ``.py`` files ``compileall`` compiles under ``root`` (symlinked folders are not
    entered), layer-relative and sorted."""
    out: list[str] = []
    for dirpath, _dirs, files in os.walk(root):
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        for name in files:
            if name.endswith(".py") and os.path.isfile(os.path.join(dirpath, name)):
                out.append(name if rel_dir == "." else f"{rel_dir}/{name}")
    return sorted(out)


class PycCache:
    """Pycs by (compiler, recorded path, source bytes), in ``folder``: ``keys/`` maps a key
    to the SHA-256 of its pyc, ``blobs/`` holds each pyc once under that hash."""

    def __init__(self, folder: Path, compiler: Compiler) -> None:
        self.folder = folder
        self.compiler = compiler

    def pyc_of(self, rel: str) -> str:
        head, _, name = rel.rpartition("/")
        pyc = f"__pycache__/{name[:-3]}.{self.compiler.cache_tag}.pyc"
        return f"{head}/{pyc}" if head else pyc

    def _key(self, root: Path, rel: str) -> Path | None:
        try:
            digest = hashlib.sha256((root / rel).read_bytes()).hexdigest()
        except OSError:
            return None
        c = self.compiler
        key = hashlib.sha256("\0".join(
            ["unchecked-hash", c.magic, c.version, f"/opt/python/{rel}", digest]).encode()
        ).hexdigest()
        return self.folder / "keys" / key[:2] / key[2:]

    def _blob(self, sha: str) -> Path:
        return self.folder / "blobs" / sha[:2] / sha[2:]

    def fetch(self, root: Path, rels: Iterable[str], workers: int = 4) -> list[str]:
        """Put the cached pyc of each of ``rels`` in place, hard-linked when the cache is on
        the tree's file system (writing a file costs far more than linking one), checked
        against its hash either way; returns the ones not cached, in order."""
        def one(rel: str) -> bool:
            key = self._key(root, rel)
            try:
                sha = key.read_text(encoding="ascii").strip() if key is not None else ""
            except OSError:
                return False
            if len(sha) != 64:
                return False
            dest = root / self.pyc_of(rel)
            dest.parent.mkdir(exist_ok=True)
            return place_verified(self._blob(sha), dest, sha)

        todo = list(rels)
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            found = list(pool.map(one, todo))
        return [rel for rel, hit in zip(todo, found, strict=True) if not hit]

    def store(self, root: Path, rels: Iterable[str]) -> None:
        """Keep the pycs just compiled for ``rels`` (a failure to store only costs time)."""
        for rel in rels:
            key = self._key(root, rel)
            try:
                data = (root / self.pyc_of(rel)).read_bytes()
            except OSError:
                continue  # not compiled (a syntax error): never cached
            if key is None:
                continue
            sha = hashlib.sha256(data).hexdigest()
            with contextlib.suppress(OSError):
                blob = self._blob(sha)
                if not blob.exists():
                    blob.parent.mkdir(parents=True, exist_ok=True)
                    atomic_write_bytes(blob, data)
                key.parent.mkdir(parents=True, exist_ok=True)
                atomic_write_bytes(key, sha.encode())

