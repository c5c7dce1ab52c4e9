"""What changed in size between two builds: totals, distributions, versions and rules.

Each side is a build report (``build --json``), a build manifest (``<zip>.manifest.json``)
or a layer zip. Reports and manifests know each distribution's unzipped and zipped bytes
(the zipped bytes are the compressed sizes of its files); a zip whose manifest is not beside
it is measured by top-level folder, which is what an older or foreign zip allows.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from ..artifact.manifest import manifest_path
from ..artifact.zipread import read_zip_listing
from ..errors import InputError
from ..sizes import human, parse_size
from .jsonio import (
    JsonFieldError,
    ManifestSizes,
    bad_report,
    is_report,
    manifest_from_json,
    parse_json,
    report_from_json,
)
from .markdown import code, text
from .model import LayerReport


@dataclass(frozen=True)
class DistSize:
    name: str  # as displayed
    version: str
    unzipped: int
    zipped: int | None


@dataclass(frozen=True)
class Snapshot:
    """One side of a diff, whatever file it was read from."""

    source: str
    kind: str  # "report" | "manifest" | "zip"
    unzipped: int
    zipped: int | None
    dists: Mapping[str, DistSize]  # canonical name -> size
    rules: Mapping[str, int]  # rule -> bytes it saved (empty when unknown)
    target: str


@dataclass(frozen=True)
class DistChange:
    key: str
    old: DistSize | None
    new: DistSize | None

    @property
    def status(self) -> str:
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        if self.old.version != self.new.version:
            return "version"
        return "changed" if self.d_unzipped or self.d_zipped else "same"

    @property
    def name(self) -> str:
        return (self.new or self.old or DistSize(self.key, "", 0, None)).name

    @property
    def version_label(self) -> str:
        """``added 1.2``, ``removed 1.2``, ``1.1 → 1.2`` or the unchanged version."""
        old, new = self.old.version if self.old else "", self.new.version if self.new else ""
        return {"added": f"added {new}", "removed": f"removed {old}",
                "version": f"{old} → {new}"}.get(self.status, new)

    @property
    def d_unzipped(self) -> int:
        return (self.new.unzipped if self.new else 0) - (self.old.unzipped if self.old else 0)

    @property
    def d_zipped(self) -> int | None:
        a = self.old.zipped if self.old else 0
        b = self.new.zipped if self.new else 0
        return None if a is None or b is None else b - a


@dataclass(frozen=True)
class RuleChange:
    name: str
    old: int
    new: int


@dataclass(frozen=True)
class SizeDiff:
    old: Snapshot
    new: Snapshot
    dists: tuple[DistChange, ...]  # changed ones first, largest change first
    rules: tuple[RuleChange, ...]

    @property
    def d_unzipped(self) -> int:
        return self.new.unzipped - self.old.unzipped

    @property
    def d_zipped(self) -> int | None:
        if self.old.zipped is None or self.new.zipped is None:
            return None
        return self.new.zipped - self.old.zipped

    @property
    def changed(self) -> tuple[DistChange, ...]:
        return tuple(c for c in self.dists if c.status != "same")


@dataclass(frozen=True)
class Growth:
    """A ``--fail-on-growth`` limit: bytes (``5MiB``) or a percentage (``2%``) of OLD."""

    text: str
    bytes: int | None = None
    percent: float | None = None

    def exceeded(self, diff: SizeDiff) -> bool:
        grown = diff.d_unzipped
        if self.bytes is not None:
            return grown > self.bytes
        assert self.percent is not None
        return grown > diff.old.unzipped * self.percent / 100


def parse_growth(text: str) -> Growth:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*%\s*", text)
    if m:
        return Growth(text, percent=float(m.group(1)))
    try:
        return Growth(text, bytes=parse_size(text) if text.strip() != "0" else 0)
    except InputError:
        raise InputError(
            f"--fail-on-growth {text!r} is neither a size nor a percentage.",
            hint="Write a size (0, 500KiB, 5MiB, 1000000) or a percentage of the old size (2%).",
        ) from None


def compare(old: Snapshot, new: Snapshot) -> SizeDiff:
    keys = sorted(set(old.dists) | set(new.dists))
    changes = [DistChange(k, old.dists.get(k), new.dists.get(k)) for k in keys]
    changes.sort(key=lambda c: (c.status == "same", -abs(c.d_unzipped), c.name))
    rules = tuple(RuleChange(r, old.rules.get(r, 0), new.rules.get(r, 0))
                  for r in dict.fromkeys([*old.rules, *new.rules]))
    return SizeDiff(old, new, tuple(changes), rules)


def from_report(rep: LayerReport, source: str) -> Snapshot:
    """A ``build --json`` report (schema 1), read and checked by :mod:`.jsonio`."""
    dists = {str(canonicalize_name(p.name)): DistSize(p.name, p.version, p.final_bytes, p.zip_bytes)
             for p in rep.packages}
    rules = {r.name: r.bytes for r in rep.rules if r.name != "compile (added)"}
    return Snapshot(source, "report", rep.final_bytes, rep.zip.bytes if rep.zip else None,
                    dists, rules, f"{rep.target.runtime.name} {rep.target.arch}")


def from_manifest(m: ManifestSizes, source: str,
                  zip_sizes: tuple[int, int | None] | None = None) -> Snapshot:
    """A build manifest; its ``packages`` carry the sizes (manifests before this release
    only list removals: then the zip beside it gives the totals)."""
    dists = {str(canonicalize_name(p.name)): DistSize(p.name, p.version, p.final_bytes,
                                                      p.zip_bytes) for p in m.packages}
    unzipped, zipped = zip_sizes or (None, None)
    if m.final_bytes is not None:
        unzipped = m.final_bytes
    if m.zip_bytes is not None:
        zipped = m.zip_bytes
    if unzipped is None:
        raise InputError(
            f"{source} is a build manifest without sizes (written by an older lambda-slim), "
            "and its zip is not beside it.",
            hint="Diff the zip or the JSON report (build --json) instead, or rebuild.",
        )
    return Snapshot(source, "manifest", unzipped, zipped, dists, dict(m.removed_by_rule),
                    m.target or "?")


def read_manifest(doc: Mapping[str, Any], source: Path | str) -> ManifestSizes:
    """A manifest's sizes, or an InputError naming the file and the field that is wrong."""
    try:
        return manifest_from_json(doc)
    except JsonFieldError as exc:
        raise InputError(
            f"Cannot read the build manifest {source}: {exc.describe()}.",
            hint="Pass the <zip>.manifest.json the build wrote, unedited, or diff the zip "
            "or the JSON report instead.") from None


def from_zip_entries(entries: list[tuple[str, int, int]], zipped: int, source: str,
                     manifest: ManifestSizes | None) -> Snapshot:
    """A layer zip of ``zipped`` bytes: ``(name, unzipped, compressed)`` per file. With the
    build manifest beside it, its per-distribution sizes; without, sizes by top-level folder."""
    unzipped = sum(e[1] for e in entries)
    if manifest is not None and manifest.packages:
        snap = from_manifest(manifest, source, (unzipped, zipped))
        return Snapshot(source, "zip", unzipped, zipped, snap.dists, snap.rules, snap.target)
    versions: dict[str, tuple[str, str]] = {}
    groups: dict[str, list[int]] = {}
    for name, size, csize in entries:
        rest = name[len("python/"):] if name.startswith("python/") else name
        top = rest.split("/", 1)[0]
        m = re.fullmatch(r"(.+?)-([^-]+)\.dist-info", top)
        if m:
            versions[canonicalize_name(m.group(1))] = (m.group(1), m.group(2))
            top = m.group(1)
        elif "/" not in rest:
            top = top.split(".", 1)[0]
        else:
            top = re.sub(r"\.(libs|data)$", "", top)
        acc = groups.setdefault(canonicalize_name(top), [0, 0])
        acc[0] += size
        acc[1] += csize
    dists = {k: DistSize(versions.get(k, (k, ""))[0], versions.get(k, ("", ""))[1], u, z)
             for k, (u, z) in groups.items()}
    rules = dict(manifest.removed_by_rule) if manifest else {}
    target = (manifest.target if manifest else None) or "?"
    return Snapshot(source, "zip", unzipped, zipped, dists, rules, target)


def read_json(path: Path) -> dict[str, Any]:
    try:
        doc = parse_json(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"Cannot read {path}: {exc}.",
            hint="Pass a build report (build --json), a build manifest or a layer zip.",
        ) from None
    except JsonFieldError as exc:
        raise InputError(
            f"Cannot read {path}: {exc.describe()}.",
            hint="Pass a build report (build --json), a build manifest or a layer zip.",
        ) from None
    if not isinstance(doc, dict):
        raise InputError(f"{path} is not a lambda-slim report or manifest (not a JSON object).",
                         hint="Pass a build report (build --json), a manifest or a layer zip.")
    return doc


def from_json(doc: Mapping[str, Any], source: str, zip_sizes: tuple[int, int | None] | None
              ) -> Snapshot:
    if is_report(doc):
        try:
            return from_report(report_from_json(doc), source)
        except JsonFieldError as exc:
            raise bad_report(source, exc) from None
    if "removed" in doc:
        return from_manifest(read_manifest(doc, source), source, zip_sizes)
    raise InputError(
        f"{source} is neither a build report nor a build manifest (no \"packages\"/"
        "\"final_bytes\" and no \"removed\" key).",
        hint="Pass the file written by `build --json`, the <zip>.manifest.json beside a zip, "
        "or the zip itself. (`check --json` reports are not build reports.)",
    )


def load_snapshot(path: Path) -> Snapshot:
    """Read one side of a diff from a report, a manifest or a zip (detected by content)."""
    if not path.is_file():
        raise InputError(f"{path} does not exist or is not a file.",
                         hint="Pass a build report (build --json), a build manifest or a zip.")
    if zipfile.is_zipfile(path):
        listing = read_zip_listing(path)
        entries = [(e.name, e.file_size, e.compressed_size) for e in listing.files]
        mpath = manifest_path(path)
        manifest = read_manifest(read_json(mpath), mpath) if mpath.is_file() else None
        return from_zip_entries(entries, listing.zip_bytes, str(path), manifest)
    doc = read_json(path)
    zip_sizes = None
    if "removed" in doc and path.name.endswith(".manifest.json"):
        beside = path.with_name(path.name[: -len(".manifest.json")] + ".zip")
        if beside.is_file():
            listing = read_zip_listing(beside)
            zip_sizes = (listing.unzipped_bytes, listing.zip_bytes)
    return from_json(doc, str(path), zip_sizes)


def signed(n: int | None) -> str:
    """``+1,234`` / ``-56`` bytes, exact; ``n/a`` when one side has no zipped sizes."""
    return "n/a" if n is None else f"{n:+,}"


def _pct(d: int, base: int) -> str:
    if not base:
        return ""
    p = 100 * d / base
    return f" ({'+' if p > 0 else '-'}<0.01%)" if 0 < abs(p) < 0.01 else f" ({p:+.2f}%)"


def markdown(diff: SizeDiff, title: str = "lambda-slim size diff") -> str:
    """The diff as a GitHub-flavoured Markdown comment: totals, then every changed
    distribution with exact byte deltas, then the rules whose savings moved."""
    o, n = diff.old, diff.new
    dz = diff.d_zipped
    lines = [
        f"### {text(title)}", "",
        f"**{signed(diff.d_unzipped)} bytes unzipped{_pct(diff.d_unzipped, o.unzipped)}"
        + (f", {signed(dz)} bytes zipped" if dz is not None else "") + "**  ",
        f"{human(o.unzipped)} → {human(n.unzipped)} unzipped"
        + (f"; {human(o.zipped)} → {human(n.zipped)} zipped"
           if o.zipped is not None and n.zipped is not None else "")
        + f" ({code(o.source)} → {code(n.source)})", "",
    ]
    changed = diff.changed
    if changed:
        lines += ["| distribution | version | unzipped | Δ unzipped (bytes) | Δ zipped (bytes) |",
                  "| --- | --- | ---: | ---: | ---: |"]
        for c in changed:
            size = human(c.new.unzipped) if c.new else "–"
            lines.append(f"| {text(c.name)} | {text(c.version_label)} | {size} | {signed(c.d_unzipped)} | "
                         f"{signed(c.d_zipped)} |")
    else:
        lines.append("No distribution changed size.")
    moved = [r for r in diff.rules if r.old != r.new]
    if moved:
        lines += ["", "| rule | saved before | saved after | Δ (bytes) |",
                  "| --- | ---: | ---: | ---: |"]
        lines += [f"| {text(r.name)} | {human(r.old)} | {human(r.new)} | {signed(r.new - r.old)} |"
                  for r in moved]
    if o.target != n.target:
        lines += ["", f"Target changed: {text(o.target)} → {text(n.target)}."]
    return "\n".join(lines) + "\n"
