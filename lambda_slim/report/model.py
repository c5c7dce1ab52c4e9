"""The typed result of a build: what every report (JSON, tables, manifest) is made from."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..artifact.zipwrite import ArchiveResult
from ..fit import OverflowOutcome
from ..inputs.config import BuildConfig
from ..inputs.requirements import Requirements
from ..native.borrow import Borrowed
from ..native.elf import NativeFile
from ..resolve.install import Resolution
from ..rules.gpu import GpuDecision
from ..tree.inventory import Inventory
from ..tree.staging import PlanEntry
from ..verify.probes import VerifyReport


@dataclass
class BuildResult:
    config: BuildConfig
    requirements: Requirements
    resolution: Resolution
    inventory: Inventory
    plan: list[PlanEntry]
    natives: list[NativeFile]
    verify: VerifyReport
    final_sizes: dict[str, int]
    compiled_bytes: int
    archive: ArchiveResult | None
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    strip_skipped: list[tuple[str, str]] = field(default_factory=list)
    tests_kept: list[str] = field(default_factory=list)
    trace: dict[str, object] = field(default_factory=dict)
    #: the ``gpu`` rule's verdict on each CUDA payload and orphaned pin
    gpu: list[GpuDecision] = field(default_factory=list)
    #: ``--overflow``: what was packed, the /tmp it needs, init time without and with
    overflow: OverflowOutcome | None = None
    #: a function package's handler, layers and what they provide (``--function``)
    function: dict[str, object] = field(default_factory=dict)
    #: missing system libraries served by copies of libraries other wheels vendor
    borrowed: list[Borrowed] = field(default_factory=list)
    #: files placed in the layer's lib/ (Lambda's /opt/lib): zip path -> bytes
    lib_sizes: dict[str, int] = field(default_factory=dict)
    #: over budget: what could bring it under, ranked by measured bytes (fit.over_budget_options)
    options: list[dict[str, object]] = field(default_factory=list)

    @property
    def final_bytes(self) -> int:
        return sum(self.final_sizes.values()) + sum(self.lib_sizes.values())

    @property
    def over_budget(self) -> bool:
        return self.final_bytes > self.config.budget
