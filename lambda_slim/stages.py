"""The two in-place stages that change files rather than remove them: strip and compile.

``strip_stage`` strips copies in parallel, swaps them in through the staging area (so they
can be undone), and puts back any library whose stripped copy no longer loads in the target
interpreter. ``compile_tree`` byte-compiles for the target with unchecked-hash pycs whose
recorded paths are ``/opt/python/...`` (the same on every machine, so the zip is reproducible).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from .inventory import walk
from .native import NativeFile, is_vendored_lib, strip_files
from .proc import Runner, tail
from .prune import PlanEntry, Staging, is_kept
from .targets import Interpreter
from .verify import check_loadable

if TYPE_CHECKING:
    from .config import BuildConfig


class _Progress(Protocol):
    def stage(self, name: str, total: int | None = None) -> None: ...
    def advance(self, n: int = 1) -> None: ...


def strip_candidates(config: BuildConfig, natives: list[NativeFile]) -> list[str]:
    """The strip rule's plan: ELF files of the target machine that still carry symbols,
    outside vendored ``*.libs/`` folders and ``--keep`` globs."""
    return [
        nf.rel for nf in natives
        if nf.kind == "elf" and nf.info is not None and nf.info.strippable
        and nf.info.machine == config.target.machine
        and not is_vendored_lib(nf.rel) and not is_kept(nf.rel, config.keep)
    ]


def strip_stage(
    config: BuildConfig,
    strip_exe: str | None,
    interp: Interpreter | None,
    staging: Staging,
    natives: list[NativeFile],
    env: Mapping[str, str],
    runner: Runner,
    progress: _Progress,
) -> tuple[list[PlanEntry], list[tuple[str, str]]]:
    assert strip_exe is not None
    cands = strip_candidates(config, natives)
    progress.stage("strip", len(cands))
    results = strip_files(strip_exe, staging.root, cands, staging.trash / "strip-work",
                          config.workers, on_done=lambda _r: progress.advance())
    skipped = [(r.rel, r.error) for r in results if r.error]
    good = [r for r in results if r.stripped_path is not None and r.after < r.before]
    entries = [PlanEntry(r.rel, "strip", r.before, r.stripped_path, r.after) for r in good]
    staging.apply(entries)
    # A stripped file that no longer loads goes back, judged in place (RPATHs like
    # $ORIGIN/../numpy.libs only resolve there) and against the original.
    if interp is not None and entries:
        paths = {str(staging.root / e.rel): e for e in entries}
        res = check_loadable(interp, [Path(p) for p in paths], env, runner)
        bad = [paths[p] for p, err in res.items() if err and p in paths]
        if bad:
            staging.restore(bad)
            orig = check_loadable(interp, [staging.root / e.rel for e in bad], env,
                                  runner)
            for e in bad:
                full = str(staging.root / e.rel)
                if orig.get(full):  # the original does not load either: not strip's fault
                    staging.apply([e])
                else:
                    skipped.append((e.rel, f"stripped copy does not load: {res[full]}"))
            entries = [e for e in entries if staging.is_applied(e)]
    return entries, skipped


def compile_tree(config: BuildConfig, interp: Interpreter, root: Path, runner: Runner,
             env: Mapping[str, str], only: list[str] | None = None) -> tuple[int, list[str]]:
    """Byte-compile for the target with unchecked-hash pycs; returns (bytes added, errors)."""
    before = sum(walk(root).values())
    cmd = [str(interp.path), "-I", "-m", "compileall", "-q", "-j", str(config.workers),
           "--invalidation-mode", "unchecked-hash", "-s", str(root), "-p", "/opt/python"]
    if only is None:
        cmd.append(str(root))
    else:
        cmd += [str(root / rel) for rel in only]
    proc = runner(cmd, env={k: v for k, v in env.items() if not k.startswith("PYTHON")})
    errors = []
    if proc.returncode != 0:
        errors = [ln for ln in (proc.stdout or "").splitlines() if ln.startswith("***")]
        if not errors:
            errors = [tail((proc.stdout or "") + (proc.stderr or ""), 5)]
    after = sum(walk(root).values())
    return after - before, errors


