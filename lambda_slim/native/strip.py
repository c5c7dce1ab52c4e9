"""The strip stage: ``strip --strip-unneeded`` on native libraries, reversibly.

Copies are stripped in parallel and swapped in through the staging area (so they can be
undone); a library whose stripped copy no longer loads in the target interpreter is put back.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import ELFError

from ..errors import ToolMissingError
from ..progress import Progress
from ..rules.plan import is_kept
from ..target.proc import Runner
from ..target.runtimes import Target, host_machine
from ..tree.staging import PlanEntry, Staging
from .elf import NativeFile, inspect_elf

#: dlopen each path in the target; path -> error, None when it loads.
LoadCheck = Callable[[Sequence[Path]], Mapping[str, "str | None"]]


def find_strip(target: Target, env: Mapping[str, str]) -> str:
    """The ``strip`` that understands the target's ELF machine; raise if there is none."""
    path = env.get("PATH")
    cross = target.machine != host_machine()
    names = [f"{target.machine}-linux-gnu-strip", "llvm-strip"] if cross else ["strip"]
    for name in names:
        exe = shutil.which(name, path=path)
        if exe:
            return exe
    wanted = " or ".join(names)
    package = f" binutils-{target.machine.replace('_', '-')}-linux-gnu" if cross else ""
    raise ToolMissingError(
        f"No {wanted} found on PATH, needed by the `strip` rule for {target.describe()}.",
        hint=(
            f"Install binutils (Debian/Ubuntu: apt-get install binutils{package}; "
            "macOS builds need a Linux strip), or build with --no-strip."
        ),
    )


@dataclass(frozen=True)
class StripResult:
    rel: str
    before: int
    after: int
    stripped_path: Path | None
    error: str | None


def strip_files(
    strip_exe: str,
    root: Path,
    rels: list[str],
    out_dir: Path,
    jobs: int,
    runner: Runner,
    on_done: Callable[[str], None] | None = None,
) -> list[StripResult]:
    """Strip copies of ``rels`` into ``out_dir`` in parallel; the originals are not touched."""
    out_dir.mkdir(parents=True, exist_ok=True)

    def one(idx_rel: tuple[int, str]) -> StripResult:
        idx, rel = idx_rel
        src = root / rel
        dst = out_dir / f"{idx}.so"
        before = src.stat().st_size
        proc = runner([strip_exe, "--strip-unneeded", "-o", str(dst), str(src)])
        if on_done:
            on_done(rel)
        if proc.returncode != 0 or not dst.exists():
            return StripResult(rel, before, before, None, proc.stderr.strip() or "strip failed")
        try:
            ok = inspect_elf(dst).aligned
        except (ELFError, ValueError, OSError, AssertionError) as exc:
            return StripResult(rel, before, before, None, f"stripped copy unreadable: {exc}")
        if not ok:
            return StripResult(rel, before, before, None, "stripped copy has misaligned LOAD segments")
        shutil.copymode(src, dst)
        return StripResult(rel, before, dst.stat().st_size, dst, None)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, enumerate(rels)))


def strip_candidates(natives: Sequence[NativeFile], machine: str, keep: tuple[str, ...]) -> list[str]:
    """The strip rule's plan: ELF files of the target machine that still carry symbols,
    outside ``--keep`` globs. Vendored ``*.libs/`` libraries are candidates too: the strip
    of one that patchelf rewrote (auditwheel) can come out with LOAD segments the loader
    refuses, which :func:`strip_files` checks (the copy is dropped), and every stripped
    copy is then loaded in place before it stays."""
    return [
        nf.rel for nf in natives
        if nf.kind == "elf" and nf.info is not None and nf.info.strippable
        and nf.info.machine == machine
        and not is_kept(nf.rel, keep)
    ]


def strip_stage(
    strip_exe: str,
    staging: Staging,
    candidates: Sequence[str],
    *,
    workers: int,
    runner: Runner,
    loads: LoadCheck | None,
    progress: Progress,
) -> tuple[list[PlanEntry], list[tuple[str, str]]]:
    """Strip ``candidates`` and swap them in; with ``loads`` (the target can run here), a
    stripped library that no longer loads goes back. Returns (applied entries, skipped)."""
    progress.stage("strip", len(candidates))
    results = strip_files(strip_exe, staging.root, list(candidates), staging.trash / "strip-work",
                          workers, runner, on_done=lambda _r: progress.advance())
    skipped = [(r.rel, r.error) for r in results if r.error]
    good = [r for r in results if r.stripped_path is not None and r.after < r.before]
    entries = [PlanEntry(r.rel, "strip", r.before, r.stripped_path, r.after) for r in good]
    staging.apply(entries)
    # A stripped file that no longer loads goes back, judged in place (RPATHs like
    # $ORIGIN/../numpy.libs only resolve there) and against the original.
    if loads is not None and entries:
        paths = {str(staging.root / e.rel): e for e in entries}
        res = loads([Path(p) for p in paths])
        bad = [paths[p] for p, err in res.items() if err and p in paths]
        if bad:
            staging.restore(bad)
            orig = loads([staging.root / e.rel for e in bad])
            for e in bad:
                full = str(staging.root / e.rel)
                if orig.get(full):  # the original does not load either: not strip's fault
                    staging.apply([e])
                else:
                    skipped.append((e.rel, f"stripped copy does not load: {res[full]}"))
            entries = [e for e in entries if staging.is_applied(e)]
    return entries, skipped
