"""The layer tree plus its trash: plan entries are applied as moves, and undone.

Rules never delete: applying moves each file into a per-rule trash folder beside the layer
tree (a rename on the same filesystem), so verification can restore any rule, or any file,
in O(1) and find the culprit when a removal breaks an import. Every path is checked to stay
inside the staging dir; symlinks are moved as links, never followed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..errors import InputError


@dataclass(frozen=True)
class PlanEntry:
    rel: str
    rule: str
    bytes: int
    replacement: Path | None = None  # a file that takes the original's place
    new_bytes: int = 0

    @property
    def saved(self) -> int:
        return self.bytes - self.new_bytes


class Staging:
    """The layer tree plus its trash: applies plan entries and undoes them.

    Entries for one path may stack (``strip`` replaces a library, then ``trace`` removes
    it); :meth:`restore` always undoes in reverse order of application.
    """

    def __init__(self, root: Path, trash: Path) -> None:
        self.root = root.resolve()
        self.trash = trash.resolve()
        self._stack: dict[str, list[PlanEntry]] = {}
        self._order: dict[PlanEntry, int] = {}
        self._seq = 0
        #: folders (relative) already proven to resolve inside the root; a folder that is
        #: replaced by a symlink later is caught because only this class moves things.
        self._safe_dirs: dict[str, bool] = {}

    def is_applied(self, entry: PlanEntry) -> bool:
        return entry in self._order

    def applied_entries(self) -> list[PlanEntry]:
        """Every applied entry, in the order it was applied."""
        return sorted(self._order, key=self._order.__getitem__)

    def removed(self, rel: str) -> bool:
        """Whether ``rel`` is currently gone from the tree (not merely replaced)."""
        stack = self._stack.get(rel) or []
        return bool(stack) and stack[-1].replacement is None

    def _safe(self, rel: str) -> Path:
        p = PurePosixPath(rel)
        if p.is_absolute() or ".." in p.parts or not rel:
            raise InputError(f"Refusing to touch {rel!r}: not a path inside the layer tree.")
        full = self.root / rel
        parent_rel = rel.rpartition("/")[0]
        ok = self._safe_dirs.get(parent_rel)
        if ok is None:
            parent = Path(os.path.realpath(full.parent))
            ok = parent == self.root or parent.is_relative_to(self.root)
            if not ok:
                raise InputError(
                    f"Refusing to touch {rel!r}: its folder resolves to {parent}, outside "
                    f"{self.root} (a symlink leads out of the staging dir)."
                )
            self._safe_dirs[parent_rel] = ok
        return full

    def orig_path(self, entry: PlanEntry) -> Path:
        return self.trash / entry.rule / "orig" / entry.rel

    def apply(self, entries: Iterable[PlanEntry]) -> None:
        touched_dirs: set[Path] = set()
        for e in entries:
            if e in self._order or self.removed(e.rel):
                continue
            full = self._safe(e.rel)
            if not os.path.lexists(full):
                continue
            orig = self.orig_path(e)
            orig.parent.mkdir(parents=True, exist_ok=True)
            os.rename(full, orig)
            if e.replacement is not None:
                os.rename(e.replacement, full)
            else:
                touched_dirs.add(full.parent)
            self._stack.setdefault(e.rel, []).append(e)
            self._seq += 1
            self._order[e] = self._seq
        self._prune_empty(touched_dirs)

    def restore(self, entries: Iterable[PlanEntry]) -> None:
        todo = sorted((e for e in set(entries) if e in self._order),
                      key=self._order.__getitem__, reverse=True)
        for e in todo:
            stack = self._stack[e.rel]
            while stack and stack[-1] != e:  # something applied later sits on top: undo it
                self._undo(stack[-1])
            self._undo(e)

    def _undo(self, e: PlanEntry) -> None:
        full = self._safe(e.rel)
        if e.replacement is not None:
            os.rename(full, e.replacement)
        else:
            full.parent.mkdir(parents=True, exist_ok=True)
        os.rename(self.orig_path(e), full)
        self._stack[e.rel].pop()
        del self._order[e]

    def _prune_empty(self, dirs: set[Path]) -> None:
        for d in sorted(dirs, key=lambda p: len(p.parts), reverse=True):
            cur = d
            while cur != self.root and cur.is_relative_to(self.root):
                try:
                    cur.rmdir()
                except OSError:
                    break
                cur = cur.parent

    def rule_root(self, rule: str) -> Path:
        """Where a rule's removed files sit, laid out like the tree (for path stand-ins)."""
        return self.trash / rule / "orig"


def remove_tree(path: Path, workers: int = 8) -> None:
    """Delete a staging folder quickly: unlinks run in parallel (they wait on the disk,
    not the GIL), then folders go deepest first. Symlinks are removed, never followed."""
    if not path.exists():
        return
    files: list[str] = []
    dirs: list[str] = []
    for dirpath, dirnames, filenames in os.walk(path, followlinks=False):
        dirs.append(dirpath)
        for name in filenames:
            files.append(os.path.join(dirpath, name))
        for name in dirnames:
            full = os.path.join(dirpath, name)
            if os.path.islink(full):
                files.append(full)

    def unlink(p: str) -> None:
        with contextlib.suppress(OSError):
            os.unlink(p)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(unlink, files, chunksize=64))
    for d in sorted(dirs, key=len, reverse=True):
        with contextlib.suppress(OSError):
            os.rmdir(d)
