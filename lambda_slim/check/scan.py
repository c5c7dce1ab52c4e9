"""The CI gate: sizes from zips' central directories, verdicts.

Several PATHs are one function with its layers; Lambda's limit applies to their unzipped sum.
Nothing is extracted to disk: sizes come from the central directory; every entry is inflated in
memory, in bounded chunks and then dropped, only to prove its data matches its declared size
and CRC; native files are kept in memory for the native and closure audits shared with build.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from elftools.common.exceptions import ELFError

from ..artifact.atomic import sha256_file
from ..artifact.manifest import manifest_path, read_build_proof, read_target_json
from ..artifact.zipread import ZipLimits, read_entry, read_zip_listing, verify_entry
from ..artifact.zipwrite import walk_files
from ..errors import InputError
from ..native.closure import ArchiveElfs, LoaderView
from ..native.elf import ElfInfo, check_binary, inspect_elf_stream, sniff
from ..sizes import DEFAULT_BUDGET, DIRECT_UPLOAD_LIMIT, MAX_LAYERS, human
from ..target.runtimes import (
    DEFAULT_ARCH,
    DEFAULT_RUNTIME,
    Target,
    lifecycle_warning,
    parse_target,
)
from ..target.syslibs import runtime_syslibs
from .closure import Loads, judge_misses
from .model import (
    MAX_NATIVE_READ,
    NEAR_BUDGET,
    TOP_PACKAGES,
    CheckReport,
    Finding,
    PackageSize,
    PathReport,
    top_level_package,
)
from .verify import Verifier

#: Top-level folders a layer may use besides python/: /opt/lib is on LD_LIBRARY_PATH,
#: /opt/bin on PATH, /opt/extensions holds Lambda extensions.
_LAYER_EXTRA_DIRS = ("lib/", "bin/", "extensions/")
_MIN_NATIVE = 52  # the smallest ELF header
MAX_RECORD_READ = 16 * 1024 * 1024


@dataclass(frozen=True)
class _File:
    name: str  # posix path as Lambda extracts it (a layer's "python/..." included)
    size: int


def _classify(names: Sequence[str], has_manifest: bool) -> str:
    if has_manifest or any(n.startswith("python/") for n in names):
        return "layer"
    return "function"


def resolve_target(
    paths: Sequence[Path], runtime: str | None, arch: str | None
) -> tuple[Target, str, list[Finding]]:
    """Flags win; otherwise the first zip's build manifest; otherwise python3.12/x86_64."""
    found: list[tuple[Path, tuple[str, str]]] = []
    if runtime is None or arch is None:
        for p in paths:
            if p.suffix == ".zip":
                got = read_target_json(manifest_path(p))
                if got is not None:
                    found.append((manifest_path(p), got))
    findings: list[Finding] = []
    rt, ar = DEFAULT_RUNTIME, DEFAULT_ARCH
    source = "defaults"
    if found:
        first_path, (rt, ar) = found[0]
        source = first_path.name
        for other, got in found[1:]:
            if got != (rt, ar):
                findings.append(Finding(
                    "warning", "target-mismatch",
                    f"{other.name} says {got[0]}/{got[1]} but {first_path.name} says {rt}/{ar}; "
                    "a function and its layers must share one runtime and architecture "
                    f"(checking against {runtime or rt}/{arch or ar})", str(other)))
    if runtime and arch:
        source = "--runtime/--arch"
    elif runtime or arch:
        source += " and flags"
    return parse_target(runtime or rt, arch or ar), source, findings


def _native_problem(kind: str, info: ElfInfo | None, error: str | None, target: Target,
                    name: str, owner: str, shown: str) -> Finding | None:
    prob = check_binary(kind, info, target, name, owner, error)
    if prob is None:
        return None
    return Finding("error", f"native-{prob.kind}", prob.describe(), shown)


def _inspect(kind: str, data: bytes) -> tuple[ElfInfo | None, str | None]:
    if kind != "elf":
        return None, None
    try:
        return inspect_elf_stream(io.BytesIO(data)), None
    except (ELFError, ValueError, AssertionError, KeyError, IndexError, OverflowError,
            struct.error) as exc:
        return None, str(exc) or type(exc).__name__


def _scan_zip(path: Path, limits: ZipLimits | None, target: Target, kind_hint: str | None,
              found: ArchiveElfs) -> tuple[str, list[_File], int, list[Finding]]:
    listing = read_zip_listing(path, limits)
    files = [_File(e.name, e.file_size) for e in listing.files]
    kind = kind_hint or _classify([f.name for f in files], manifest_path(path).is_file())
    findings: list[Finding] = []
    with open(path, "rb") as fh:
        for e in listing.files:
            head = verify_entry(listing, e, fh)
            if e.name.endswith(".dist-info/RECORD") and e.file_size < MAX_RECORD_READ:
                found.add_record(e.name, read_entry(listing, e, fh=fh))
            if e.file_size < _MIN_NATIVE:
                continue
            nkind = sniff(head, e.name.rsplit("/", 1)[-1])
            if nkind is None:
                continue
            shown = f"{path}!{e.name}"
            owner = top_level_package(e.name, kind)
            if nkind == "elf" and e.file_size > MAX_NATIVE_READ:
                findings.append(Finding(
                    "warning", "native-skipped",
                    f"{e.name} ({human(e.file_size)}) is too large to inspect", str(path)))
                continue
            data = read_entry(listing, e, fh=fh) if nkind == "elf" else b""
            info, err = _inspect(nkind, data)
            found.add_elf(e.name, info)
            f = _native_problem(nkind, info, err, target, e.name, owner, shown)
            if f is not None:
                findings.append(Finding(f.level, f.code, f.message, str(path)))
    return kind, files, listing.zip_bytes, findings


def _scan_dir(path: Path, target: Target, kind_hint: str | None,
              found: ArchiveElfs) -> tuple[str, list[_File], list[Finding]]:
    prefix = "python/" if path.name == "python" else ""
    pairs = walk_files(path)
    files = [_File(prefix + rel, p.stat().st_size) for rel, p in pairs]
    kind = kind_hint or _classify([f.name for f in files], False)
    findings: list[Finding] = []
    for (rel, p), f in zip(pairs, files, strict=True):
        try:
            if f.name.endswith(".dist-info/RECORD") and f.size < MAX_RECORD_READ:
                found.add_record(f.name, p.read_bytes())
            if f.size < _MIN_NATIVE:
                continue
            with open(p, "rb") as fh:
                head = fh.read(4)
                nkind = sniff(head, p.name)
                if nkind is None:
                    continue
                fh.seek(0)
                data = fh.read() if nkind == "elf" and f.size <= MAX_NATIVE_READ else b""
        except OSError as exc:
            raise InputError(f"{p} is not readable ({exc.strerror or exc}); check cannot "
                             "judge a folder it cannot read.",
                             hint=f"Fix its permissions (chmod a+r {p}) or check the zip "
                                  "instead.") from None
        info, err = _inspect(nkind, data)
        found.add_elf(f.name, info)
        prob = _native_problem(nkind, info, err, target, f.name,
                               top_level_package(f.name, kind), str(p))
        if prob is not None:
            findings.append(Finding(prob.level, prob.code, prob.message, str(path / rel)))
    return kind, files, findings


def _packages(files: Sequence[_File], kind: str) -> tuple[PackageSize, ...]:
    sizes: dict[str, list[int]] = {}
    for f in files:
        acc = sizes.setdefault(top_level_package(f.name, kind), [0, 0])
        acc[0] += f.size
        acc[1] += 1
    ranked = sorted(sizes.items(), key=lambda kv: (-kv[1][0], kv[0]))[:TOP_PACKAGES]
    return tuple(PackageSize(n, s, c) for n, (s, c) in ranked)


def _layer_layout(path: str, files: Sequence[_File]) -> list[Finding]:
    stray = [f.name for f in files
             if not f.name.startswith("python/") and not f.name.startswith(_LAYER_EXTRA_DIRS)]
    if not stray:
        return []
    example = ", ".join(stray[:3]) + (" …" if len(stray) > 3 else "")
    return [Finding(
        "warning", "outside-python",
        f"{len(stray)} file(s) of this layer are not under python/ ({example}); Lambda extracts "
        "layers to /opt and Python only looks in /opt/python, so they cannot be imported. "
        "Rebuild with `lambda-slim build` (it puts everything under python/)", path)]


def _build_proof(path: Path, kind: str) -> tuple[Loads | None, list[Finding]]:
    """What the build that wrote the zip at ``path`` proved it loads (from its manifest), when
    that build verified it and the manifest describes this very zip."""
    if path.is_dir():
        return None, []
    proof = read_build_proof(manifest_path(path))
    if proof is None:
        return None, []
    if proof.zip_sha256 != sha256_file(path):
        return None, [Finding(
            "warning", "manifest-stale",
            f"{proof.manifest.name} beside it describes another zip (its sha256 differs): "
            "what that build's verification proved is not used for this one. Rebuild, or "
            "delete the stale manifest", str(path))]
    if not proof.verified or proof.loaded_native_files is None:
        return None, []
    mount = "/opt/" if kind == "layer" else "/var/task/"
    return Loads(frozenset(mount + m for m in proof.loaded_native_files),
                 f"the verification of the build that made this zip ({proof.environment}, "
                 f"{proof.manifest.name})", frozenset({str(path)}), proof.system_libs), []


def check_paths(
    paths: Sequence[Path],
    *,
    function: Path | None = None,
    budget: int = DEFAULT_BUDGET,
    runtime: str | None = None,
    arch: str | None = None,
    limits: ZipLimits | None = None,
    system_libs: Sequence[str] = (),
    today: date | None = None,
    strict: bool = False,
    verify: Verifier | None = None,
) -> CheckReport:
    """Check a function and its layers (or just layers) against Lambda's limits.

    ``function`` names the function code explicitly; then every path in ``paths`` is a
    layer. Otherwise a PATH whose files live under ``python/`` (or that has a build
    manifest beside it) is a layer and the first other one is the function.
    """
    everything = list(paths) + ([function] if function is not None else [])
    if not everything:
        raise InputError("No PATH to check.",
                         hint="Pass the layer zip(s) and/or function zip: "
                              "lambda-slim check layer.zip function.zip")
    seen: set[Path] = set()
    for p in everything:
        if not p.exists():
            raise InputError(f"{p} does not exist.",
                             hint="Build it first (lambda-slim build … -o layer.zip) or fix "
                                  "the path.")
        if not p.is_dir() and not p.is_file():
            raise InputError(f"{p} is not a regular file or a folder (a FIFO, socket or "
                             "device); check reads zips and folders.",
                             hint="Pass the layer zip or the folder that holds python/.")
        if p.resolve() in seen:
            raise InputError(f"{p} is given twice.", hint="Pass each zip or folder once.")
        seen.add(p.resolve())
    target, source, top = resolve_target(everything, runtime, arch)
    deprecated = lifecycle_warning(target.runtime, today or date.today())
    if deprecated:
        top.append(Finding("warning", "runtime-deprecated", deprecated))
    syslibs = runtime_syslibs(target.runtime.name, target.arch, system_libs)  # validated first
    view = LoaderView()
    loads: list[Loads] = []
    placed: list[tuple[Path, str]] = []
    reports: list[PathReport] = []
    have_function = False
    for p in everything:
        hint = "function" if p == function else ("layer" if function is not None else None)
        found = ArchiveElfs()
        if p.is_dir():
            kind, files, findings = _scan_dir(p, target, hint, found)
            zipped: int | None = None
        else:
            kind, files, zipped, findings = _scan_zip(p, limits, target, hint, found)
        if kind == "function" and have_function and hint is None:
            kind = "layer"
            findings.insert(0, Finding(
                "warning", "second-function",
                "looks like function code (nothing under python/), but another PATH already "
                "is the function; checking it as a layer. Mark the function with --function",
                str(p)))
        have_function = have_function or kind == "function"
        view.add("/opt" if kind == "layer" else "/var/task", found, str(p))
        placed.append((p, kind))
        proof, stale = _build_proof(p, kind)
        loads += [proof] if proof is not None else []
        findings += stale
        if kind == "layer":
            findings = _layer_layout(str(p), files) + findings
        if not files:
            findings.insert(0, Finding("warning", "empty", "contains no files", str(p)))
        if zipped is not None and zipped > DIRECT_UPLOAD_LIMIT:
            findings.append(Finding(
                "warning", "s3-only",
                f"the zip is {human(zipped)}, over the {human(DIRECT_UPLOAD_LIMIT)} direct upload "
                "limit: it can only be published through S3 (lambda-slim publish --s3-bucket)",
                str(p)))
        reports.append(PathReport(str(p), kind, "directory" if p.is_dir() else "zip",
                                  sum(f.size for f in files), zipped, len(files),
                                  _packages(files, kind), tuple(findings)))
    closure = view.audit(syslibs)
    if verify is not None:
        got = verify(placed, target, closure, syslibs)
        top += got.findings
        loads += got.loads
    top += judge_misses(closure, view.origin, syslibs, strict=strict, loads=loads)
    total = sum(r.unzipped for r in reports)
    layers = sum(1 for r in reports if r.kind == "layer")
    if layers > MAX_LAYERS:
        top.append(Finding(
            "error", "too-many-layers",
            f"{layers} layers, but a function can use at most {MAX_LAYERS}; merge layers "
            "(one `lambda-slim build` can hold several requirements files)"))
    if total > budget:
        merged: dict[str, int] = {}
        for r in reports:
            for pk in r.packages:
                merged[pk.name] = merged.get(pk.name, 0) + pk.unzipped
        biggest = sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        names = ", ".join(f"{n} {human(b)}" for n, b in biggest)
        top.append(Finding(
            "error", "over-budget",
            f"{human(total)} unzipped ({total:,} bytes) is over the budget of {human(budget)} "
            f"({budget:,} bytes) by {human(total - budget)}; largest: {names}"))
    elif total > NEAR_BUDGET * budget:
        top.append(Finding(
            "warning", "near-budget",
            f"{human(total)} unzipped is {total / budget:.0%} of the budget of {human(budget)}"))
    return CheckReport(tuple(reports), budget, target, source, tuple(top), strict)
