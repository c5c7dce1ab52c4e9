"""The content-addressed result cache: an identical rebuild reuses the previous zip.

The key hashes everything that can change the layer or its verdict (requirements and their
includes, the budget, the target, rules, keep globs, compile mode, workload scripts and every
file in their folders, zip level, timestamp, tool version and report format, strip and
interpreter, a function package's code, layers and handler); ``--refresh`` or
``--no-result-cache`` bypass it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from .. import __version__
from ..artifact.atomic import atomic_copy, atomic_write_text, require_parent, sha256_file
from ..errors import LambdaSlimError
from ..inputs.config import BuildConfig
from ..inputs.requirements import Requirements
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


def result_key(config: BuildConfig, reqs: Requirements, strip: str | None,
               interpreter: Interpreter | None, environment: str | None = None) -> str:
    """Everything that can change the layer, its proof or its verdict, hashed: inputs, budget,
    target, rules, workloads and every file beside them, tool versions, and where layer code
    runs (a host-verified build does not stand in for a sandbox-verified one)."""
    h = hashlib.sha256()

    def add(*parts: object) -> None:
        for p in parts:
            h.update(repr(p).encode() + b"\0")

    add(__version__, RESOLVER_VERSION, REPORT_REVISION, reqs.digest,
        config.target.runtime.name, config.target.arch,
        sorted(config.rules), config.keep, config.compile, config.trace_granularity,
        config.zip_level, config.epoch, config.repair, config.installer, strip,
        str(interpreter.path) if interpreter else None,
        interpreter.version if interpreter else None, config.system_libs,
        config.smoke_timeout, config.memory_mb, config.ephemeral_mb, environment, config.variants,
        config.variant, config.overflow, config.budget, config.require_verify, config.selection,
        config.limit, config.strict, config.runtime_sdk)
    if config.function is not None:  # a function package: its code, layers and handler
        add("function", config.handler, config.with_project, config.budget, config.symlinks)
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
