"""When a build is still over budget: what could bring it under, ranked by measured bytes.

Every figure is measured on this build: the bytes the kept originals of variants hold, CUDA
payloads a kept library links, what a trace of the smoke scripts would remove, what overflow
would pack (compressed for real, and unpacked once to time it), and which requested
distribution a second function could take along with what only it needs. A container image
(10 GB) is always the last row.
"""

from __future__ import annotations

import tempfile
import time
import zipfile
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from ..artifact.overflow import OverflowOutcome, candidates, plan_overflow
from ..inputs.config import BuildConfig
from ..report.model import OptionRow
from ..resolve.depgraph import DistMeta, dependency_graph
from ..resolve.variants import Replacement, variant_table
from ..rules.gpu import GpuDecision
from ..target.runtimes import Target
from ..tree.inventory import Inventory


def payload_dists(inv: Inventory, final: Mapping[str, int]) -> list[tuple[str, str, str, list[str]]]:
    """Each distribution with every final file under its own top-level names (compiled
    ``__pycache__`` files included, which RECORD never lists)."""
    tops: dict[str, set[str]] = {}
    for d in inv.dists.values():
        tops[d.name] = {f.split("/", 1)[0] for f in d.files if not f.startswith(d.dist_info + "/")}
    by_top: dict[str, list[str]] = {}
    for rel in final:
        by_top.setdefault(rel.split("/", 1)[0], []).append(rel)
    out = []
    for d in inv.dists.values():
        files = {f for f in d.files if f in final}
        for t in tops[d.name]:
            files.update(by_top.get(t, ()))
        out.append((d.name, d.version, d.dist_info, sorted(files)))
    return out


def _exclusive_bytes(inv: Inventory, final: Mapping[str, int], requested: Collection[str],
                     target: Target) -> list[tuple[str, int, list[str]]]:
    """Per requested distribution: the bytes of it and of what only it needs (what a second
    function could take out of this layer)."""
    metas = []
    for d in inv.dists.values():
        try:
            text = (inv.root / d.dist_info / "METADATA").read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        reqs = tuple(ln.split(":", 1)[1].strip() for ln in text.splitlines()
                     if ln.startswith("Requires-Dist:"))
        metas.append(DistMeta(d.name, d.version, reqs))
    env = target.marker_environment()
    by_owner: dict[str, int] = {}
    for rel, size in final.items():
        o = inv.owner.get(rel)
        if o:
            by_owner[o] = by_owner.get(o, 0) + size
    roots = [n for n in requested if n in inv.dists]
    out = []
    for r in roots:
        others, _rev = dependency_graph(metas, [n for n in roots if n != r], env)
        mine, _rev2 = dependency_graph(metas, [r], env)
        only = sorted(set(mine) - set(others))
        out.append((r, sum(by_owner.get(n, 0) for n in only), only))
    return sorted(out, key=lambda t: -t[1])


def over_budget_options(
    config: BuildConfig, inv: Inventory, root: Path, final: Mapping[str, int],
    requested: Collection[str], gpu: Sequence[GpuDecision], trace_potential: int | None,
    replacements: Sequence[Replacement], overflow: OverflowOutcome | None, work: Path,
) -> list[OptionRow]:
    """What could bring an over-budget layer under budget, ranked by measured bytes saved;
    a container image last."""
    total = sum(final.values())
    over = total - config.budget
    opts: list[OptionRow] = []
    names = set(inv.dists)
    originals = [v for v in variant_table(config.variant).values() if v.original in names]
    held = [r for r in replacements if r.skipped]
    if (originals and not config.variants) or held:
        who = sorted({v.original for v in originals} | {r.original for r in held})
        size = sum(final[f] for n in who for f in inv.dists[n].files if f in final)
        opts.append(OptionRow("variants", size, False,
                              "drop --no-variants / pin a version the variant publishes",
                              f"{', '.join(who)} hold {size:,} bytes; their CPU/headless "
                              "variants are smaller"))
    kept = [d for d in gpu if not d.dropped]
    if kept:
        opts.append(OptionRow("gpu payloads", sum(d.bytes for d in kept), False,
                              "replace the package that links them by a CPU build",
                              "; ".join(f"{d.name}: {d.reason}" for d in kept)))
    if trace_potential is not None:
        opts.append(OptionRow("trace", trace_potential, False, "--trace SCRIPT",
                              "files the smoke run never touched"))
    if overflow is None:
        cands = candidates(payload_dists(inv, final), final, None)
        plan = plan_overflow(root, cands, total, config.budget, work / "options",
                             jobs=config.workers)
        with tempfile.TemporaryDirectory(prefix="unpack-", dir=work) as tmp:
            t0 = time.perf_counter()
            for p in plan.packed:
                with zipfile.ZipFile(plan.work_dir / p.archive) as zf:
                    zf.extractall(tmp)
            unpack_ms = round((time.perf_counter() - t0) * 1000.0, 1)
        opts.append(OptionRow("overflow", total - plan.after_bytes, False, "--overflow", (
            f"would pack {', '.join(p.name for p in plan.packed) or 'nothing'}; "
            f"{plan.after_bytes:,} bytes ({'fits' if plan.fits else 'still over'}); "
            f"needs {plan.ephemeral.needed_bytes:,} bytes of /tmp; unpacking took "
            f"{unpack_ms:.0f} ms here (added to init time)")))
    for name, size, only in _exclusive_bytes(inv, final, requested, config.target)[:3]:
        opts.append(OptionRow("second function", size, False,
                              f"move {name} to another function",
                              f"{name} and what only it needs ({', '.join(only)})"))
    opts.sort(key=lambda o: -o.bytes)
    ranked = [replace(o, enough=o.bytes >= over) for o in opts]
    ranked.append(OptionRow("container image", total, True,
                            "package the function as a container image (up to 10 GB)",
                            "the last resort: no layer size limit, slower first cold start"))
    return ranked
