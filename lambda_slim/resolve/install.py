"""Resolving and installing wheels for the *target*, not the host.

pip runs under a discovered interpreter of the target's Python version (or this one), with
every manylinux tag the runtime's glibc accepts, binary wheels only, and environment markers
judged for the target's machine and Python (:mod:`lambda_slim.resolve.markers`). Wheels land in a cache
under the user cache dir; a resolution is remembered by the hash of the requirements (and
their includes) and the target, so a rebuild needs no network. ``refresh`` forgets it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name, parse_wheel_filename

from ..artifact.atomic import sha256_file
from ..artifact.zipreuse import WheelStreams
from ..errors import ResolveError
from ..inputs.pip_lines import valid_name, valid_version
from ..inputs.requirements import Requirements
from ..target.proc import Runner, tail
from ..target.python import Interpreter
from ..target.runtimes import Target
from . import wheelcache
from .explain import resolve_error
from .markers import pip_command
from .substitute import locked_originals, resolve_variants
from .unpack import unpack_wheels
from .unpacked import install_linked
from .variants import Replacement, Variant, replacement_from_json

RESOLVER_VERSION = "4"  # 2: markers for the target; 3: variants; 4: content-addressed wheels


@dataclass(frozen=True)
class ResolvedWheel:
    name: str
    version: str
    filename: str
    sha256: str
    path: Path

    def to_json(self) -> dict[str, str]:
        return {
            "name": self.name, "version": self.version,
            "filename": self.filename, "sha256": self.sha256,
        }


@dataclass(frozen=True)
class Resolution:
    wheels: tuple[ResolvedWheel, ...]
    key: str
    #: what the variants table did (or declined to do), for plan, report and manifest
    replacements: tuple[Replacement, ...] = ()
    #: left out of the wheel set: name -> why (a replaced original and what only it needed)
    dropped: Mapping[str, str] = field(default_factory=dict)
    #: requirement lines only a replaced original needed: name -> why (the gpu rule drops them)
    orphans: Mapping[str, str] = field(default_factory=dict)
    #: Cached wheels found spoiled (changed on disk) and fetched again, for the user to see.
    notes: tuple[str, ...] = ()


def target_pip_args(target: Target) -> list[str]:
    args = [
        "--only-binary=:all:", "--implementation", "cp",
        "--python-version", target.runtime.python_str, "--abi", target.python_tag,
    ]
    for tag in target.platform_tags():
        args += ["--platform", tag]
    return args


def resolution_key(reqs: Requirements, target: Target,
                   variants: Mapping[str, Variant] | None = None) -> str:
    h = hashlib.sha256()
    table = [f"{o}={v.replacement}" for o, v in sorted((variants or {}).items())]
    for part in (RESOLVER_VERSION, reqs.digest, target.runtime.name, target.arch,
                 *target.platform_tags(), *table):
        h.update(part.encode() + b"\0")
    return h.hexdigest()[:32]


def _load_cached(index: Path, cache_dir: Path, key: str, reqs: Requirements
                 ) -> tuple[Resolution | None, list[str]]:
    """The recorded resolution, each wheel re-hashed against its record and the pins.
    (None, problems) when a wheel is missing or spoiled (spoiled ones are evicted)."""
    try:
        data = json.loads(index.read_text())
        out = [ResolvedWheel(w["name"], w["version"], w["filename"], w["sha256"],
                             wheelcache.path_for(cache_dir, w["sha256"], w["filename"]))
               for w in data.get("wheels", [])]
        reps = tuple(replacement_from_json(r) for r in data.get("replacements", []))
    except (OSError, ValueError, KeyError, TypeError):
        return None, []
    if not all(w.path.is_file() for w in out):
        return None, []
    problems = wheelcache.verify([(w.name, w.filename, w.sha256, w.path) for w in out],
                                 reqs.pins)
    if problems:
        return None, problems
    return Resolution(tuple(out), key, reps, dict(data.get("dropped", {})),
                      dict(data.get("orphans", {}))), []


def _download(
    req_file: Path, reqs: Requirements, target: Target, interp: Interpreter, cache_dir: Path,
    runner: Runner, env: Mapping[str, str],
) -> list[ResolvedWheel]:
    """``pip download`` of ``req_file`` for the target, each wheel then stored by content.

    The user's own sources come first: the cache is not offered to pip then, so a local wheel
    rebuilt under its old name is picked up. Only when they fail (the index is unreachable)
    is pip run again with the cache as a find-links folder, and every wheel it takes from
    there must still hash to the address it is stored under.
    """
    try:
        return _pip_download(req_file, reqs, target, interp, cache_dir, runner, env, None)
    except ResolveError as first:
        if first.message.startswith(_NO_PIP):
            raise
        with tempfile.TemporaryDirectory(prefix="offline-", dir=cache_dir) as links:
            if not wheelcache.offer(cache_dir, Path(links)):
                raise
            try:
                return _pip_download(req_file, reqs, target, interp, cache_dir, runner, env,
                                     Path(links))
            except ResolveError as second:
                if second.message.startswith(_SPOILED):
                    raise
                raise first from None


_NO_PIP = "The target interpreter"
_SPOILED = "cached wheel"


def _pip_download(
    req_file: Path, reqs: Requirements, target: Target, interp: Interpreter, cache_dir: Path,
    runner: Runner, env: Mapping[str, str], links: Path | None,
) -> list[ResolvedWheel]:
    with tempfile.TemporaryDirectory(prefix="download-", dir=cache_dir) as tmp:
        markers = target.marker_environment()
        cmd = [
            *pip_command(str(interp.path), markers), "download", "--disable-pip-version-check",
            "--no-input", "--progress-bar", "off", *target_pip_args(target),
            *(["--find-links", str(links)] if links else []),
            "-d", tmp, "-r", str(req_file.resolve()),
            *(["--no-deps"] if reqs.no_deps else []),
        ]
        proc = runner(cmd, cwd=reqs.path.resolve().parent, env=env)
        out = (proc.stdout or "") + "\n" + (proc.stderr or "")
        if proc.returncode != 0:
            if "No module named pip" in out:
                raise ResolveError(
                    f"{_NO_PIP} {interp.path} has no pip.",
                    hint=f"Run `{interp.path} -m ensurepip` or point --python at another one.",
                )
            raise resolve_error(out, target, reqs, cache_dir)
        wheels = []
        for name in sorted(os.listdir(tmp)):
            src = Path(tmp) / name
            if not name.endswith(".whl"):
                raise ResolveError(
                    f"pip produced {name}, which is not a wheel, for {reqs.path}.",
                    hint="Only binary wheels can go into a layer; pin a version with a wheel.",
                )
            dist, version, _build, _tags = parse_wheel_filename(name)
            digest = sha256_file(src)
            if links is not None and (links / name).exists() \
                    and not wheelcache.path_for(cache_dir, digest, name).is_file():
                raise ResolveError(
                    f"{_SPOILED} {name} does not match the sha256 it is stored under: it "
                    "was changed or corrupted on disk.",
                    hint="Delete the cache folder (~/.cache/lambda-slim/wheels) and rerun with "
                         "the index reachable.")
            dst = wheelcache.store(cache_dir, src, digest)  # same filesystem: atomic
            wheels.append(ResolvedWheel(str(dist), str(version), name, digest, dst))
    return wheels


_INDEX_OPTS = ("-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--no-index",
               "--pre", "--trusted-host")


def original_requires(
    name: str, version: str, index_from: Path, target: Target, interp: Interpreter,
    runner: Runner, env: Mapping[str, str], cache_dir: Path,
) -> tuple[str, ...]:
    """``Requires-Dist`` of ``name==version`` for the target, from pip's resolver report
    (metadata only where the index serves it, PEP 658) with the index options of the
    requirements file ``index_from``; nothing is installed."""
    opts = [ln for ln in index_from.read_text(encoding="utf-8").splitlines()
            if ln.strip().split("=", 1)[0].split(" ", 1)[0] in _INDEX_OPTS]
    with tempfile.TemporaryDirectory(prefix="report-", dir=cache_dir) as tmp:
        report = Path(tmp) / "report.json"
        req = Path(tmp) / "requirements.txt"
        pin = f"{valid_name(name, str(index_from))}=={valid_version(version, str(index_from), name)}"
        req.write_text("\n".join([*opts, pin]) + "\n")
        markers = target.marker_environment()
        cmd = [
            *pip_command(str(interp.path), markers), "install", "--dry-run", "--no-deps",
            "--ignore-installed", "--disable-pip-version-check", "--no-input", "--quiet",
            *target_pip_args(target), "--target", str(Path(tmp) / "t"),
            "--report", str(report), "-r", str(req),
        ]
        proc = runner(cmd, env=env)
        if proc.returncode != 0 or not report.is_file():
            raise ResolveError(f"pip could not report the metadata of {name}=={version}.")
        items = json.loads(report.read_text()).get("install", [])
    return tuple(str(r) for i in items for r in i.get("metadata", {}).get("requires_dist") or ())


def resolve(
    reqs: Requirements,
    target: Target,
    interp: Interpreter,
    cache_dir: Path,
    runner: Runner,
    env: Mapping[str, str],
    refresh: bool = False,
    variants: Mapping[str, Variant] | None = None,
) -> Resolution:
    """Download (or reuse) the exact wheel set the target interpreter would install.

    With ``variants``, requirement lines and dependencies naming an original are satisfied by
    its variant (see :mod:`lambda_slim.resolve.substitute`).
    """
    index_dir = cache_dir / "resolutions"
    index_dir.mkdir(parents=True, exist_ok=True)
    key = resolution_key(reqs, target, variants)
    index = index_dir / f"{key}.json"
    spoiled: list[str] = []
    if not refresh:
        cached, spoiled = _load_cached(index, cache_dir, key, reqs)
        if cached is not None:
            return cached
    try:
        res = _fetch(reqs, target, interp, cache_dir, runner, env, key, variants)
    except ResolveError as exc:
        if not spoiled:
            raise
        raise ResolveError(
            "; ".join(spoiled) + ". It was removed from the cache, and fetching it again "
            f"failed: {exc.message}",
            hint="Restore the wheel's source (index or --find-links folder) and rerun; never "
                 "ship a wheel that changed after it was downloaded.") from None
    pinned = [p for w in res.wheels
              if (p := wheelcache.pin_problem(w.name, w.filename, w.sha256, reqs.pins))]
    if pinned:
        raise ResolveError("; ".join(pinned) + ".",
                           hint="Fix the pin or the wheel's source; a wheel that does not "
                                "match its --hash pin is never installed.")
    payload = {
        "key": key,
        "target": target.to_json(),
        "requirements": str(reqs.path),
        "wheels": [dict(w.to_json(), size=w.path.stat().st_size) for w in res.wheels],
        "replacements": [r.to_json() for r in res.replacements],
        "dropped": res.dropped,
        "orphans": res.orphans,
    }
    fd, tmpname = tempfile.mkstemp(dir=index_dir, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(payload, fh, indent=1)
    os.replace(tmpname, index)
    return dataclasses.replace(res, notes=tuple(f"{p}; fetched it again" for p in spoiled))


def _fetch(reqs: Requirements, target: Target, interp: Interpreter, cache_dir: Path,
           runner: Runner, env: Mapping[str, str], key: str,
           variants: Mapping[str, Variant] | None) -> Resolution:
    by_path: dict[Path, ResolvedWheel] = {}
    if not reqs.lines:  # an empty lock or pyproject built with --allow-empty: nothing for pip
        return Resolution((), key)

    def download(req_file: Path) -> Sequence[tuple[str, str, Path]]:
        got = _download(req_file, reqs, target, interp, cache_dir, runner, env)
        by_path.update({w.path: w for w in got})
        return [(str(canonicalize_name(w.name)), w.version, w.path) for w in got]

    if variants and not reqs.no_deps:  # a lock's pins (and hashes) are installed as locked
        with tempfile.TemporaryDirectory(prefix="variants-", dir=cache_dir) as tmp:
            outcome = resolve_variants(
                reqs.pip_path, variants, target, Path(tmp), download,
                lambda n, v, f: original_requires(n, v, f, target, interp, runner, env,
                                                  cache_dir))
        res = Resolution(tuple(by_path[p] for _n, _v, p in outcome.wheels), key,
                         outcome.replacements, dict(outcome.dropped), dict(outcome.orphans))
    else:
        wheels = tuple(w for f in reqs.pip_files or (reqs.pip_path,)
                       for w in _download(f, reqs, target, interp, cache_dir, runner, env))
        res = Resolution(wheels, key, locked_originals(
            [(w.name, w.version) for w in wheels], variants or {}, reqs.path))
    return res


def install(
    resolution: Resolution,
    target: Target,
    interp: Interpreter,
    dest: Path,
    runner: Runner,
    env: Mapping[str, str],
    installer: str = "unpack",
    jobs: int = 4,
    streams: WheelStreams | None = None,
    unpacked: Path | None = None,
) -> None:
    """Install exactly the resolved wheels into ``dest`` (no deps, no index, no bytecode).

    ``unpack`` (the default) lays the wheels out in parallel as the wheel spec says, the way
    ``pip install --target --no-compile`` would (the tests check both give the same tree);
    ``pip`` runs pip itself under the target interpreter. ``streams`` (``unpack`` only)
    records where each installed file's deflated bytes lie in its wheel; with ``unpacked``
    (a cache folder) the files are hard-linked from each wheel's unpacked copy there.
    """
    if not resolution.wheels:
        dest.mkdir(parents=True, exist_ok=True)
        return
    if installer == "unpack":
        if unpacked is not None:
            install_linked([(w.path, w.sha256) for w in resolution.wheels], dest, unpacked,
                           jobs, streams)
        else:
            unpack_wheels([w.path for w in resolution.wheels], dest, jobs, streams)
        return
    cmd = [
        str(interp.path), "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
        "--no-deps", "--no-index", "--no-compile", "--no-warn-script-location",
        "--no-warn-conflicts", *target_pip_args(target), "--target", str(dest),
        *[str(w.path) for w in resolution.wheels],
    ]
    proc = runner(cmd, env=env)
    if proc.returncode != 0:
        with contextlib.suppress(OSError):
            shutil.rmtree(dest)
        raise ResolveError(
            f"pip could not install the resolved wheels for {target.describe()}.\n\npip said:\n"
            f"{tail((proc.stdout or '') + (proc.stderr or ''))}",
            hint="Run again with --refresh to re-resolve; if it persists, report the pip output.",
        )
