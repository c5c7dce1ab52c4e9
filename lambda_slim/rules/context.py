"""What a prune rule sees (:class:`PruneContext`) and what it declares (:class:`Rule`)."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..target.sdk import RuntimeSdk
from ..tree.inventory import Inventory
from ..tree.staging import PlanEntry


@dataclass
class PruneContext:
    inventory: Inventory
    requested: frozenset[str]
    work_dir: Path  # scratch space for replacement files (minimal METADATA, stripped .so)
    #: Set by the ``tests`` rule: test modules kept because runtime code imports them.
    tests_kept: list[str] = field(default_factory=list)
    #: ``--keep`` globs (the ``gpu`` rule keeps a whole distribution a glob names).
    keep: tuple[str, ...] = ()
    #: Requirement lines only a replaced original needed: name -> why (from the resolution).
    orphans: Mapping[str, str] = field(default_factory=dict)
    #: Set by the ``gpu`` rule: one ``GpuDecision`` per CUDA payload and orphaned pin.
    gpu: list[Any] = field(default_factory=list)
    #: The SDK a function on the target runtime may meet (``target.sdk``: the runtime's floor,
    #: or ``--runtime-sdk``); None: only requested SDK packages are kept.
    runtime_sdk: RuntimeSdk | None = None
    #: The target's PEP 508 marker environment (dependency lines are judged with it).
    markers: Mapping[str, str] = field(default_factory=dict)
    #: Set by the ``runtime-provided`` rule: why it kept the SDK in the layer (empty: it did not).
    sdk_kept: list[str] = field(default_factory=list)


RuleFn = Callable[[PruneContext], Iterable[PlanEntry]]


@dataclass(frozen=True)
class Rule:
    """A named pruning rule: its ``--no-<name>`` help text, and the function that plans it.

    ``plan`` is None for a rule another stage applies (``strip`` is applied by the native
    strip stage, after the file rules).
    """

    name: str
    help: str
    plan: RuleFn | None
    #: Application order, lowest first: rules that drop whole distributions come first, so
    #: no other rule claims their files.
    order: int


def is_kept(rel: str, keep: tuple[str, ...]) -> bool:
    """``--keep`` globs match the path below python/ or any of its parent folders."""
    if not keep:
        return False
    parts = rel.split("/")
    cands = [rel] + ["/".join(parts[:i]) for i in range(1, len(parts))]
    return any(fnmatch.fnmatchcase(c, g.rstrip("/")) for g in keep for c in cands)
