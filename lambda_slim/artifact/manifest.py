"""The removal manifest beside each layer zip, and reading back from it a build's target and
what its verification proved (:class:`BuildProof`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError


def manifest_path(zip_path: Path) -> Path:
    """The build's sidecar manifest beside a zip: ``layer.zip`` -> ``layer.manifest.json``."""
    return zip_path.with_name(f"{zip_path.stem}.manifest.json")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(
            f"Cannot read the build manifest/report {path}: {exc}.",
            hint="Rebuild to regenerate it, delete it, or pass --runtime and --arch.",
        ) from None


def read_target_json(path: Path) -> tuple[str, str] | None:
    """``(runtime, arch)`` from the ``"target"`` object of a build manifest or JSON report;
    None when the file does not exist. Raises :class:`InputError` when it is unreadable."""
    if not path.is_file():
        return None
    doc = _read_json(path)
    target = doc.get("target") if isinstance(doc, dict) else None
    if not isinstance(target, dict) or not isinstance(target.get("runtime"), str) \
            or not isinstance(target.get("arch"), str):
        raise InputError(
            f"{path} has no \"target\" object with \"runtime\" and \"arch\".",
            hint="Rebuild to regenerate it, delete it, or pass --runtime and --arch.",
        )
    return target["runtime"], target["arch"]


#: Verification results under which a build proved its layer (``verify.status``).
PROVEN = ("passed", "repaired")


@dataclass(frozen=True)
class BuildProof:
    """What a build's verification proved about the zip it wrote (the manifest's ``verify``
    section, see ``report.jsonio.manifest_verify``)."""

    manifest: Path
    #: the zip the manifest describes: a proof holds only for that very zip
    zip_sha256: str | None
    status: str  # "passed" | "repaired" | "failed" | "skipped"
    environment: str  # where the probes ran: "sandbox", "host", "sandbox+qemu-aarch64", ...
    strict: bool
    system_libs: tuple[str, ...]
    #: zip members the requested imports, smoke scripts and handler loaded; None: not reported
    loaded_native_files: tuple[str, ...] | None

    @property
    def verified(self) -> bool:
        """Did the build run the layer and see what its imports load?"""
        return self.status in PROVEN and self.loaded_native_files is not None


def _strings(value: object) -> tuple[str, ...] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def read_build_proof(path: Path) -> BuildProof | None:
    """The ``verify`` section of the build manifest at ``path``; None when there is no
    manifest or it has no such section (manifests before it). Raises :class:`InputError`
    when the section is malformed."""
    if not path.is_file():
        return None
    doc = _read_json(path)
    v = doc.get("verify") if isinstance(doc, dict) else None
    if v is None:
        return None
    v = v if isinstance(v, dict) else {}
    status, environment, strict = v.get("status"), v.get("environment"), v.get("strict")
    system_libs = _strings(v.get("system_libs"))
    loaded = v.get("loaded_native_files")
    loaded_files = None if loaded is None else _strings(loaded)
    if not isinstance(status, str) or not isinstance(environment, str) \
            or not isinstance(strict, bool) or system_libs is None \
            or (loaded is not None and loaded_files is None):
        raise InputError(
            f"{path} has a malformed \"verify\" section (status, environment, strict, "
            "system_libs and loaded_native_files, as lambda-slim build writes them).",
            hint="Rebuild to regenerate it, or delete it (check then judges the zip alone).")
    sha = doc.get("zip_sha256")
    return BuildProof(path, sha if isinstance(sha, str) else None, status, environment, strict,
                      system_libs, loaded_files)
