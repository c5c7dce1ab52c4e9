"""Overflow: pack whole distributions into zips inside the layer, unpacked into /tmp at start.

When no safe pruning brings a layer under Lambda's 262,144,000-byte limit, the largest
distributions that the handler does not need to start are packed into one deflated zip each
under ``python/.lambda-slim-overflow/`` (their ``.dist-info`` stays in place, so
``importlib.metadata`` keeps working), and :mod:`lambda_slim.artifact.overflow_boot` is copied
into the layer with a ``.pth`` line that runs it when Lambda's runtime adds ``/opt/python`` as
a site directory. See that module for the start-up mechanism and its limits.

The limit counts the archive's own bytes, so the plan compresses candidates for real and stops
as soon as the projected layer fits; the ``/tmp`` space the unpacked tree needs is reported
against Lambda's default ephemeral storage (512 MB; up to 10,240 MB).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import zipfile
from collections.abc import Collection, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from . import overflow_boot

FOLDER = overflow_boot.FOLDER
MANIFEST = overflow_boot.MANIFEST
BOOT_MODULE = "_lambda_slim_overflow"
PTH_NAME = "00-lambda-slim-overflow.pth"
PTH_LINE = f"import {BOOT_MODULE}; {BOOT_MODULE}.activate()\n"
#: Lambda's ephemeral storage: 512 MB by default, configurable up to 10,240 MB
#: (https://docs.aws.amazon.com/lambda/latest/dg/configuration-ephemeral-storage.html).
#: Judged conservatively: a need fits the default if it is under 512 * 10**6 bytes.
def is_overflow_file(rel: str) -> bool:
    """Whether ``rel`` (a layer path below ``python/``) is one ``--overflow`` adds: an
    archive, its manifest, the boot module or the ``.pth`` line that starts it."""
    return (rel.startswith(FOLDER + "/") or rel == PTH_NAME
            or rel.split("/", 1)[0] in (BOOT_MODULE, BOOT_MODULE + ".py"))


TMP_DEFAULT_MB = 512
TMP_MAX_MB = 10240
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
COMPRESSIONS = {"deflate": zipfile.ZIP_DEFLATED, "lzma": zipfile.ZIP_LZMA}


@dataclass(frozen=True)
class Candidate:
    """A distribution as overflow sees it: payload = its files outside ``.dist-info``."""

    name: str
    version: str
    payload: tuple[str, ...]
    bytes: int
    top_level: tuple[str, ...]
    excluded: str | None = None  # why it must stay unpacked in the layer


@dataclass(frozen=True)
class PackedDist:
    name: str
    version: str
    bytes: int  # unpacked payload bytes (leave the layer, land in /tmp)
    archive: str  # file name under FOLDER
    archive_bytes: int
    files: int
    sha256: str


@dataclass(frozen=True)
class Ephemeral:
    """The ``/tmp`` space the unpacked tree needs, against Lambda's ephemeral storage."""

    needed_bytes: int

    @property
    def fits_default(self) -> bool:
        return self.needed_bytes < TMP_DEFAULT_MB * 10**6

    @property
    def fits_max(self) -> bool:
        return self.needed_bytes < TMP_MAX_MB * 10**6

    @property
    def recommended_mb(self) -> int:
        """The EphemeralStorage size to configure: the need plus 10% and 64 MB for the app."""
        return max(TMP_DEFAULT_MB, math.ceil(self.needed_bytes * 1.1 / 10**6) + 64)


@dataclass(frozen=True)
class OverflowPlan:
    packed: tuple[PackedDist, ...]
    candidates: tuple[Candidate, ...]
    before_bytes: int
    after_bytes: int
    budget: int
    compression: str
    work_dir: Path
    overhead_bytes: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def fits(self) -> bool:
        return self.after_bytes <= self.budget

    @property
    def ephemeral(self) -> Ephemeral:
        return Ephemeral(sum(p.bytes for p in self.packed))


def _module_bytecode(payload: Collection[str], sizes: Mapping[str, int]) -> list[str]:
    """The compiled ``__pycache__/mod.*.pyc`` of each single-module file (``six.py``) in
    ``payload``: RECORD never lists them, and left behind they would be dead bytes."""
    stems = {r[:-3] for r in payload if "/" not in r and r.endswith(".py")}
    return [r for r in sizes if r.startswith("__pycache__/") and r.endswith(".pyc")
            and r.split("/", 1)[1].split(".", 1)[0] in stems]


def candidates(
    dists: Sequence[tuple[str, str, str, Sequence[str]]],
    sizes: Mapping[str, int],
    startup: Collection[str] | None = None,
) -> list[Candidate]:
    """Judge each ``(name, version, dist_info, files)``; eligible ones largest first.

    Kept in the layer: distributions with a ``.pth`` file (it runs at start-up, before the
    archives are unpacked), namespace packages and top-level names shared with another
    distribution (half a package cannot move), and any top-level module the ``--smoke`` run
    imported at start (``startup``).
    """
    owners: dict[str, set[str]] = {}
    for name, _v, dist_info, files in dists:
        for rel in files:
            if not rel.startswith(dist_info + "/"):
                owners.setdefault(rel.split("/", 1)[0], set()).add(name)
    out: list[Candidate] = []
    for name, version, dist_info, files in dists:
        payload = tuple(sorted(r for r in files if not r.startswith(dist_info + "/")
                               and r in sizes))
        tops = sorted({r.split("/", 1)[0] for r in payload})
        modules = tuple(sorted({t.split(".", 1)[0] for t in tops
                                if not t.endswith((".libs", ".data")) and t != "bin"}))
        why = None
        if any(r.endswith(".pth") and "/" not in r for r in payload):
            why = "has a .pth file, which runs at start-up before anything is unpacked"
        elif shared := sorted(t for t in tops if len(owners.get(t, ())) > 1):
            others = sorted(owners[shared[0]] - {name})
            why = f"shares {shared[0]}/ with {', '.join(others)}"
        elif ns := [t for t in tops if "." not in t and any(r.startswith(t + "/") for r in payload)
                    and f"{t}/__init__.py" not in payload]:
            why = f"{ns[0]}/ is a namespace package (no __init__.py)"
        elif startup and (hit := sorted(set(modules) & set(startup))):
            why = f"the --smoke run imports {hit[0]} at start"
        elif not payload:
            why = "nothing to pack"
        payload = tuple(sorted({*payload, *_module_bytecode(payload, sizes)}))
        out.append(Candidate(name, version, payload, sum(sizes[r] for r in payload),
                             modules, why))
    out.sort(key=lambda c: (c.excluded is not None, -c.bytes, c.name))
    return out


def pack_one(root: Path, cand: Candidate, dest: Path, compression: str = "deflate",
             level: int = 9) -> PackedDist:
    """Write ``cand``'s payload into ``dest/<name>.zip``: sorted, fixed times and modes."""
    method = COMPRESSIONS[compression]
    out = dest / f"{cand.name}.zip"
    tmp = dest / f".{cand.name}.zip.tmp"
    with zipfile.ZipFile(tmp, "w", compression=method, compresslevel=level) as zf:
        for rel in cand.payload:
            src = root / rel
            info = zipfile.ZipInfo(rel, date_time=_ZIP_EPOCH)
            info.compress_type = method
            mode = 0o755 if os.stat(src).st_mode & 0o111 else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.create_system = 3
            info.file_size = os.path.getsize(src)
            with open(src, "rb") as fh, zf.open(info, "w", force_zip64=info.file_size > 2**31) as w:
                shutil.copyfileobj(fh, w, 1 << 20)
    os.replace(tmp, out)
    h = hashlib.sha256()
    with open(out, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return PackedDist(cand.name, cand.version, cand.bytes, out.name, out.stat().st_size,
                      len(cand.payload), h.hexdigest())


def _overhead(n: int) -> int:
    boot = Path(overflow_boot.__file__).stat().st_size
    return boot + len(PTH_LINE) + 600 + 300 * n  # manifest: ~300 bytes a distribution


def plan_overflow(
    root: Path,
    cands: Sequence[Candidate],
    layer_bytes: int,
    budget: int,
    work_dir: Path,
    *,
    compression: str = "deflate",
    jobs: int = 4,
) -> OverflowPlan:
    """Pack eligible candidates, largest first, until the projected layer fits ``budget``.

    Candidates are compressed for real (``jobs`` at a time) because the archive's bytes count
    toward the limit; archives beyond the one that made it fit are discarded.
    """
    if compression not in COMPRESSIONS:
        raise InputError(f"Unknown overflow compression {compression!r}.",
                         hint=f"Use one of: {', '.join(COMPRESSIONS)}.")
    work_dir.mkdir(parents=True, exist_ok=True)
    eligible = [c for c in cands if c.excluded is None]
    packed: list[PackedDist] = []
    after = layer_bytes
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        queue: list[Future[PackedDist]] = []
        it: Iterator[Candidate] = iter(eligible)

        def top_up() -> None:
            while len(queue) < max(1, jobs):
                nxt = next(it, None)
                if nxt is None:
                    return
                queue.append(pool.submit(pack_one, root, nxt, work_dir, compression))

        top_up()
        while queue and after > budget:
            done = queue.pop(0).result()
            packed.append(done)
            after = layer_bytes - sum(p.bytes for p in packed) \
                + sum(p.archive_bytes for p in packed) + _overhead(len(packed))
            top_up()
        for fut in queue:
            fut.cancel()
    keep = {p.archive for p in packed}
    for f in work_dir.iterdir():
        if f.name not in keep:
            f.unlink()
    return OverflowPlan(tuple(packed), tuple(cands), layer_bytes, after, budget, compression,
                        work_dir, _overhead(len(packed)) if packed else 0)


def manifest_for(plan: OverflowPlan) -> dict[str, object]:
    """The ``manifest.json`` the boot module reads; ``key`` names the unpacked tree in /tmp."""
    key = hashlib.sha256("".join(p.sha256 for p in plan.packed).encode()).hexdigest()[:16]
    tops = sorted({t for c in plan.candidates for t in c.top_level
                   if c.name in {p.name for p in plan.packed}})
    return {
        "format": 1, "key": key, "compression": plan.compression,
        "unpacked_bytes": sum(p.bytes for p in plan.packed),
        "top_level": tops,
        "archives": [{"file": p.archive, "bytes": p.archive_bytes, "sha256": p.sha256,
                      "dist": f"{p.name}=={p.version}", "unpacked_bytes": p.bytes,
                      "files": p.files} for p in plan.packed],
    }


def apply_overflow(root: Path, plan: OverflowPlan) -> list[str]:
    """Move the archives into the layer, delete the packed files, add boot module and .pth.

    Returns the layer-relative files removed from the tree (for the manifest).
    """
    if not plan.packed:
        return []
    folder = root / FOLDER
    folder.mkdir(exist_ok=True)
    for p in plan.packed:
        os.replace(plan.work_dir / p.archive, folder / p.archive)
    removed: list[str] = []
    dirs: set[Path] = set()
    names = {p.name for p in plan.packed}
    for c in plan.candidates:
        if c.name in names:
            for rel in c.payload:
                (root / rel).unlink()
                removed.append(rel)
                dirs.update((root / rel).parents)
    for d in sorted((d for d in dirs if d != root and root in d.parents),
                    key=lambda d: -len(d.parts)):
        if d.is_dir() and not any(d.iterdir()):
            d.rmdir()
    (folder / MANIFEST).write_text(json.dumps(manifest_for(plan), indent=1, sort_keys=True) + "\n")
    shutil.copyfile(overflow_boot.__file__, root / f"{BOOT_MODULE}.py")
    (root / PTH_NAME).write_text(PTH_LINE)
    return sorted(removed)


def lambda_start_code(layer: str) -> str:
    """Python that sets up ``sys.path`` as Lambda's ``/var/runtime/bootstrap.py`` does for a
    layer mounted at ``layer`` (normally ``/opt/python``), for verification probes."""
    return (
        "import site, sys\n"
        f"_l = {layer!r}\n"
        "_s = _l + '/lib/python%d.%d/site-packages' % sys.version_info[:2]\n"
        "sys.path.insert(0, _l); sys.path.insert(0, _s)\n"
        "site.addsitedir(_s); site.addsitedir(_l)\n"
    )


@dataclass(frozen=True)
class StartRun:
    init_ms: float
    max_rss_bytes: int
    overflow_state: str


@dataclass
class OverflowOutcome:
    plan: OverflowPlan
    environment: str
    startup: list[str] | None
    before: StartRun | None = None
    after: StartRun | None = None
    samples_before: list[float] = field(default_factory=list)
    samples_after: list[float] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
