"""Byte-compilation for the target: unchecked-hash pycs whose recorded paths are
``/opt/python/...`` (the same on every machine, so the zip is reproducible).

``--compile=imported`` (the default) ships bytecode only where a cold start reads it: the
whole tree is compiled once (verification imports far more than a cold start, and from
bytecode it is several times faster), then, once verification has reported which modules
the cold imports loaded, the pycs of every other module are dropped again. What ships for
an imported module is therefore exactly the pyc ``compileall --invalidation-mode
unchecked-hash`` wrote for the target version; the rest stays source, compiled in memory
on first import as Lambda does with a read-only ``/opt``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from ..target.emulation import EmulatedIsolation
from ..target.proc import tail
from ..target.python import HOST, TargetPython
from .pyccache import PycCache, compiler_of, sources


@dataclass(frozen=True)
class Compiled:
    """The pycs one compile run added: layer-relative path -> bytes."""

    added: Mapping[str, int]
    errors: tuple[str, ...] = ()

    @property
    def bytes(self) -> int:
        return sum(self.added.values())


@dataclass(frozen=True)
class Selection:
    """What ``--compile=imported`` kept and left as source."""

    kept_modules: int
    kept_bytes: int
    dropped_modules: int
    dropped_bytes: int


def compile_files(tp: TargetPython, root: Path, *, workers: int,
                  only: list[str] | None = None, cache: Path | None = None,
                  refresh: bool = False) -> Compiled:
    """Byte-compile for the target with unchecked-hash pycs (``only``: these ``.py`` files).

    Compilation writes into the tree, so it runs on the host (bytecode depends only on the
    Python version, never on the machine), not in the read-only sandbox; an emulated
    interpreter keeps its emulator and only leaves the sandbox. ``compileall -j`` spreads
    the files over ``workers`` processes. With ``cache`` (a folder), pycs an earlier build
    compiled from the same source bytes by the same compiler are copied from it
    (:mod:`.pyccache`; not read with ``refresh``) and the new ones are stored there.
    """
    iso = tp.isolation
    host = replace(tp, isolation=iso.without_sandbox() if isinstance(iso, EmulatedIsolation)
                   else HOST)
    before = _pycs(root)
    compiler = compiler_of(host) if cache is not None else None
    pycs = PycCache(cache, compiler) if cache is not None and compiler is not None else None
    todo = only
    if pycs is not None:
        wanted = only if only is not None else sources(root)
        todo = list(wanted) if refresh else pycs.fetch(root, wanted, workers=workers * 2)
    errors: list[str] = []
    if todo is None or todo:
        errors = _compileall(host, root, workers, todo)
    if pycs is not None and todo:
        pycs.store(root, todo)
    added = {rel: size for rel, size in _pycs(root).items() if rel not in before}
    return Compiled(added, tuple(errors))


def _compileall(host: TargetPython, root: Path, workers: int,
                only: list[str] | None) -> list[str]:
    """Run ``compileall`` on the whole tree (``only`` None) or on the files ``only`` lists
    (handed over in a list file: no command line is too long); the errors it reported."""
    args = ["-I", "-m", "compileall", "-q", "-j", str(workers),
            "--invalidation-mode", "unchecked-hash", "-s", str(root), "-p", "/opt/python"]
    with tempfile.TemporaryDirectory(prefix="lambda-slim-compile-") as tmp:
        if only is None:
            args.append(str(root))
        else:
            listing = Path(tmp) / "files.txt"
            listing.write_text("".join(f"{root / rel}\n" for rel in only), encoding="utf-8")
            args += ["-i", str(listing)]
        proc = host.run(args)
    if proc.returncode == 0:
        return []
    errors = [ln for ln in (proc.stdout or "").splitlines() if ln.startswith("***")]
    return errors or [tail((proc.stdout or "") + (proc.stderr or ""), 5)]


def _pycs(root: Path) -> dict[str, int]:
    """The ``__pycache__`` pycs under ``root`` -> bytes. Other stages may be renaming other
    files meanwhile (the strip swaps libraries in), so a file that vanishes is skipped."""
    out: dict[str, int] = {}
    for dirpath, _dirs, files in os.walk(root):
        if os.path.basename(dirpath) != "__pycache__":
            continue
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        for name in files:
            rel = f"{rel_dir}/{name}"
            if source_of(rel) is None:
                continue
            with contextlib.suppress(FileNotFoundError):
                out[rel] = os.lstat(os.path.join(dirpath, name)).st_size
    return out


def compile_tree(tp: TargetPython, root: Path, *, workers: int,
                 only: list[str] | None = None) -> tuple[int, list[str]]:
    """:func:`compile_files` as (bytes added, errors)."""
    got = compile_files(tp, root, workers=workers, only=only)
    return got.bytes, list(got.errors)


def source_of(pyc: str) -> str | None:
    """``a/__pycache__/m.cpython-312.pyc`` (or ``.opt-1.pyc``) -> ``a/m.py``; None for
    anything else (a sourceless ``m.pyc`` beside its package is never ours)."""
    head, sep, name = pyc.rpartition("__pycache__/")
    if not sep or "/" in name or not name.endswith(".pyc") or (head and not head.endswith("/")):
        return None
    stem = name.split(".", 1)[0]
    return f"{head}{stem}.py" if stem else None


def keep_imported(root: Path, compiled: Compiled, imported: Collection[str]) -> Selection:
    """Drop the pycs of modules whose source is not in ``imported`` (layer-relative ``.py``
    paths a cold start loaded); empty ``__pycache__`` folders go too."""
    wanted = set(imported)
    kept = dropped = kept_b = dropped_b = 0
    for rel, size in sorted(compiled.added.items()):
        src = source_of(rel)
        if src in wanted:
            kept, kept_b = kept + 1, kept_b + size
            continue
        (root / rel).unlink(missing_ok=True)  # (gone with its folder: nothing to drop)
        dropped, dropped_b = dropped + 1, dropped_b + size
        with contextlib.suppress(OSError):  # not empty: other pycs stay
            os.rmdir((root / rel).parent)
    return Selection(kept, kept_b, dropped, dropped_b)
