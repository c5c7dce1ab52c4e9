"""The closure audit in ``check``, judged by loadability as ``build`` judges it.

A native file whose system library Lambda lacks fails there only when something loads it:
pillow's ``PIL/_imagingtk`` (libtk), numba's ``omppool``/``tbbpool`` threading layers (libgomp,
libtbb) are optional plugins that a function never loads unless it uses them. Which files an
import loads cannot be told from the zip alone, so by default such a file is a warning
(``native-optional-library``). It is an error (``native-missing-library``, exit 4) when a run
showed that something loads it: the verification of the build that made this very zip (its
manifest's ``verify`` section, :class:`~lambda_slim.artifact.manifest.BuildProof`) or
``check --verify``; and every miss is an error with ``--strict``. The split is
:func:`~lambda_slim.verify.verdict.split_closure`, the one ``build`` uses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..native.closure import ClosureResult, Miss, fixes
from ..target.syslibs import SystemLibraries
from ..verify.verdict import split_closure, unloaded_reason
from .model import Finding, top_level_package

MISSING = "native-missing-library"
OPTIONAL = "native-optional-library"


@dataclass(frozen=True)
class Loads:
    """Native files a run showed to be loaded (paths on Lambda), and which run it was."""

    files: frozenset[str]
    #: who proved it, for the messages: "the build's verification (sandbox, layer.manifest.json)"
    by: str
    #: the PATHs (as given to check) whose files the run covers; None: all of them
    origins: frozenset[str] | None = None
    #: the ``--system-lib`` names the run was told another layer provides
    system_libs: tuple[str, ...] = ()
    #: top-level packages whose import failed: the run cannot tell what they would load
    failed: frozenset[str] = frozenset()

    def covers(self, origin: str, file: str) -> bool:
        return (self.origins is None or origin in self.origins) \
            and top_of(file) not in self.failed


def top_of(file: str) -> str:
    """The top-level package a file on Lambda belongs to (``/opt/python/numba/x.so`` ->
    ``numba``, as :func:`~.model.top_level_package` names a zip member); "" outside the
    import roots."""
    if file.startswith("/opt/python/"):
        return top_level_package(file[len("/opt/"):], "layer")
    if file.startswith("/var/task/"):
        return top_level_package(file[len("/var/task/"):], "function")
    return ""


def _error(m: Miss, origin: str, loads: Loads | None) -> Finding:
    why = ""
    if loads is not None:
        why = f"\n    {loads.by} loads it, so it fails on Lambda."
        if m.soname in loads.system_libs:
            why += (f" That build was told another layer provides it (--system-lib "
                    f"{m.soname}): check that layer together with this one, or pass the same "
                    "--system-lib.")
    return Finding("error", MISSING, m.message() + why, origin)


def judge_misses(closure: ClosureResult, origin: Mapping[str, str], syslibs: SystemLibraries,
                 *, strict: bool = False, loads: Sequence[Loads] = ()) -> list[Finding]:
    """Findings for the closure audit's misses (``origin``: path on Lambda -> the PATH it
    came from). A file some run in ``loads`` saw loaded is an error, and so is every miss
    with ``strict``; the other files are warnings, naming the run that judged them, if any."""
    if closure.ok:
        return []
    if strict:
        return [_error(m, origin[m.file], None) for m in closure.misses]
    loaded = frozenset().union(*(x.files for x in loads))
    used, others = split_closure(closure, loaded)
    out = [_error(m, origin[m.file],
                  next((x for x in loads if m.file in x.files), None)) for m in used]
    for file, misses in others.items():
        where = origin[file]
        judged = next((x for x in loads if x.covers(where, file)), None)
        reason = f"{file} {unloaded_reason(misses, syslibs)}"
        if judged is not None:
            text = (f"{reason}; judged optional by {judged.by}: no import or script it ran "
                    "loads this file, so it fails only if a function imports it "
                    "(--strict makes this an error)")
        else:
            unjudged = next((x for x in loads if top_of(file) in x.failed), None)
            how = (f"{unjudged.by} could not tell: `import {top_of(file)}` failed (above)"
                   if unjudged is not None else "or run check --verify")
            text = (f"{reason}. It fails only if something loads it (an optional plugin is "
                    "never loaded unless used); `lambda-slim build` proves which files an "
                    f"import loads ({how}); --strict makes this an error")
        advice = fixes(a for m in misses for a in m.advice)
        out.append(Finding("warning", OPTIONAL,
                           text + (f".\n    If it is used: {advice}." if advice else "."), where))
    return out
