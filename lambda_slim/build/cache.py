"""The content-addressed result cache: an identical rebuild reuses the previous zip.

The key hashes every field of the build's configuration except an explicit list (outputs,
caches, parallelism: see :func:`unkeyed_fields`), the inputs by content (requirements and their
includes, workload scripts and every file in their folders, a function package's code and
layers), the tool version and report format, strip and the interpreter; ``--refresh`` or
``--no-result-cache`` bypass it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import fields, replace
from pathlib import Path

from .. import __version__
from ..artifact.atomic import atomic_copy, atomic_write_text, require_parent, sha256_file
from ..errors import LambdaSlimError
from ..inputs.config import BuildConfig
from ..inputs.requirements import Requirements
from ..inputs.settings import SETTINGS
from ..report.jsonio import REPORT_REVISION, dumps_report, report_from_json, report_json
from ..report.model import CachedBuild, LayerReport
from ..resolve.install import RESOLVER_VERSION
from ..target.python import Interpreter
from .function import function_code

#: Files in a workload's folder larger than this are keyed by size and mtime, not content.
_HASH_LIMIT = 16 << 20


def _folder_digest(folder: Path, skip: set[Path]) -> str:
    """Every file below a workload script's folder (data it reads, helper packages), except
    hidden folders, ``__pycache__`` and this build's own outputs."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__"
                             and Path(dirpath, d).resolve() not in skip)
        for name in sorted(filenames):
            f = Path(dirpath, name)
            if f.resolve() in skip:
                continue
            try:
                st = f.stat()
                big = st.st_size > _HASH_LIMIT
                digest = f"{st.st_size}:{st.st_mtime_ns}" if big else sha256_file(f)
            except OSError as exc:
                digest = f"unreadable:{exc.errno}"
            h.update(f"{f.relative_to(folder)}\0{digest}\0".encode())
    return h.hexdigest()


#: BuildConfig fields that are no setting of their own and stay out of the key, with why.
#: Settings say so in their declaration (``Setting.cached``); every other field is hashed, so a
#: new field is part of the key unless it is listed here or declared ``cached=False``.
NOT_KEYED: Mapping[str, str] = {
    "layer": "the layer table's name; the settings it gives are keyed",
    "create_output_dir": "whether the output folder may be created, not what is in the zip",
    "html_path": "the HTML report the CLI writes after the build, not what is in the zip",
}
#: Fields keyed by what they point at, not by their path (the same project built from another
#: folder, e.g. SAM's scratch copy, is the same build).
BY_CONTENT = ("requirements", "smoke", "trace", "function", "layer_zips", "event")


def unkeyed_fields() -> frozenset[str]:
    """Every BuildConfig field the key leaves out or keys by content."""
    declared = {s.config_field for s in SETTINGS if not s.cached and s.config_field}
    return frozenset(declared | set(NOT_KEYED) | set(BY_CONTENT))


def _stable(value: object) -> object:
    """A form of ``value`` whose repr does not depend on the process (sets are ordered)."""
    if isinstance(value, (set, frozenset)):
        return sorted(_stable(v) for v in value)  # type: ignore[type-var]
    if isinstance(value, (list, tuple)):
        return [_stable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def result_key(config: BuildConfig, reqs: Requirements, strip: str | None,
               interpreter: Interpreter | None, environment: str | None = None) -> str:
    """Everything that can change the layer, its proof or its verdict, hashed: every field of
    the config but those :func:`unkeyed_fields` names, the inputs by content (requirements,
    workloads and every file beside them, a function's code and layers), tool versions, and
    where layer code runs (a host-verified build does not stand in for a sandbox-verified one)."""
    h = hashlib.sha256()

    def add(*parts: object) -> None:
        for p in parts:
            h.update(repr(p).encode() + b"\0")

    add(__version__, RESOLVER_VERSION, REPORT_REVISION, reqs.digest, strip,
        str(interpreter.path) if interpreter else None,
        interpreter.version if interpreter else None, environment)
    skipped = unkeyed_fields()
    for f in fields(config):
        if f.name not in skipped:
            add(f.name, _stable(getattr(config, f.name)))
    if config.function is not None:  # a function package: its code, layers and event
        if config.event is not None and config.event.is_file():
            add("event", sha256_file(config.event))
        for rel, real in function_code(config).sources.items():
            add(rel, hashlib.sha256(real.read_bytes()).hexdigest())
        for z in config.layer_zips:
            add(z.resolve(), sha256_file(z))
    skip = {p.resolve() for p in (config.output, config.manifest_path(), config.json_path,
                                  config.cache_dir) if p is not None}
    for script in (*config.smoke, *config.trace):
        add(str(script.resolve()), _folder_digest(script.resolve().parent, skip))
    return h.hexdigest()[:32]


def restore_cached(config: BuildConfig, key: str, t0: float) -> CachedBuild | None:
    """Copy an identical earlier build's outputs into place; None when there is none (or
    it is unreadable, or written by another report schema)."""
    entry = config.cache_dir / "results" / key
    try:
        stored = report_from_json(json.loads((entry / "report.json").read_text()))
        manifest = (entry / "manifest.json").read_text()
    except (OSError, ValueError, KeyError, TypeError, LambdaSlimError):
        return None
    zip_src = entry / "layer.zip"
    if (stored.zip is None or not zip_src.is_file()
            or sha256_file(zip_src) != stored.zip.sha256):
        return None
    atomic_copy(zip_src, config.output)
    # The verdict is the current budget's, whatever the cached build was judged against.
    report = replace(stored, zip=replace(stored.zip, path=str(config.output)), cached=True,
                     budget_bytes=config.budget,
                     timings={"total": round(time.perf_counter() - t0, 3)})
    write_sidecars(config, report, manifest)
    return CachedBuild(report, key)


def store_cached(config: BuildConfig, key: str, report: LayerReport, manifest: str) -> None:
    results = config.cache_dir / "results"
    results.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=results))
    try:
        try:  # the zip's bytes once more would cost a build ~60 MB of writing
            os.link(config.output, tmp / "layer.zip")  # (restore checks its sha256 anyway)
        except OSError:
            shutil.copyfile(config.output, tmp / "layer.zip")
        (tmp / "report.json").write_text(json.dumps(report_json(report)))
        (tmp / "manifest.json").write_text(manifest)
        dest = results / key
        if dest.exists():
            shutil.rmtree(dest, ignore_errors=True)
        os.replace(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_sidecars(config: BuildConfig, report: LayerReport, manifest: str) -> None:
    """The removal manifest beside the zip and, if asked, the JSON report (both atomic)."""
    atomic_write_text(config.manifest_path(), manifest)
    if config.json_path is not None:
        require_parent(config.json_path, "--json")
        atomic_write_text(config.json_path, dumps_report(report))
