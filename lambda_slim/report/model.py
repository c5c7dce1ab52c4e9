"""The typed results of a build, and the report every output is made from.

:func:`lambda_slim.build.job.build` returns a :class:`BuildResult` (a fresh build) or a
:class:`CachedBuild` (an identical earlier build reused); :func:`lambda_slim.build.job.plan_build`
returns a :class:`BuildPlan` (``--dry-run`` and ``lambda-slim trace``). Each carries a typed
:class:`LayerReport` (or the plan); the versioned JSON is written from these by
:mod:`lambda_slim.report.jsonio` alone, and the CLI renders them without reading a dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..native.borrow import Borrowed
from ..resolve.variants import Replacement
from ..rules.gpu import GpuDecision
from ..target.runtimes import Target
from ..tree.staging import PlanEntry
from ..verify.probes import VerifyReport
from ..verify.trace import TraceInfo
from .files import FileTree


@dataclass(frozen=True)
class ZipInfo:
    path: str
    bytes: int
    sha256: str


@dataclass(frozen=True)
class WheelRow:
    name: str
    version: str
    filename: str
    sha256: str


@dataclass(frozen=True)
class PackageRow:
    name: str
    version: str
    installed_bytes: int
    final_bytes: int
    saved_bytes: int
    trace_bytes: int
    budget_share: float
    #: what its files add to the zip (None when no zip was written)
    zip_bytes: int | None = None


@dataclass(frozen=True)
class RuleRow:
    name: str
    files: int
    bytes: int


@dataclass(frozen=True)
class FileRow:
    """One file of the layer (``python/...``), its size and owning distribution."""

    path: str
    bytes: int
    package: str


@dataclass(frozen=True)
class IdenticalGroup:
    bytes: int
    paths: tuple[str, ...]


@dataclass(frozen=True)
class StripSkip:
    path: str
    reason: str


@dataclass(frozen=True)
class TraceSummary:
    """The trace rule in a report: what it did (``run``), byte-identical files, and what a
    trace of the smoke scripts would save when the rule is off (``potential_*``)."""

    enabled: bool
    run: TraceInfo | None = None
    identical_files: tuple[IdenticalGroup, ...] = ()
    potential_files: int | None = None
    potential_bytes: int | None = None


@dataclass(frozen=True)
class VariantsSummary:
    """What the variants table did: replacements, distributions left out, orphaned pins."""

    enabled: bool = True
    replacements: tuple[Replacement, ...] = ()
    dropped: Mapping[str, str] = field(default_factory=dict)
    orphans: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PackedRow:
    """A distribution ``--overflow`` packed: unpacked and archive bytes, its archive in the
    layer (``python/.lambda-slim-overflow/…``)."""

    name: str
    version: str
    bytes: int
    archive: str
    archive_bytes: int
    files: int
    sha256: str


@dataclass(frozen=True)
class TmpNeed:
    """The ``/tmp`` the unpacked tree needs, against Lambda's ephemeral storage (MB)."""

    needed_bytes: int
    default_mb: int
    max_mb: int
    fits_default: bool
    recommended_mb: int


@dataclass(frozen=True)
class OverflowSummary:
    """``--overflow``: what was packed (and what could not be), the /tmp it needs, init time
    without and with (median and samples, where it was measured)."""

    packed: tuple[PackedRow, ...]
    excluded: Mapping[str, str]
    before_bytes: int
    after_bytes: int
    budget: int
    fits: bool
    compression: str
    archive_bytes: int
    ephemeral: TmpNeed
    environment: str
    startup_modules: tuple[str, ...] | None
    init_ms_without: float | None
    init_ms_with: float | None
    samples_ms_without: tuple[float, ...]
    samples_ms_with: tuple[float, ...]
    max_rss_bytes_with: int | None
    verified: bool

    @property
    def needed_tmp_bytes(self) -> int:
        return self.ephemeral.needed_bytes


@dataclass(frozen=True)
class HandlerRow:
    """``--handler``: whether it imported as Lambda would, and where that ran."""

    handler: str
    ok: bool
    environment: str
    error: str | None


@dataclass(frozen=True)
class LayerRow:
    """A ``--layer-zip`` of a function package: its unzipped bytes and distributions."""

    path: str
    unzipped_bytes: int
    dists: tuple[str, ...]


@dataclass(frozen=True)
class FunctionSummary:
    """``--function``: the code, the handler check, the layers and what they provide."""

    source: str
    code_files: int
    handler: HandlerRow | None
    layers: tuple[LayerRow, ...]
    layers_bytes: int
    limit_bytes: int
    provided_by_layers: tuple[str, ...]
    shadowing_layers: tuple[str, ...]
    with_project: bool
    #: files of the folder not shipped, and why (.env*, this build's own outputs)
    left_out: tuple[str, ...] = ()


@dataclass(frozen=True)
class BytecodeSummary:
    """The bytecode a build added (``--compile``): how many modules, how many bytes, and why
    those (``left_as_source``: modules compiled for verification, then shipped as source)."""

    mode: str  # "imported" | "all" | "traced" | "none"
    modules: int
    bytes: int
    left_as_source: int = 0
    left_as_source_bytes: int = 0
    why: str = ""


@dataclass(frozen=True)
class OptionRow:
    """Over budget: one way to bring it under, by measured bytes
    (:func:`lambda_slim.build.alternatives.over_budget_options`)."""

    option: str
    bytes: int
    enough: bool
    how: str
    detail: str


@dataclass(frozen=True)
class LayerReport:
    """Everything a build reports, fresh or reused from the result cache."""

    target: Target
    requirements_path: str
    requested: tuple[str, ...]
    budget_bytes: int
    installed_bytes: int
    final_bytes: int
    compiled_bytes: int
    files: int
    zip: ZipInfo | None
    resolved: tuple[WheelRow, ...]
    packages: tuple[PackageRow, ...]
    rules: tuple[RuleRow, ...]
    verify: VerifyReport
    strip_skipped: tuple[StripSkip, ...]
    tests_kept: tuple[str, ...]
    largest_files: tuple[FileRow, ...]
    trace: TraceSummary
    advice: tuple[str, ...]
    timings: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    cached: bool = False
    #: the input's format ("requirements.txt", "uv.lock", ...) and whether its pins were
    #: installed exactly (a lock: --no-deps)
    requirements_kind: str = "requirements.txt"
    locked: bool = False
    #: locked pins installed without a hash check (the lock has no sha256 for them)
    unverified: tuple[str, ...] = ()
    variants: VariantsSummary = field(default_factory=VariantsSummary)
    #: the ``gpu`` rule's verdict on each CUDA payload and orphaned pin
    gpu: tuple[GpuDecision, ...] = ()
    #: the requirement lines as given
    requirement_lines: tuple[str, ...] = ()
    #: each installed distribution's Requires-Dist lines naming another installed one
    requires: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: per-file sizes and fates for the HTML treemap (shape: :mod:`lambda_slim.report.files`)
    tree: FileTree = field(default_factory=dict)
    overflow: OverflowSummary | None = None
    function: FunctionSummary | None = None
    #: missing system libraries served by copies other wheels vendor (in the zip's lib/)
    borrowed: tuple[Borrowed, ...] = ()
    over_budget_options: tuple[OptionRow, ...] = ()
    bytecode: BytecodeSummary | None = None

    @property
    def within_budget(self) -> bool:
        return self.final_bytes <= self.budget_bytes

    @property
    def over_budget(self) -> bool:
        return not self.within_budget


@dataclass(frozen=True)
class BuildResult:
    """A fresh build: the zip, its removal manifest and the report were written."""

    report: LayerReport
    removed: tuple[PlanEntry, ...]

    @property
    def over_budget(self) -> bool:
        return self.report.over_budget


@dataclass(frozen=True)
class CachedBuild:
    """An identical earlier build's outputs, copied into place from the result cache."""

    report: LayerReport
    key: str

    @property
    def over_budget(self) -> bool:
        return self.report.over_budget


@dataclass(frozen=True)
class BuildPlan:
    """What a build would do, with nothing written: ``--dry-run`` (the rules' plan and the
    strip candidates) or a trace preview (the trace rule's plan on the rule-pruned layer,
    with that layer's report)."""

    mode: str  # "dry-run" | "trace"
    budget_bytes: int
    entries: tuple[PlanEntry, ...]
    strip_candidates: tuple[str, ...] = ()
    #: the rule-pruned layer as measured (trace previews only)
    report: LayerReport | None = None
    #: the trace rule's removals with their owners (trace previews only)
    trace_plan: tuple[FileRow, ...] = ()

    @property
    def over_budget(self) -> bool:
        return self.report.over_budget if self.report is not None else False


BuildOutcome = BuildResult | CachedBuild | BuildPlan
