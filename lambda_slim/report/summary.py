"""A fresh build's facts -> its typed :class:`LayerReport` (size rows, rules, advice)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from ..artifact.overflow import FOLDER, TMP_DEFAULT_MB, TMP_MAX_MB, OverflowOutcome, is_overflow_file
from ..artifact.zipwrite import ArchiveResult
from ..inputs.config import BuildConfig
from ..inputs.requirements import Requirements
from ..native.borrow import Borrowed
from ..resolve.install import Resolution
from ..rules import RULES
from ..rules.gpu import GpuDecision
from ..rules.plan import summarize
from ..sizes import DIRECT_UPLOAD_LIMIT, human
from ..tree.inventory import Inventory, owner_of
from ..tree.staging import PlanEntry
from ..verify.probes import VerifyReport
from .files import OVERFLOW, Change, fate_tree
from .model import (
    BytecodeSummary,
    FileRow,
    FunctionSummary,
    LayerReport,
    OptionRow,
    OverflowSummary,
    PackageRow,
    PackedRow,
    RuleRow,
    StripSkip,
    TmpNeed,
    TraceSummary,
    VariantsSummary,
    WheelRow,
    ZipInfo,
)


@dataclass
class LayerFacts:
    """What the build stages produced, before it is summarised into a report."""

    config: BuildConfig
    requirements: Requirements
    resolution: Resolution
    inventory: Inventory
    plan: list[PlanEntry]
    verify: VerifyReport
    final_sizes: dict[str, int]
    compiled_bytes: int
    archive: ArchiveResult | None
    trace: TraceSummary
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    strip_skipped: list[tuple[str, str]] = field(default_factory=list)
    tests_kept: list[str] = field(default_factory=list)
    gpu: list[GpuDecision] = field(default_factory=list)
    #: ``--overflow``: what was packed, the /tmp it needs, init time without and with
    overflow: OverflowOutcome | None = None
    #: a function package's handler, layers and what they provide (``--function``)
    function: FunctionSummary | None = None
    #: missing system libraries served by copies of libraries other wheels vendor
    borrowed: list[Borrowed] = field(default_factory=list)
    #: files placed in the layer's lib/ (Lambda's /opt/lib): zip path -> bytes
    lib_sizes: dict[str, int] = field(default_factory=dict)
    #: over budget: what could bring it under, ranked by measured bytes
    options: list[OptionRow] = field(default_factory=list)
    #: the bytecode added (``--compile``) and why those modules
    bytecode: BytecodeSummary | None = None

    @property
    def final_bytes(self) -> int:
        return sum(self.final_sizes.values()) + sum(self.lib_sizes.values())

    @property
    def over_budget(self) -> bool:
        return self.final_bytes > self.config.budget


def package_rows(facts: LayerFacts) -> list[PackageRow]:
    inv = facts.inventory
    installed = inv.bytes_by_dist()
    final: dict[str, int] = {}
    for rel, size in facts.final_sizes.items():
        o = owner_of(rel, inv.owner)
        final[o] = final.get(o, 0) + size
    zipped: dict[str, int] = {}
    for arc, size in (facts.archive.compressed if facts.archive else {}).items():
        o = owner_of(arc.removeprefix("python/"), inv.owner)
        zipped[o] = zipped.get(o, 0) + size
    traced: dict[str, int] = {}
    for e in facts.plan:
        if e.rule == "trace":
            o = owner_of(e.rel, inv.owner)
            traced[o] = traced.get(o, 0) + e.saved
    rows: list[PackageRow] = []
    for name in sorted(set(installed) | set(final)):
        d = inv.dists.get(name)
        before = installed.get(name, 0)
        after = final.get(name, 0)
        rows.append(PackageRow(
            name=d.display_name if d else name, version=d.version if d else "",
            installed_bytes=before, final_bytes=after, saved_bytes=before - after,
            trace_bytes=traced.get(name, 0),
            budget_share=round(after / facts.config.budget, 6),
            zip_bytes=zipped.get(name, 0) if facts.archive else None,
        ))
    rows.sort(key=lambda r: (-r.final_bytes, r.name))
    return rows


def rule_rows(plan: Sequence[PlanEntry], compiled: int,
              enabled: frozenset[str] = frozenset(RULES)) -> list[RuleRow]:
    summary = summarize(plan)
    rows = [RuleRow(r, *summary.get(r, (0, 0)))
            for r in [*RULES, "trace"] if r in summary or r in enabled]
    rows.append(RuleRow("compile (added)", 0, -compiled))
    return rows


def largest_files(facts: LayerFacts, n: int = 10) -> list[FileRow]:
    top = sorted(facts.final_sizes.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    prefix = "" if facts.config.function else "python/"  # a function's files sit at the root
    return [FileRow(prefix + rel, size, owner_of(rel, facts.inventory.owner))
            for rel, size in top]


def advice(facts: LayerFacts) -> list[str]:
    names = set(facts.inventory.dists)
    bd = facts.inventory.bytes_by_dist()
    out = []
    nccl = sorted(n for n in names if n.startswith("nvidia-nccl"))
    if "xgboost" in names and nccl and not facts.config.variants:
        size = sum(bd.get(n, 0) for n in nccl)
        out.append(
            f"xgboost on Linux pulls {', '.join(nccl)} ({human(size)}), the GPU collective "
            "library; Lambda has no GPU. Drop --no-variants to install `xgboost-cpu` instead: "
            "same API, no NCCL."
        )
    if names & {"torch", "tensorflow", "jax", "jaxlib"}:
        out.append("Deep-learning frameworks rarely fit a layer; consider a Lambda container "
                   "image (10 GB limit) or an inference-only runtime such as onnxruntime.")
    rp = names & {"boto3", "botocore"} & set(facts.requirements.requested)
    if rp:
        out.append(f"{', '.join(sorted(rp))} ship with the Lambda runtime; drop them from the "
                   "requirements unless you need a newer release than the runtime's.")
    if facts.over_budget and not facts.options:
        out.append("Over budget: try `--trace smoke.py` to drop what your workload never "
                   "touches, or split the dependencies across two functions.")
    if facts.archive and facts.archive.zip_bytes > DIRECT_UPLOAD_LIMIT:
        out.append("The zip is over 50 MB: publish it through S3 (lambda-slim publish "
                   "--s3-bucket …).")
    return out


def requires_graph(facts: LayerFacts) -> dict[str, tuple[str, ...]]:
    """Each installed distribution's Requires-Dist lines that name another installed one:
    the edges ``why`` walks (markers and extras kept, so it can say which one applied)."""
    dists = facts.inventory.dists
    out: dict[str, tuple[str, ...]] = {}
    for name, d in sorted(dists.items()):
        edges = []
        for line in d.requires:
            try:
                req = Requirement(line)
            except InvalidRequirement:
                continue
            if canonicalize_name(req.name) in dists and canonicalize_name(req.name) != name:
                edges.append(line)
        if edges:
            out[name] = tuple(edges)
    return out


def file_tree(facts: LayerFacts) -> dict[str, object]:
    """The per-file sizes and fates the HTML report draws (see :mod:`.files`): the plan's
    removals and replacements, and what ``--overflow`` packed away and added."""
    inv = facts.inventory
    changes: list[Change] = [(e.rel, e.rule, e.bytes, e.new_bytes if e.replacement else None)
                             for e in facts.plan]
    if facts.overflow is not None:
        changes += [(rel, OVERFLOW, inv.sizes[rel], None) for rel in facts.overflow.removed
                    if rel in inv.sizes]  # (packed bytecode has no installed size: left out)
        changes += [(rel, OVERFLOW, 0, size) for rel, size in facts.final_sizes.items()
                    if rel not in inv.sizes and is_overflow_file(rel)]
    return fate_tree(lambda rel: owner_of(rel, inv.owner), inv.sizes, facts.final_sizes,
                     changes)


def layer_report(facts: LayerFacts) -> LayerReport:
    cfg = facts.config
    arc = facts.archive
    return LayerReport(
        target=cfg.target,
        requirements_path=str(facts.requirements.path),
        requested=tuple(sorted(facts.requirements.requested)),
        budget_bytes=cfg.budget,
        installed_bytes=facts.inventory.total,
        final_bytes=facts.final_bytes,
        compiled_bytes=facts.compiled_bytes,
        files=len(facts.final_sizes) + len(facts.lib_sizes),
        zip=ZipInfo(str(arc.path), arc.zip_bytes, arc.sha256) if arc else None,
        resolved=tuple(WheelRow(w.name, w.version, w.filename, w.sha256)
                       for w in facts.resolution.wheels),
        packages=tuple(package_rows(facts)),
        rules=tuple(rule_rows(facts.plan, facts.compiled_bytes, cfg.rules)),
        verify=facts.verify,
        strip_skipped=tuple(StripSkip(p, r) for p, r in facts.strip_skipped),
        tests_kept=tuple(facts.tests_kept),
        largest_files=tuple(largest_files(facts)),
        trace=facts.trace,
        advice=tuple(advice(facts)),
        timings=dict(facts.timings),
        notes=tuple(facts.notes),
        requirements_kind=facts.requirements.kind,
        locked=facts.requirements.no_deps,
        unverified=facts.requirements.unverified,
        variants=VariantsSummary(cfg.variants, tuple(facts.resolution.replacements),
                                 dict(facts.resolution.dropped), dict(facts.resolution.orphans)),
        gpu=tuple(facts.gpu),
        requirement_lines=tuple(facts.requirements.lines),
        requires=requires_graph(facts),
        tree=file_tree(facts),
        overflow=overflow_summary(facts.overflow) if facts.overflow else None,
        function=facts.function,
        borrowed=tuple(facts.borrowed),
        over_budget_options=tuple(facts.options),
        bytecode=facts.bytecode,
    )


def overflow_summary(o: OverflowOutcome) -> OverflowSummary:
    """The report's view of what ``--overflow`` did."""
    plan, eph = o.plan, o.plan.ephemeral
    return OverflowSummary(
        packed=tuple(PackedRow(p.name, p.version, p.bytes, f"{FOLDER}/{p.archive}",
                               p.archive_bytes, p.files, p.sha256) for p in plan.packed),
        excluded={c.name: c.excluded for c in plan.candidates if c.excluded},
        before_bytes=plan.before_bytes, after_bytes=plan.after_bytes, budget=plan.budget,
        fits=plan.fits, compression=plan.compression,
        archive_bytes=sum(p.archive_bytes for p in plan.packed),
        ephemeral=TmpNeed(eph.needed_bytes, TMP_DEFAULT_MB, TMP_MAX_MB, eph.fits_default,
                          eph.recommended_mb),
        environment=o.environment,
        startup_modules=tuple(o.startup) if o.startup is not None else None,
        init_ms_without=o.before.init_ms if o.before else None,
        init_ms_with=o.after.init_ms if o.after else None,
        samples_ms_without=tuple(o.samples_before), samples_ms_with=tuple(o.samples_after),
        max_rss_bytes_with=o.after.max_rss_bytes if o.after else None,
        verified=o.after is not None and o.after.overflow_state == "unpacked",
    )
