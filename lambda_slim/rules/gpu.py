"""GPU-only payloads: NVIDIA CUDA runtime wheels no kept ELF links, and pins orphaned by a variant.

Lambda has no GPU, yet ``pip install xgboost`` on Linux brings ``nvidia-nccl-cu13`` (344 MB for
one library) and ``tensorflow[and-cuda]`` a dozen ``nvidia-*`` wheels. A *CUDA payload* is a
distribution whose project name starts with ``nvidia-`` and whose every installed file (outside
its ``.dist-info``) lies under the ``nvidia/`` folder: the layout of NVIDIA's CUDA component
wheels (``nvidia/nccl/lib/libnccl.so.2``, ``nvidia/cu13/lib/libcudart.so.13``,
``nvidia/cuda_runtime/lib/libcudart.so.12``; checked in the wheels' RECORD on PyPI, November
2026). Bindings with Python code of their own (``nvidia-ml-py`` ships ``pynvml``) are not
payloads by this definition and are never dropped here.

A payload is dropped when no kept ELF file names one of its sonames in ``DT_NEEDED``
(transitively: a kept payload's own needs keep others). A library only ``dlopen``'ed is not
visible statically: whether the layer still imports without it is proven by the build's import
verification, which runs after pruning. ``keep`` keeps a payload regardless.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile

from ..tree.staging import PlanEntry
from .context import PruneContext, Rule

PAYLOAD_PREFIX = "nvidia-"
PAYLOAD_FOLDER = "nvidia/"


@dataclass(frozen=True)
class DistFiles:
    """An installed distribution: canonical name, version and its files (layer-relative)."""

    name: str
    version: str
    files: tuple[str, ...]
    dist_info: str = ""


@dataclass(frozen=True)
class GpuDecision:
    name: str
    version: str
    bytes: int
    dropped: bool
    reason: str
    sonames: tuple[str, ...] = ()
    needed_by: tuple[str, ...] = ()  # kept ELF files that link one of its sonames

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name, "version": self.version, "bytes": self.bytes,
            "dropped": self.dropped, "reason": self.reason, "sonames": list(self.sonames),
            "needed_by": list(self.needed_by),
        }


def is_cuda_payload(name: str, files: Iterable[str], dist_info: str = "") -> bool:
    """Whether a distribution is one of NVIDIA's CUDA component wheels (see module doc)."""
    if not name.startswith(PAYLOAD_PREFIX):
        return False
    payload = [f for f in files if not (dist_info and f.startswith(dist_info + "/"))
               and ".dist-info/" not in f]
    return bool(payload) and all(f.startswith(PAYLOAD_FOLDER) for f in payload)


def elf_links(path: Path) -> tuple[str | None, tuple[str, ...]] | None:
    """``(DT_SONAME, DT_NEEDED...)`` of an ELF file; None if ``path`` is not ELF."""
    try:
        with open(path, "rb") as fh:
            if fh.read(4) != b"\x7fELF":
                return None
            fh.seek(0)
            elf = ELFFile(fh)
            soname: str | None = None
            needed: list[str] = []
            for section in elf.iter_sections():
                if isinstance(section, DynamicSection):
                    for tag in section.iter_tags():
                        if tag.entry.d_tag == "DT_NEEDED":
                            needed.append(str(tag.needed))  # type: ignore[attr-defined]
                        elif tag.entry.d_tag == "DT_SONAME":
                            soname = str(tag.soname)  # type: ignore[attr-defined]
            return soname, tuple(needed)
    except (OSError, ELFError, ValueError):
        return None


def _is_shared_name(rel: str) -> bool:
    base = rel.rsplit("/", 1)[-1]
    return base.endswith(".so") or ".so." in base


def plan_gpu(
    root: Path,
    dists: Sequence[DistFiles],
    sizes: Mapping[str, int],
    *,
    keep: Collection[str] = (),
    orphans: Mapping[str, str] | None = None,
) -> list[GpuDecision]:
    """One decision per CUDA payload and per orphaned pin (``orphans``: name -> why).

    ``root`` is the installed tree (``sizes`` its layer-relative file sizes); ``keep`` names
    distributions that stay whatever the analysis says.
    """
    orphans = dict(orphans or {})
    candidates = {d.name: d for d in dists
                  if d.name not in keep and is_cuda_payload(d.name, d.files, d.dist_info)}
    links: dict[str, tuple[str | None, tuple[str, ...]]] = {}
    for d in dists if candidates else ():  # no payload: no ELF needs reading
        for rel in d.files:
            if rel in sizes and (_is_shared_name(rel) or d.name not in candidates):
                info = elf_links(root / rel)
                if info is not None:
                    links[rel] = info
    provides: dict[str, str] = {}  # soname -> candidate
    sonames: dict[str, list[str]] = {n: [] for n in candidates}
    for name, d in candidates.items():
        for rel in d.files:
            if rel in links:
                so = links[rel][0] or rel.rsplit("/", 1)[-1]
                provides[so] = name
                sonames[name].append(so)
    needed_by: dict[str, list[str]] = {n: [] for n in candidates}
    kept: set[str] = set()
    frontier = [rel for d in dists if d.name not in candidates and d.name not in orphans
                for rel in d.files if rel in links]
    while frontier:
        nxt: list[str] = []
        for rel in frontier:
            for so in links[rel][1]:
                owner = provides.get(so)
                if owner is None:
                    continue
                needed_by[owner].append(rel)
                if owner not in kept:
                    kept.add(owner)
                    nxt += [r for r in candidates[owner].files if r in links]
        frontier = nxt
    out: list[GpuDecision] = []
    for name, d in sorted(candidates.items()):
        size = sum(sizes.get(r, 0) for r in d.files)
        sos = tuple(sorted(set(sonames[name])))
        if name in kept:
            users = tuple(sorted(set(needed_by[name])))
            out.append(GpuDecision(name, d.version, size, False,
                                   f"kept: {users[0]} links {', '.join(sos)} (DT_NEEDED)",
                                   sos, users))
        else:
            what = ", ".join(sos) if sos else "its files"
            out.append(GpuDecision(name, d.version, size, True,
                                   f"CUDA-only payload; no kept ELF links {what} (DT_NEEDED)",
                                   sos))
    for d in dists:
        if d.name in orphans and d.name not in candidates and d.name not in keep:
            size = sum(sizes.get(r, 0) for r in d.files)
            out.append(GpuDecision(d.name, d.version, size, True, orphans[d.name]))
    return out


def dropped_files(decisions: Iterable[GpuDecision], dists: Sequence[DistFiles]) -> list[str]:
    """Every file of the dropped distributions (their .dist-info too), sorted."""
    gone = {d.name for d in decisions if d.dropped}
    return sorted(rel for d in dists if d.name in gone for rel in d.files)


def _kept_by_glob(d: DistFiles, keep: tuple[str, ...]) -> bool:
    """``--keep`` keeps a whole distribution: a glob naming it, or any of its files/folders."""
    for g in keep:
        g = g.rstrip("/")
        if fnmatch.fnmatchcase(d.name, g):
            return True
        for rel in d.files:
            parts = rel.split("/")
            if any(fnmatch.fnmatchcase("/".join(parts[:i]), g) for i in range(1, len(parts) + 1)):
                return True
    return False


def rule_gpu(ctx: PruneContext) -> Iterable[PlanEntry]:
    inv = ctx.inventory
    dists = [DistFiles(d.name, d.version, d.files, d.dist_info) for d in inv.dists.values()]
    keep = {d.name for d in dists if _kept_by_glob(d, ctx.keep)}
    decisions = plan_gpu(inv.root, dists, inv.sizes, keep=keep, orphans=ctx.orphans)
    ctx.gpu[:] = decisions
    for rel in dropped_files(decisions, dists):
        yield PlanEntry(rel, "gpu", inv.sizes.get(rel, 0))


RULE = Rule(
    "gpu",
    "NVIDIA CUDA runtime wheels (nvidia-*) no kept ELF links, and pins only a replaced "
    "original needed (--keep NAME keeps one)",
    rule_gpu,
    order=5,
)
