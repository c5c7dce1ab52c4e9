"""The ``dist-info`` rule: installer records and long descriptions in ``*.dist-info``."""

from __future__ import annotations

from collections.abc import Iterable
from email.parser import HeaderParser

from ..tree.inventory import is_license
from ..tree.staging import PlanEntry
from .context import PruneContext, Rule

_DIST_INFO_DROP = {
    "RECORD", "INSTALLER", "REQUESTED", "WHEEL", "direct_url.json", "zip-safe",
    "RECORD.jws", "RECORD.p7s", "dependency_links.txt", "namespace_packages.txt",
}
_METADATA_KEEP = {
    "metadata-version", "name", "version", "requires-python", "requires-dist",
    "provides-extra", "license", "license-expression", "license-file", "dynamic",
}

def minimal_metadata(text: str) -> str:
    """Headers that importlib.metadata and dependency checks read; no description."""
    msg = HeaderParser().parsestr(text, headersonly=True)
    lines = [f"{k}: {v}" for k, v in msg.items() if k.lower() in _METADATA_KEEP]
    return "\n".join(lines) + "\n"


def rule_dist_info(ctx: PruneContext) -> Iterable[PlanEntry]:
    inv = ctx.inventory
    for dist in inv.dists.values():
        prefix = dist.dist_info + "/"
        for rel in dist.files:
            if not rel.startswith(prefix):
                continue
            sub = rel[len(prefix):]
            base = sub.rsplit("/", 1)[-1]
            if sub.startswith(("licenses/", "license_files/")) or is_license(base):
                continue
            if sub in _DIST_INFO_DROP:
                yield PlanEntry(rel, "dist-info", inv.sizes[rel])
            elif sub == "METADATA":
                src = inv.root / rel
                new = minimal_metadata(src.read_text(encoding="utf-8", errors="replace"))
                encoded = new.encode("utf-8")
                if len(encoded) < inv.sizes[rel]:
                    out = ctx.work_dir / "metadata" / dist.dist_info / "METADATA"
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_bytes(encoded)
                    yield PlanEntry(rel, "dist-info", inv.sizes[rel], out, len(encoded))


RULE = Rule(
    "dist-info",
    "RECORD, WHEEL, INSTALLER, … and METADATA's long description; keeps a minimal "
    "METADATA, entry_points.txt and licenses so importlib.metadata keeps working",
    rule_dist_info,
    order=40,
)
