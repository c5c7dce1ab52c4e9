"""Resolving and installing wheels for the *target*, not the host.

pip runs under a discovered interpreter of the target's Python version (or this one), with
every manylinux tag the runtime's glibc accepts, binary wheels only, and environment markers
judged for the target's machine and Python (:mod:`lambda_slim.resolve.markers`). Wheels land in a cache
under the user cache dir; a resolution is remembered by the hash of the requirements (and
their includes) and the target, so a rebuild needs no network. ``refresh`` forgets it.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import re
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from packaging.utils import canonicalize_name, parse_wheel_filename

from ..artifact.atomic import sha256_file
from ..errors import ResolveError
from ..inputs.requirements import Requirements
from ..target.proc import Runner, tail
from ..target.python import Interpreter
from ..target.runtimes import Target
from .markers import pip_command, target_environment
from .substitute import locked_originals, resolve_variants
from .variants import Replacement, Variant, replacement_from_json

RESOLVER_VERSION = "3"  # 2: markers judged for the target; 3: variants


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


_NO_MATCH = re.compile(r"No matching distribution found for ([^\s]+)")
_NO_VERSION = re.compile(
    r"Could not find a version that satisfies the requirement ([^\s]+)(?: \(from versions: ([^)]*)\))?"
)


def _advice(name: str, target: Target) -> str:
    n = canonicalize_name(re.split(r"[<>=!~;\[ @]", name, maxsplit=1)[0])
    tips = []
    if n == "xgboost" and target.glibc < (2, 28):
        tips.append(
            "xgboost>=3.1 ships no manylinux2014 wheel, so it cannot run on "
            f"{target.runtime.name} (glibc {target.glibc[0]}.{target.glibc[1]}); pin "
            "xgboost<3.1 (3.0.5 is the last such release) or use python3.12+."
        )
    if n == "xgboost-cpu" and target.glibc < (2, 28):
        tips.append("xgboost-cpu>=3.1 wheels need glibc 2.28: pin xgboost-cpu<3.1 (3.0.5 has "
                    "manylinux2014 wheels) or use python3.12+ (glibc 2.34).")
    tips.append(
        "A package without a manylinux wheel for this target would need compiling on Amazon "
        "Linux; pin a version that has one (check its files on PyPI) or pick another runtime/arch."
    )
    return " ".join(tips)


def _resolve_error(proc_out: str, target: Target, reqs: Requirements) -> ResolveError:
    m = _NO_MATCH.search(proc_out) or _NO_VERSION.search(proc_out)
    tags = target.platform_tags()
    tagline = (
        f"cp{target.runtime.python[0]}{target.runtime.python[1]} on {tags[0]} … {tags[-1]} "
        f"({len(tags)} manylinux tags)"
    )
    if m:
        pkg = m.group(1)
        return ResolveError(
            f"No wheel of {pkg} (from {reqs.path}) fits {target.describe()}: the target accepts "
            f"binary wheels for {tagline}.\n\npip said:\n{tail(proc_out, 12)}",
            hint=_advice(pkg, target),
        )
    return ResolveError(
        f"pip could not resolve {reqs.path} for {target.describe()}.\n\npip said:\n"
        f"{tail(proc_out)}",
        hint="Fix the requirement pip names above; if the network is down, a previous "
        "resolution of the same file is reused from the cache automatically.",
    )


def _load_cached(index: Path, wheels_dir: Path, key: str) -> Resolution | None:
    try:
        data = json.loads(index.read_text())
    except (OSError, ValueError):
        return None
    out = []
    for w in data.get("wheels", []):
        p = wheels_dir / w["filename"]
        if not p.is_file() or p.stat().st_size != w.get("size"):
            return None
        out.append(ResolvedWheel(w["name"], w["version"], w["filename"], w["sha256"], p))
    reps = tuple(replacement_from_json(r) for r in data.get("replacements", []))
    return Resolution(tuple(out), key, reps, dict(data.get("dropped", {})),
                      dict(data.get("orphans", {})))


def _download(
    req_file: Path, reqs: Requirements, target: Target, interp: Interpreter, cache_dir: Path,
    runner: Runner, env: Mapping[str, str],
) -> list[ResolvedWheel]:
    """``pip download`` of ``req_file`` for the target into the wheel cache."""
    wheels_dir = cache_dir / "wheels"
    with tempfile.TemporaryDirectory(prefix="download-", dir=cache_dir) as tmp:
        markers = target_environment(target.machine, target.runtime.python)
        cmd = [
            *pip_command(str(interp.path), markers), "download", "--disable-pip-version-check",
            "--no-input", "--progress-bar", "off", *target_pip_args(target),
            "--find-links", str(wheels_dir), "-d", tmp, "-r", str(req_file.resolve()),
            *(["--no-deps"] if reqs.no_deps else []),
        ]
        proc = runner(cmd, cwd=reqs.path.resolve().parent, env=env)
        out = (proc.stdout or "") + "\n" + (proc.stderr or "")
        if proc.returncode != 0:
            if "No module named pip" in out:
                raise ResolveError(
                    f"The target interpreter {interp.path} has no pip.",
                    hint=f"Run `{interp.path} -m ensurepip` or point --python at another one.",
                )
            raise _resolve_error(out, target, reqs)
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
            dst = wheels_dir / name
            os.replace(src, dst)  # same filesystem (the download dir is in the cache): atomic
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
        req.write_text("\n".join([*opts, f"{name}=={version}"]) + "\n")
        markers = target_environment(target.machine, target.runtime.python)
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
    wheels_dir = cache_dir / "wheels"
    index_dir = cache_dir / "resolutions"
    wheels_dir.mkdir(parents=True, exist_ok=True)
    index_dir.mkdir(parents=True, exist_ok=True)
    key = resolution_key(reqs, target, variants)
    index = index_dir / f"{key}.json"
    if not refresh:
        cached = _load_cached(index, wheels_dir, key)
        if cached is not None:
            return cached
    by_path: dict[Path, ResolvedWheel] = {}

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
        wheels = tuple(_download(reqs.pip_path, reqs, target, interp, cache_dir, runner, env))
        res = Resolution(wheels, key, locked_originals(
            [(w.name, w.version) for w in wheels], variants or {}, reqs.path))
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
) -> None:
    """Install exactly the resolved wheels into ``dest`` (no deps, no index, no bytecode).

    ``unpack`` (the default) lays the wheels out in parallel as the wheel spec says, the way
    ``pip install --target --no-compile`` would (the tests check both give the same tree);
    ``pip`` runs pip itself under the target interpreter.
    """
    if not resolution.wheels:
        dest.mkdir(parents=True, exist_ok=True)
        return
    if installer == "unpack":
        unpack_wheels([w.path for w in resolution.wheels], dest, jobs)
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


def _wheel_target(name: str) -> str | None:
    """Where a wheel member goes in a ``--target`` tree; None for members a layer never
    needs (``.data/headers`` and ``.data/data``, which pip puts outside site-packages)."""
    parts = name.split("/")
    if len(parts) > 2 and parts[0].endswith(".data"):
        kind, rest = parts[1], "/".join(parts[2:])
        if kind in ("purelib", "platlib"):
            return rest
        if kind == "scripts":
            return "bin/" + rest
        return None
    return name


def _unpack_one(whl: Path, dest: Path) -> None:
    with zipfile.ZipFile(whl) as zf:
        record_name = None
        for info in zf.infolist():
            name = info.filename
            if name.endswith("/"):
                continue
            parts = PurePosixPath(name).parts
            if name.startswith("/") or ".." in parts or "\\" in name:
                raise ResolveError(
                    f"{whl.name} contains an unsafe member {name!r}; refusing to install it.",
                    hint="The wheel is corrupt or hostile: delete it from the cache "
                    "(~/.cache/lambda-slim/wheels) and report it to the package's maintainers.",
                )
            if parts[0].endswith(".dist-info") and parts[-1] == "RECORD" and len(parts) == 2:
                record_name = name
            target = _wheel_target(name)
            if target is None:
                continue
            out = dest / target
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = out.with_name(f".{out.name}.{os.getpid()}.part")
            with zf.open(info) as src, open(tmp, "wb") as fh:
                shutil.copyfileobj(src, fh, 1 << 20)
            mode = (info.external_attr >> 16) & 0o777
            os.chmod(tmp, 0o755 if mode & stat.S_IXUSR else 0o644)
            os.replace(tmp, out)
        if record_name is not None:
            rows = list(csv.reader(io.StringIO(zf.read(record_name).decode("utf-8"))))
            fixed = []
            for row in rows:
                if row and row[0]:
                    target = _wheel_target(row[0])
                    if target is None:
                        continue
                    row = [target, *row[1:]]
                fixed.append(row)
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerows(fixed)
            (dest / record_name).write_text(buf.getvalue(), encoding="utf-8")
            (dest / record_name).with_name("INSTALLER").write_text("lambda-slim\n")


def unpack_wheels(wheels: list[Path], dest: Path, jobs: int) -> None:
    """Install wheels by unpacking them in parallel (no deps, no scripts rewriting)."""
    dest.mkdir(parents=True, exist_ok=True)
    # Largest first so the long ones start early.
    order = sorted(wheels, key=lambda p: -p.stat().st_size)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for fut in [pool.submit(_unpack_one, w, dest) for w in order]:
            fut.result()
