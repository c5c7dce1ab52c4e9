"""The baselines lambda-slim is measured against, reproduced step by step.

* raw: ``pip install --target`` (pip's default byte-compilation on), zipped at level 9.
* spr: serverless-python-requirements' ``slim: true`` from its documented defaults — delete
  ``**/*.py[c|o]``, ``**/__pycache__*`` and ``**/*.dist-info*`` (node-glob semantics: ``**``
  does not enter dot folders and patterns do not match dot names), then plain ``strip`` on
  every file named ``*.so`` (``find -name '*.so'``, so never ``*.so.N``), zipped at level 9.
* spr-nostrip: the same without the strip (the plugin's documented workaround).
* uv: ``uv pip install --target DIR --python-platform MACHINE-manylinux_X_Y --python-version
  X.Y --no-compile-bytecode`` (the fastest way people assemble a layer today), then the same
  delete recipe and ``zip -r9``; and the same tree zipped with ``zip -r`` (zip's default
  level, 6), what a user timing a minimal modern pipeline would type.

Each phase also runs as its own child process (``python bench_baselines.py PHASE ...``) so
the benchmark can time it and read its peak memory like any other build step.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

#: serverless-python-requirements' default ``slimPatterns`` (lib/slim.js).
SPR_PATTERNS: tuple[str, ...] = ("*.py[c|o]", "__pycache__*", "*.dist-info*")

#: The files its strip step touches: ``find DIR -name '*.so' -exec strip {} ;``.
SPR_STRIP_NAME = "*.so"


def spr_matches(name: str, patterns: Iterable[str] = SPR_PATTERNS) -> bool:
    """Whether one path component is deleted by the recipe (``**/PATTERN``)."""
    if name.startswith("."):
        return False
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def spr_delete_plan(root: Path, patterns: Iterable[str] = SPR_PATTERNS) -> list[Path]:
    """Every file or folder under ``root`` the recipe removes, sorted; a removed folder's
    contents are not listed separately."""
    pats = tuple(patterns)
    plan: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        keep_walking = []
        for d in sorted(dirnames):
            if spr_matches(d, pats):
                plan.append(here / d)
            elif not d.startswith(".") and not (here / d).is_symlink():
                keep_walking.append(d)
        dirnames[:] = keep_walking
        plan.extend(here / f for f in sorted(filenames) if spr_matches(f, pats))
    return sorted(plan)


def tree_bytes(path: Path) -> tuple[int, int]:
    """(bytes, files) of regular files at or below ``path`` (symlinks not followed)."""
    if path.is_symlink() or path.is_file():
        return path.lstat().st_size, 1
    total = files = 0
    for dirpath, _dirs, filenames in os.walk(path):
        for f in filenames:
            total += os.lstat(os.path.join(dirpath, f)).st_size
            files += 1
    return total, files


@dataclass(frozen=True)
class DeleteResult:
    entries: int
    files: int
    bytes: int


def spr_delete(root: Path, patterns: Iterable[str] = SPR_PATTERNS) -> DeleteResult:
    """Apply the recipe's deletions (``fse.removeSync`` on every glob match)."""
    plan = spr_delete_plan(root, patterns)
    files = size = 0
    for p in plan:
        b, n = tree_bytes(p)
        size += b
        files += n
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()
    return DeleteResult(len(plan), files, size)


def spr_strip_targets(root: Path) -> list[Path]:
    """Regular files named ``*.so`` (not ``*.so.N``): what ``find -name '*.so'`` feeds strip."""
    out = []
    for dirpath, _dirs, filenames in os.walk(root):
        for f in filenames:
            p = Path(dirpath) / f
            if fnmatch.fnmatchcase(f, SPR_STRIP_NAME) and p.is_file() and not p.is_symlink():
                out.append(p)
    return sorted(out)


@dataclass(frozen=True)
class StripResult:
    files: int
    failed: list[str]
    bytes_before: int
    bytes_after: int


def spr_strip(root: Path, strip: str = "strip") -> StripResult:
    """Plain ``strip FILE`` on each target, one after another, ignoring failures as find does."""
    failed = []
    before = after = 0
    targets = spr_strip_targets(root)
    for p in targets:
        before += p.stat().st_size
        proc = subprocess.run([strip, str(p)], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            failed.append(f"{p.relative_to(root)}: {proc.stderr.strip()[:200]}")
        after += p.stat().st_size
    return StripResult(len(targets), failed, before, after)


#: The glibc versions uv's ``--python-platform`` names (``uv pip install --help``, uv 0.13).
UV_MANYLINUX = ((2, 17), (2, 28), (2, 31), (2, 32), (2, 33), (2, 34), (2, 35), (2, 36), (2, 37),
                (2, 38), (2, 39), (2, 40))


def uv_platform(machine: str, glibc: tuple[int, int]) -> str:
    """uv's ``--python-platform`` for a Lambda target: the newest manylinux uv names that the
    runtime's glibc still runs (``x86_64-manylinux_2_34`` on AL2023, ``_2_17`` on AL2's 2.26)."""
    best = max(v for v in UV_MANYLINUX if v <= glibc)
    return f"{machine}-manylinux_{best[0]}_{best[1]}"


def uv_install_command(uv: str, target_dir: Path, wheels: Sequence[Path], python_version: str,
                       platform: str) -> list[str]:
    """``uv pip install --target`` of exactly ``wheels`` for the target, without bytecode."""
    return [uv, "pip", "install", "--target", str(target_dir), "--no-deps", "--no-index",
            "--python-platform", platform, "--python-version", python_version,
            "--no-compile-bytecode", "--quiet", *map(str, wheels)]


#: zip's own default compression level (``zip -r`` without ``-N``; ``man zip``: "-6 is default")
ZIP_DEFAULT_LEVEL = 6


def zip_command(layer_dir: Path, out: Path, zip_bin: str | None, level: int = 9) -> list[str]:
    """``zip -r9`` of ``layer_dir/python`` (run with cwd=layer_dir), or the zipfile fallback;
    ``level=ZIP_DEFAULT_LEVEL`` is plain ``zip -r``."""
    if zip_bin:
        flag = "-r" if level == ZIP_DEFAULT_LEVEL else f"-r{level}"
        return [zip_bin, flag, "-q", str(out), "python"]
    return [sys.executable, str(Path(__file__).resolve()), "zip", str(layer_dir), str(out),
            str(level)]


def zip_tree(layer_dir: Path, out: Path, level: int = 9) -> int:
    """Deflate of ``layer_dir/python`` with zipfile (when no ``zip`` binary exists)."""
    count = 0
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        for dirpath, dirnames, filenames in os.walk(layer_dir / "python"):
            dirnames.sort()
            for f in sorted(filenames):
                p = Path(dirpath) / f
                zf.write(p, p.relative_to(layer_dir).as_posix())
                count += 1
    return count


def main(argv: Sequence[str]) -> int:
    """Child-process entry: ``delete ROOT`` | ``strip ROOT [STRIP]`` | ``zip DIR OUT``.
    Prints one JSON line with what was done."""
    if not argv:
        print("usage: bench_baselines.py delete ROOT | strip ROOT [STRIP] | zip DIR OUT [LEVEL]",
              file=sys.stderr)
        return 2
    cmd, args = argv[0], list(argv[1:])
    if cmd == "delete":
        d = spr_delete(Path(args[0]))
        print(json.dumps({"entries": d.entries, "files": d.files, "bytes": d.bytes}))
    elif cmd == "strip":
        s = spr_strip(Path(args[0]), args[1] if len(args) > 1 else "strip")
        print(json.dumps({"files": s.files, "failed": s.failed, "bytes_before": s.bytes_before,
                          "bytes_after": s.bytes_after}))
    elif cmd == "zip":
        level = int(args[2]) if len(args) > 2 else 9
        print(json.dumps({"files": zip_tree(Path(args[0]), Path(args[1]), level)}))
    else:
        print(f"unknown phase {cmd!r}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
