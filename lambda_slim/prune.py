"""Named pruning rules -> a plan of (path, rule, bytes) -> apply, and undo.

Rules never delete: applying moves each file into a per-rule trash folder beside the layer
tree (a rename on the same filesystem), so verification can restore any rule, or any file,
in O(1) and find the culprit when a removal breaks an import. Every path is checked to stay
inside the staging dir; symlinks are moved as links, never followed.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.parser import HeaderParser
from pathlib import Path, PurePosixPath

from .errors import InputError
from .inventory import Inventory
from .targets import RUNTIME_PROVIDED

RULES: dict[str, str] = {
    "bytecode": "__pycache__ folders, *.pyc, *.pyo (recompiled for the target by --compile)",
    "dist-info": "RECORD, WHEEL, INSTALLER, … and METADATA's long description; keeps a minimal "
    "METADATA, entry_points.txt and licenses so importlib.metadata keeps working",
    "tests": "folders named tests/test inside packages (never testing/_testing modules)",
    "sources": "C/C++/Cython sources, headers, *.pyi stubs and include/ folders",
    "runtime-provided": "boto3, botocore, s3transfer, jmespath when only pulled in as "
    "dependencies (the Lambda runtime ships them)",
    "scripts": "bin/ console scripts (their shebangs point at the build machine)",
    "strip": "strip --strip-unneeded on ELF shared objects (never vendored *.libs/ files); "
    "a stripped file that no longer loads is put back",
}
#: Application order: whole distributions first, so no other rule claims their files.
RULE_ORDER = ("runtime-provided", "scripts", "bytecode", "dist-info", "tests", "sources", "strip")

_DIST_INFO_DROP = {
    "RECORD", "INSTALLER", "REQUESTED", "WHEEL", "direct_url.json", "zip-safe",
    "RECORD.jws", "RECORD.p7s", "dependency_links.txt", "namespace_packages.txt",
}
_LICENSE = re.compile(r"^(licen[cs]e|copying|notice|authors|copyright|patents)", re.IGNORECASE)


def is_license(name: str) -> bool:
    """License and notice files, which must travel with redistributed code."""
    return bool(_LICENSE.match(name))
_METADATA_KEEP = {
    "metadata-version", "name", "version", "requires-python", "requires-dist",
    "provides-extra", "license", "license-expression", "license-file", "dynamic",
}
_SOURCE_SUFFIXES = (".c", ".cc", ".cpp", ".cxx", ".h", ".hh", ".hpp", ".hxx", ".pyx", ".pxd",
                    ".pxi", ".pyi")


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

    def to_json(self) -> dict[str, object]:
        d: dict[str, object] = {"path": self.rel, "rule": self.rule, "bytes": self.saved}
        if self.replacement is not None:
            d["action"] = "replace"
        return d


@dataclass
class PruneContext:
    inventory: Inventory
    requested: frozenset[str]
    work_dir: Path  # scratch space for replacement files (minimal METADATA, stripped .so)
    #: Set by the ``tests`` rule: test modules kept because runtime code imports them.
    tests_kept: list[str] = field(default_factory=list)


RuleFn = Callable[[PruneContext], Iterable[PlanEntry]]


def rule_bytecode(ctx: PruneContext) -> Iterable[PlanEntry]:
    for rel, size in ctx.inventory.sizes.items():
        parts = rel.split("/")
        if "__pycache__" in parts[:-1] or rel.endswith((".pyc", ".pyo")):
            yield PlanEntry(rel, "bytecode", size)


def minimal_metadata(text: str) -> str:
    """Headers that importlib.metadata and dependency checks read; no description."""
    msg = HeaderParser().parsestr(text, headersonly=True)
    lines = [f"{k}: {v}" for k, v in msg.items() if k.lower() in _METADATA_KEEP]
    return "\n".join(lines) + "\n"


def rule_dist_info(ctx: PruneContext) -> Iterable[PlanEntry]:
    inv = ctx.inventory
    for dist in inv.dists.values():
        prefix = dist.dist_info + "/"
        for rel in dist.files:
            if not rel.startswith(prefix):
                continue
            sub = rel[len(prefix):]
            base = sub.rsplit("/", 1)[-1]
            if sub.startswith(("licenses/", "license_files/")) or is_license(base):
                continue
            if sub in _DIST_INFO_DROP:
                yield PlanEntry(rel, "dist-info", inv.sizes[rel])
            elif sub == "METADATA":
                src = inv.root / rel
                new = minimal_metadata(src.read_text(encoding="utf-8", errors="replace"))
                encoded = new.encode("utf-8")
                if len(encoded) < inv.sizes[rel]:
                    out = ctx.work_dir / "metadata" / dist.dist_info / "METADATA"
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_bytes(encoded)
                    yield PlanEntry(rel, "dist-info", inv.sizes[rel], out, len(encoded))


def _tests_dirs(inv: Inventory) -> set[str]:
    dirs: set[str] = set()
    for rel in inv.sizes:
        parts = rel.split("/")
        for i in range(1, len(parts) - 1):
            if parts[i] in ("tests", "test") and not parts[0].endswith((".dist-info", ".data")):
                dirs.add("/".join(parts[: i + 1]))
                break
    return dirs


_IMPORT = re.compile(r"^\s*(?:from\s+(\.*)([\w.]*)\s+import\s+([\w, ()]+)|import\s+([\w., ]+))",
                     re.M)


def _referenced_tests(inv: Inventory, dirs: set[str]) -> set[str]:
    """Files in test folders that are imported from outside any test folder (numpy.testing
    has done so): those modules, and the ``__init__.py`` files above them, are kept, because
    removing them would break a runtime import."""
    if not dirs:
        return set()
    by_dotted = {d.replace("/", "."): d for d in dirs}
    tops = {d.split("/", 1)[0] for d in dirs}
    keep: set[str] = set()

    def hit(dotted: str) -> None:
        parts = dotted.split(".")
        for i in range(len(parts), 0, -1):
            d = by_dotted.get(".".join(parts[:i]))
            if d is None:
                continue
            path = "/".join(parts)
            for cand in (path + ".py", path + "/__init__.py"):
                if cand in inv.sizes:
                    keep.add(cand)
            for j in range(i, len(parts) + 1):
                init = "/".join(parts[:j]) + "/__init__.py"
                if init in inv.sizes:
                    keep.add(init)
            return

    for rel in inv.sizes:
        parts = rel.split("/")
        if not rel.endswith(".py") or parts[0] not in tops:
            continue
        if any(p in ("tests", "test") for p in parts[1:-1]):
            continue
        try:
            text = (inv.root / rel).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if "test" not in text:
            continue
        pkg = parts[:-1]
        for m in _IMPORT.finditer(text):
            dots, mod, names, plain = m.group(1), m.group(2), m.group(3), m.group(4)
            if plain:
                for name in plain.split(","):
                    hit(name.strip().split(" ")[0])
                continue
            if dots:
                up = len(dots) - 1
                if up > len(pkg):
                    continue
                base = pkg[: len(pkg) - up] if up else pkg
                mod = ".".join([*base, mod] if mod else base)
            hit(mod)
            for name in (names or "").replace("(", " ").replace(")", " ").split(","):
                name = name.strip().split(" ")[0]
                if name:
                    hit(f"{mod}.{name}")
    return keep


def rule_tests(ctx: PruneContext) -> Iterable[PlanEntry]:
    inv = ctx.inventory
    dirs = _tests_dirs(inv)
    kept = _referenced_tests(inv, dirs)
    ctx.tests_kept = sorted(kept)
    for rel, size in inv.sizes.items():
        parts = rel.split("/")
        for i in range(1, len(parts) - 1):
            if parts[i] in ("tests", "test"):
                if "/".join(parts[: i + 1]) in dirs and rel not in kept:
                    yield PlanEntry(rel, "tests", size)
                break


def rule_sources(ctx: PruneContext) -> Iterable[PlanEntry]:
    for rel, size in ctx.inventory.sizes.items():
        parts = rel.split("/")
        if parts[0].endswith(".dist-info"):
            continue
        if rel.endswith(_SOURCE_SUFFIXES) or "include" in parts[1:-1]:
            yield PlanEntry(rel, "sources", size)


def rule_runtime_provided(ctx: PruneContext) -> Iterable[PlanEntry]:
    inv = ctx.inventory
    for name in sorted(RUNTIME_PROVIDED & set(inv.dists) - ctx.requested):
        for rel in inv.dists[name].files:
            yield PlanEntry(rel, "runtime-provided", inv.sizes[rel])


def rule_scripts(ctx: PruneContext) -> Iterable[PlanEntry]:
    for rel, size in ctx.inventory.sizes.items():
        if rel.startswith("bin/"):
            yield PlanEntry(rel, "scripts", size)


RULE_FUNCS: dict[str, RuleFn] = {
    "bytecode": rule_bytecode,
    "dist-info": rule_dist_info,
    "tests": rule_tests,
    "sources": rule_sources,
    "runtime-provided": rule_runtime_provided,
    "scripts": rule_scripts,
}


def validate_rules(names: Iterable[str]) -> None:
    from .config import did_you_mean

    for n in names:
        if n not in RULES:
            raise InputError(
                f"Unknown pruning rule {n!r}.{did_you_mean(n, list(RULES))}",
                hint=f"Rules: {', '.join(RULES)}.",
            )


def is_kept(rel: str, keep: tuple[str, ...]) -> bool:
    """``--keep`` globs match the path below python/ or any of its parent folders."""
    if not keep:
        return False
    parts = rel.split("/")
    cands = [rel] + ["/".join(parts[:i]) for i in range(1, len(parts))]
    return any(fnmatch.fnmatchcase(c, g.rstrip("/")) for g in keep for c in cands)


def make_plan(ctx: PruneContext, enabled: Iterable[str], keep: tuple[str, ...]) -> list[PlanEntry]:
    """Run the enabled file rules in their fixed order; a path is claimed by the first rule."""
    enabled = set(enabled)
    claimed: set[str] = set()
    plan: list[PlanEntry] = []
    for rule in RULE_ORDER:
        fn = RULE_FUNCS.get(rule)
        if fn is None or rule not in enabled:
            continue
        for entry in sorted(fn(ctx), key=lambda e: e.rel):
            if entry.rel in claimed or is_kept(entry.rel, keep):
                continue
            claimed.add(entry.rel)
            plan.append(entry)
    return plan


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


def summarize(plan: Iterable[PlanEntry]) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for e in plan:
        files, saved = out.get(e.rule, (0, 0))
        out[e.rule] = (files + 1, saved + e.saved)
    return out


def remove_tree(path: Path, workers: int = 8) -> None:
    """Delete a staging folder quickly: unlinks run in parallel (they wait on the disk,
    not the GIL), then folders go deepest first. Symlinks are removed, never followed."""
    from concurrent.futures import ThreadPoolExecutor

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
