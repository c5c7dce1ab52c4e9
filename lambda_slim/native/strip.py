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

from ..artifact.atomic import sha256_of
from ..errors import ToolMissingError
from ..progress import Progress
from ..rules.plan import is_kept
from ..target.proc import Runner
from ..target.runtimes import Target, host_machine
from ..tree.staging import PlanEntry, Staging
from .elf import NativeFile, inspect_elf
from .stripcache import STRIP_FLAGS, StripCache, open_cache

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
    cache: StripCache | None = None,
    refresh: bool = False,
    known: Callable[[Path], str | None] | None = None,
) -> list[StripResult]:
    """Strip copies of ``rels`` into ``out_dir`` in parallel; the originals are not touched.
    With ``cache``, a copy (or a refusal) an earlier strip of the same bytes made is used
    (not read with ``refresh``) and new ones are stored; ``known``: the SHA-256 of a file
    when it is already known for sure (an unpacked wheel file, verified and unchanged)."""
    out_dir.mkdir(parents=True, exist_ok=True)

    def one(idx_rel: tuple[int, str]) -> StripResult:
        idx, rel = idx_rel
        src = root / rel
        dst = out_dir / f"{idx}.so"
        st = src.stat()
        before = st.st_size
        input_sha = None
        if cache is not None:
            input_sha = (known(src) if known is not None else None) or sha256_of(src)[1].hex()
            hit = None if refresh else cache.lookup(input_sha)
            if hit is not None and hit.refused is not None:
                if on_done:
                    on_done(rel)
                return StripResult(rel, before, before, None, hit.refused)
            if hit is not None and cache.place(hit, st.st_mode, dst):
                if on_done:
                    on_done(rel)
                return StripResult(rel, before, hit.size, dst, None)
        got = _strip_one(strip_exe, src, dst, before, rel, runner)
        if on_done:
            on_done(rel)
        if cache is not None and input_sha is not None and got.refused_by_guard:
            cache.store(input_sha, None, got.result.error)
        elif cache is not None and input_sha is not None and got.result.stripped_path:
            cache.store(input_sha, got.result.stripped_path, None)
        return got.result

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, enumerate(rels)))


@dataclass(frozen=True)
class _Stripped:
    result: StripResult
    #: the copy was made but the alignment guard refused it (a verdict worth keeping)
    refused_by_guard: bool = False


def _strip_one(strip_exe: str, src: Path, dst: Path, before: int, rel: str,
               runner: Runner) -> _Stripped:
    proc = runner([strip_exe, *STRIP_FLAGS, "-o", str(dst), str(src)])
    if proc.returncode != 0 or not dst.exists():
        return _Stripped(StripResult(rel, before, before, None,
                                     proc.stderr.strip() or "strip failed"))
    try:
        ok = inspect_elf(dst).aligned
    except (ELFError, ValueError, OSError, AssertionError) as exc:
        return _Stripped(StripResult(rel, before, before, None,
                                     f"stripped copy unreadable: {exc}"), True)
    if not ok:
        return _Stripped(StripResult(rel, before, before, None,
                                     "stripped copy has misaligned LOAD segments"), True)
    shutil.copymode(src, dst)
    return _Stripped(StripResult(rel, before, dst.stat().st_size, dst, None))


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
    cache_dir: tuple[Path, str] | None = None,
    refresh: bool = False,
    known: Callable[[Path], str | None] | None = None,
) -> tuple[list[PlanEntry], list[tuple[str, str]]]:
    """Strip ``candidates`` and swap them in; with ``loads`` (the target can run here), a
    stripped library that no longer loads goes back. Returns (applied entries, skipped).
    ``cache_dir``: (the folder of the stripped-library cache, the target machine);
    ``refresh`` and ``known``: see :func:`strip_files`."""
    progress.stage("strip", len(candidates))
    cache = (open_cache(cache_dir[0], strip_exe, cache_dir[1], runner)
             if cache_dir is not None and candidates else None)
    results = strip_files(strip_exe, staging.root, list(candidates), staging.trash / "strip-work",
                          workers, runner, on_done=lambda _r: progress.advance(), cache=cache,
                          refresh=refresh, known=known)
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
