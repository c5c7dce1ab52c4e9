"""The removal manifest beside each layer zip, and reading a build's target back from it."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import InputError


def manifest_path(zip_path: Path) -> Path:
    """The build's sidecar manifest beside a zip: ``layer.zip`` -> ``layer.manifest.json``."""
    return zip_path.with_name(f"{zip_path.stem}.manifest.json")


def read_target_json(path: Path) -> tuple[str, str] | None:
    """``(runtime, arch)`` from the ``"target"`` object of a build manifest or JSON report;
    None when the file does not exist. Raises :class:`InputError` when it is unreadable."""
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(
            f"Cannot read the build manifest/report {path}: {exc}.",
            hint="Rebuild to regenerate it, delete it, or pass --runtime and --arch.",
        ) from None
    target = doc.get("target") if isinstance(doc, dict) else None
    if not isinstance(target, dict) or not isinstance(target.get("runtime"), str) \
            or not isinstance(target.get("arch"), str):
        raise InputError(
            f"{path} has no \"target\" object with \"runtime\" and \"arch\".",
            hint="Rebuild to regenerate it, delete it, or pass --runtime and --arch.",
        )
    return target["runtime"], target["arch"]
