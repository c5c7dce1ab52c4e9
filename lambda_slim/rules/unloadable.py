"""The ``unloadable`` rule: native files that can never load on Lambda.

A file whose system library the runtime lacks, that no other file of the layer serves and no
``--system-lib`` declares, fails with "cannot open shared object file" whenever anything
loads it on Lambda (numba's ``omppool`` threading layer needs ``libgomp.so.1``, its
``tbbpool`` ``libtbb.so.12``; numba falls back to ``workqueue``). Which files these are comes
from the closure audit (:mod:`lambda_slim.native.closure`), so this rule plans from its
result, after the audit; the build applies the plan after verification and only when no
requested import and no smoke script loaded the file (such a load is an error instead,
:func:`lambda_slim.verify.verdict.judge_closure`). Removing it changes nothing a function can
do on Lambda; the verdicts were reached with the file in place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..tree.staging import PlanEntry
from .context import Rule, is_kept

NAME = "unloadable"


def plan_unloadable(paths: Iterable[str], sizes: Mapping[str, int], keep: tuple[str, ...],
                    mount: str = "/opt/python") -> list[PlanEntry]:
    """Plan entries for the audit's unloadable files (``paths`` on Lambda, under ``mount``)
    that are in the tree (``sizes``: layer-relative) and not protected by ``--keep``."""
    out = []
    for path in sorted(paths):
        rel = path[len(mount) + 1:] if path.startswith(mount + "/") else None
        if rel is not None and rel in sizes and not is_kept(rel, keep):
            out.append(PlanEntry(rel, NAME, sizes[rel]))
    return out


RULE = Rule(
    NAME,
    "native files that can never load on Lambda (a system library it lacks, served by "
    "nothing in the layer), when no requested import or smoke script loads them",
    None,
    order=95,
)
