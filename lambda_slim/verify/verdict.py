"""Verdicts Lambda would give: refuse what a function uses, warn about what it cannot.

The layer is refused when a requested distribution's own import fails (:func:`own_imports`),
a smoke script (or the handler) fails, or pruning changed how anything fails (the
differential rule of :mod:`lambda_slim.verify.diagnose`). Anything else that fails just the
same with nothing pruned (an optional submodule such as ``PIL.ImageTk`` needing
``libtk8.6.so``, an extra top-level package needing an optional dependency nobody asked for,
a dependency's own import) would fail on Lambda too, but no function importing the requested
packages meets it: it is an :class:`OptionalFailure`, a warning (``--strict``: an error).
So is a module that fails only once the ``trace`` rule is applied (:func:`split_trace_cut`):
the user asked for a cut by usage, and the workload never imported it.
The closure audit is judged the same way (:func:`judge_closure`): a native file whose system
library Lambda lacks is an error only when a requested import or a smoke script loads it.
After a pass, fresh interpreters import the requested packages to measure the init time and
the peak memory (:mod:`lambda_slim.target.measure`).
"""

from __future__ import annotations

import posixpath
import re
import subprocess
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from packaging.utils import canonicalize_name

from ..errors import LambdaSlimError, NativeError, VerifyError
from ..native.closure import ClosureResult, Miss, closure_error, describe_misses
from ..progress import Progress
from ..sizes import human
from ..target.measure import INIT_LIMIT_MS, Measurement, measure_init
from ..target.python import TargetPython
from ..target.syslibs import SystemLibraries
from .causes import MISSING_LIBRARY, READ_ONLY, TIMEOUT, Cause, classify
from .probes import OptionalFailure, VerifyReport

SMOKE_PREFIX = "smoke:"
#: Affixes a distribution's name may carry that its import name does not (PyYAML -> yaml,
#: python-dateutil -> dateutil, pyzmq -> zmq, scikit-learn's sklearn is matched by "all").
_AFFIXES = ("python-", "py-", "py", "-python", "-py", "python")


def describe_item(item: str, required: Collection[str] = ()) -> str:
    if item.startswith(SMOKE_PREFIX):
        return f"smoke script {item[len(SMOKE_PREFIX):]}"
    return f"requested package {item}" if item in required else item


def own_imports(dist: str, top_level: Sequence[str]) -> tuple[str, ...]:
    """The import names that are a distribution's own: of several top-level packages, the
    one(s) matching its normalised name (``PIL`` is pillow's only one, ``yaml`` matches
    PyYAML), else every public one (else all of them)."""
    if len(top_level) <= 1:
        return tuple(top_level)
    name: str = canonicalize_name(dist)
    names: set[str] = {name}
    for a in _AFFIXES:
        if name.startswith(a) and len(name) > len(a):
            names.add(name[len(a):].strip("-"))
        if name.endswith(a) and len(name) > len(a):
            names.add(name[:-len(a)].strip("-"))
    mine = tuple(m for m in top_level if canonicalize_name(m) in names)
    public = tuple(m for m in top_level if not m.startswith("_"))
    return mine or public or tuple(top_level)


#: What differs between two runs failing the same way: addresses, temporary names
#: (tempfile's ``tmpXXXXXXXX``), pids and timestamps.
_VOLATILE = re.compile(r"0x[0-9a-fA-F]+|\btmp\w{6,}|\d{4,}")


def signature(error: str) -> tuple[str, str]:
    """How a run failed, comparable between the pruned tree and the tree with nothing pruned."""
    cause = classify(error)
    return cause.kind, _VOLATILE.sub("…", cause.detail)


def split_failures(failed: Mapping[str, str], essential: Collection[str], *,
                   strict: bool = False) -> tuple[list[tuple[str, Cause]],
                                                  list[tuple[str, Cause]]]:
    """Failures with nothing pruned -> (fatal, optional): fatal are the essential items
    (requested distributions' own imports, smoke scripts) and, with ``strict``, all."""
    fatal: list[tuple[str, Cause]] = []
    optional: list[tuple[str, Cause]] = []
    for item, err in sorted(failed.items()):
        essential_item = item.startswith(SMOKE_PREFIX) or item in essential
        (fatal if essential_item or strict else optional).append((item, classify(err)))
    return fatal, optional


def same_library(soname: str, details: Collection[str]) -> bool:
    """``libmagic.so.1`` is what a loader error names ``libmagic.so.1`` and ctypes ``libmagic``."""
    return any(soname == d or soname.startswith(d + ".so") or d.startswith(soname + ".")
               for d in details)


def broken_layer(fatal: Sequence[tuple[str, Cause]], isolation: str,
                 required: Collection[str], *, pruned_only: bool = False,
                 misses: Sequence[Miss] = (),
                 syslibs: SystemLibraries | None = None) -> LambdaSlimError:
    """The error naming each failure's cause: exit 4 when every one is a missing system
    library (led by the closure audit's text for the files needing it), else exit 5
    (``isolation``: where the probes ran)."""
    where = "the Lambda-like sandbox" if isolation != "host" else "this host"
    lines = "\n".join(f"  - {describe_item(i, required)}: {c.describe()}" for i, c in fatal)
    when = ("in the pruned layer" if pruned_only
            else "even with nothing pruned, so it is not caused by pruning and")
    kinds = {c.kind for _i, c in fatal}
    hint = ("Every requested package's own import and each smoke script must work, as they "
            "would on Lambda.")
    for c in {c.fix: c for _i, c in fatal if c.fix}.values():
        hint += f" {c.fix}"
    if MISSING_LIBRARY in kinds:
        hint += (" A missing library: ship it in a layer's lib/ (/opt/lib) and pass "
                 "--system-lib SONAME, or use a variant that does not need it.")
    if READ_ONLY in kinds and not any(c.fix for _i, c in fatal):
        hint += " Write under /tmp (the only writable place on Lambda), not next to the code."
    if TIMEOUT in kinds:
        hint += " Raise the limit with --smoke-timeout SECONDS if the script is just slow."
    message = (f"The layer does not work in {where} ({when} would fail on Lambda too):\n"
               f"{lines}")
    if kinds == {MISSING_LIBRARY}:
        named = [m for m in misses if same_library(m.soname, {c.detail for _i, c in fatal})]
        if named and syslibs is not None:
            audit = closure_error(ClosureResult(len(named), tuple(named)), syslibs)
            return NativeError(f"{audit.message}\n{message}", hint=f"{audit.hint} {hint}")
        if named:
            message += "\nThe native file(s) that need it:\n" + describe_misses(named)
        return NativeError(message, hint=hint)
    return VerifyError(message, hint=hint)


def optional_failures(optional: Sequence[tuple[str, Cause]]) -> list[OptionalFailure]:
    return [OptionalFailure(item, cause.describe()) for item, cause in optional]


def split_closure(closure: ClosureResult, loaded: Collection[str],
                  ) -> tuple[list[Miss], dict[str, list[Miss]]]:
    """The closure audit's misses by loadability: those of files that were ``loaded`` (paths
    on Lambda), and the others by file (``build`` and ``check`` judge them the same way)."""
    used = [m for m in closure.misses if m.file in loaded]
    others: dict[str, list[Miss]] = {}
    for m in closure.misses:
        if m.file not in loaded:
            others.setdefault(m.file, []).append(m)
    return used, dict(sorted(others.items()))


def unloaded_reason(misses: Sequence[Miss], syslibs: SystemLibraries) -> str:
    """What one file's misses mean when nothing proven to run loads it."""
    libs = ", ".join(m.soname for m in misses)
    who = f" (from {misses[0].distribution})" if misses[0].distribution else ""
    return f"needs {libs}, which Lambda's {syslibs.runtime} does not provide{who}"


#: The reason of a module that no longer imports because ``--trace`` cut what it needs.
TRACE_CUT = "removed by --trace: the workload never imported it"


def split_trace_cut(broke: Sequence[str], essential: Collection[str], *,
                    strict: bool = False) -> tuple[list[str], list[str]]:
    """The items the ``trace`` rule broke -> (refused, cut by the trace).

    A trace is a cut by usage the user asked for, and its own stage proved that the trimmed
    layer still runs the workloads and imports every module they reached: a module that
    stops importing only once the trace rule is applied is one the workload never imported.
    So it does not refuse the layer; it is reported as cut by the trace. The verdict's
    promises still hold: the essential items (requested distributions' own imports, smoke
    scripts) are refused whichever rule broke them, and ``strict`` (every public module must
    import) refuses them all. Other rules' failures never come here."""
    refused = [i for i in broke if strict or i.startswith(SMOKE_PREFIX) or i in essential]
    return refused, [i for i in broke if i not in refused]


def trace_cut_failures(errors: Mapping[str, str], cut: Mapping[str, Sequence[tuple[str, int]]]
                       ) -> list[OptionalFailure]:
    """Optional failures for modules the trace cut (``errors``: item -> its error in the
    traced layer; ``cut``: item -> the trace's removals its error points at, path and
    bytes), each naming what the trace removed and how to keep it."""
    out = []
    for item, err in sorted(errors.items()):
        files = cut.get(item, ())
        what = ""
        if files:
            where = posixpath.commonpath([p for p, _b in files]) if len(files) > 1 \
                else files[0][0]
            what = (f"; rule `trace` removed {where or 'its files'} ({len(files)} file"
                    f"{'s' if len(files) != 1 else ''}, {human(sum(b for _p, b in files))})"
                    f"{f', --keep {where} keeps it' if where else ''}")
        out.append(OptionalFailure(item, f"{TRACE_CUT} ({classify(err).describe()}){what}"))
    return out


def judge_closure(closure: ClosureResult, loaded: Collection[str], syslibs: SystemLibraries,
                  *, verified: bool, dropped: Mapping[str, int] | None = None,
                  ) -> list[OptionalFailure]:
    """The closure audit judged by loadability: the misses of files a requested import or a
    smoke script loaded (``loaded``: paths on Lambda) are an error (exit 4), and so are all
    of them when nothing was verified (nothing shows what loads); the others are optional
    parts, each naming the file and the library (``dropped``: path on Lambda -> bytes the
    ``unloadable`` rule removes)."""
    if closure.ok:
        return []
    used, others = split_closure(closure, loaded)
    if used or not verified:
        raise closure_error(ClosureResult(closure.checked, tuple(used or closure.misses)),
                            syslibs)
    dropped = dropped or {}
    out = []
    for file, misses in others.items():
        gone = (f"; removed by rule `unloadable` ({human(dropped[file])})" if file in dropped
                else "")
        out.append(OptionalFailure(file, f"{unloaded_reason(misses, syslibs)}; no requested "
                                   f"import or smoke script loads it{gone}"))
    return out


def measure(tp: TargetPython, paths: Sequence[Path], modules: Sequence[str],
            report: VerifyReport, progress: Progress, *, smoke_rss: int | None,
            memory_mb: int | None, runs: int = 3) -> None:
    """Fill ``report.init_ms``/``max_rss_bytes``; warn over the init limit; with
    ``memory_mb``, fail (exit 5) when the peak does not fit."""
    layer, extra = paths[0], tuple(paths[1:])

    def run(argv: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
        return tp.run(argv, layer=layer, paths=extra, cwd=layer, timeout=timeout)

    got = measure_init(run, modules, [tp.inside(p, layer=layer, paths=extra) for p in paths],
                       environment=tp.isolation.name, runs=runs) if modules else None
    peaks = [p for p in (smoke_rss,) if p is not None]
    if isinstance(got, Measurement):
        report.init_ms = got.init_ms
        peaks.append(got.max_rss_bytes)
        if got.over_init_limit:
            msg = (f"importing {', '.join(modules)} takes {got.init_ms / 1000:.1f} s in a fresh "
                   f"interpreter, over Lambda's {INIT_LIMIT_MS / 1000:.0f} s init limit: cold "
                   "starts would time out (import lazily, or trim the layer)")
            report.warnings.append(msg)
            progress.note(msg)
    elif got is not None:
        report.warnings.append(f"init time not measured: the timing run failed "
                               f"(exit {got.returncode}): {got.output[-200:]}")
    report.max_rss_bytes = max(peaks) if peaks else None
    if memory_mb is not None and report.max_rss_bytes is not None \
            and report.max_rss_bytes > memory_mb * 1024 * 1024:
        raise VerifyError(
            f"Peak memory {human(report.max_rss_bytes)} ({report.max_rss_bytes:,} bytes, "
            f"imports and smoke scripts in the {report.environment}) does not fit a function "
            f"of --memory {memory_mb} MB.",
            hint="Give the function more memory (--memory and the function's setting), or "
                 "import less at start.")
