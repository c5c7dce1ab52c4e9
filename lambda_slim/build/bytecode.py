"""The bytecode stages of a build: compile before verification, choose after it.

``--compile=imported`` (the default) needs to know what a cold start imports, and only the
verification of the pruned tree can tell (its first checking run imports the requested
packages, a handler's module and the smoke scripts in fresh processes and reports the files
they loaded). Verification itself is several times faster with bytecode, so the whole tree
is compiled first and the pycs nobody imported at start are dropped afterwards
(:func:`lambda_slim.tree.compile.keep_imported`); the init time is measured after that, on
the layer as it ships.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from ..inputs.config import BuildConfig
from ..progress import Progress
from ..report.model import BytecodeSummary
from ..target.proc import children_stopped
from ..tree.compile import Compiled, compile_files, keep_imported
from ..verify.diagnose import Judged
from .plan import timed
from .tools import Tools


def compiles_early(config: BuildConfig) -> bool:
    """Whether compiling can run beside the strip: the ``.py`` files are final once the
    rules are applied, unless a ``--trace`` still removes some."""
    return config.compile != "none" and not config.trace


def compile_stage(config: BuildConfig, tools: Tools, root: Path,
                  touched: frozenset[str] | None, timings: dict[str, float],
                  progress: Progress | None) -> Compiled | None:
    """Byte-compile for the target (``traced``: only what the workload touched); None when
    nothing is compiled (``--compile=none`` or no target interpreter). Without ``progress``
    (it runs beside another stage) nothing is announced: the caller notes the errors."""
    if config.compile == "none" or tools.compile_python is None:
        return None
    if progress is not None:
        progress.stage("compile")
    only = None
    if config.compile == "traced" and touched is not None:
        only = [r for r in sorted(touched) if r.endswith(".py") and (root / r).is_file()]
    with timed(timings, "compile"):
        got = compile_files(tools.compile_python, root, workers=config.workers, only=only,
                            cache=config.cache_dir / "bytecode", refresh=config.refresh)
    if progress is not None:
        compile_notes(got, progress)
    return got


def compile_notes(got: Compiled | None, progress: Progress) -> None:
    for e in (got.errors if got else ())[:5]:
        progress.note(f"compile: {e}")


def _started_by(judged: Judged, smoke: tuple[Path, ...]) -> str:
    parts = [", ".join(judged.cold)] if judged.cold else []
    if judged.extra_cold:
        parts.append("the handler's module " + ", ".join(judged.extra_cold))
    if smoke:
        parts.append("the smoke script" + ("s " if len(smoke) > 1 else " ")
                     + ", ".join(p.name for p in smoke))
    return "; ".join(parts) or "nothing requested"


def _where(isolation: str) -> str:
    return "on this host" if isolation == "host" else f"in the {isolation}"


def choose_bytecode(config: BuildConfig, root: Path, compiled: Compiled | None,
                    judged: Judged | None, timings: dict[str, float]) -> BytecodeSummary:
    """Keep the pycs the mode asks for and say why; ``imported`` drops the rest."""
    if compiled is None:
        why = ("--compile=none: sources only" if config.compile == "none"
               else "no interpreter of the target's Python version to compile with")
        return BytecodeSummary(config.compile, 0, 0, why=why)
    modules, size = len(compiled.added), compiled.bytes
    if config.compile == "all":
        return BytecodeSummary("all", modules, size, why="--compile=all: every module")
    if config.compile == "traced":
        return BytecodeSummary("traced", modules, size,
                               why="--compile=traced: the modules the --trace workload touched")
    if judged is None or judged.loaded is None:
        why = ("verification did not run" if judged is None
               else "verification did not report what the cold imports loaded")
        return BytecodeSummary("imported", modules, size,
                               why=f"every module: {why}, so what a cold start imports is "
                               "unknown")
    with timed(timings, "compile"):
        sel = keep_imported(root, compiled, judged.loaded)
    return BytecodeSummary(
        "imported", sel.kept_modules, sel.kept_bytes, sel.dropped_modules, sel.dropped_bytes,
        why=f"the modules a cold start loads, importing {_started_by(judged, config.smoke)} "
        f"{_where(judged.report.environment)}; the other {sel.dropped_modules:,} modules ship "
        "as source (compiled in memory on first import)")


@contextmanager
def beside(work: Callable[[], None] | None) -> Iterator[Callable[[], None]]:
    """Run ``work`` on a thread while the body runs; the body gets a ``join`` that waits for
    it and re-raises its error (call it before committing anything that depends on it). On
    the way out the thread is always waited for, so nothing reads a tree being removed;
    when the body fails (or is interrupted) the work's children are killed first, so the
    error, or Ctrl-C, is not held up by work whose result nobody will read."""
    if work is None:
        yield lambda: None
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="lambda-slim-beside") as pool:
        fut: Future[None] = pool.submit(work)
        try:
            yield fut.result
        except BaseException:
            with children_stopped():
                fut.exception()  # wait for it; the body's error is the one to report
            raise
        fut.result()
