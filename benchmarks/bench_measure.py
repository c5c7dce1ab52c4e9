"""Measuring a layer and a build: child processes with their peak RSS, zip sizes, the
verification workload and cold starts. Pure helpers (median, ratio) live here too."""

from __future__ import annotations

import os
import shutil
import stat
import statistics
import subprocess
import time
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

WORKLOADS = Path(__file__).resolve().parent / "workloads"


def median(values: Sequence[float]) -> float | None:
    """The median, or None for no values."""
    return float(statistics.median(values)) if values else None


def ratio(value: float | None, base: float | None) -> float | None:
    """value / base, or None when either is missing or base is not positive."""
    if value is None or base is None or base <= 0:
        return None
    return value / base


def fmt_ratio(r: float | None) -> str:
    return "n/a" if r is None else f"{r:.2f}×"


@dataclass(frozen=True)
class ChildRun:
    cmd: list[str]
    returncode: int
    seconds: float
    maxrss_bytes: int  # ru_maxrss from wait4: the largest process of the child's tree
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run_child(
    cmd: Sequence[str],
    log_dir: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> ChildRun:
    """Run ``cmd`` as a child, timing it and reading its rusage with ``os.wait4``.

    Output goes to files (no pipes to drain while waiting) and is read back afterwards.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    n = len(list(log_dir.glob("*.out")))
    out_path, err_path = log_dir / f"{n:03d}.out", log_dir / f"{n:03d}.err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                env=dict(env) if env is not None else None, cwd=cwd)
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return ChildRun(
        list(cmd), proc.returncode, seconds, int(usage.ru_maxrss) * 1024,
        out_path.read_text(errors="replace"), err_path.read_text(errors="replace"),
    )


@dataclass(frozen=True)
class ZipStats:
    unzipped_bytes: int
    zip_bytes: int
    files: int


def zip_stats(path: Path) -> ZipStats:
    """Sizes as Lambda counts them: the central directory's uncompressed sizes."""
    with zipfile.ZipFile(path) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
    return ZipStats(sum(i.file_size for i in infos), path.stat().st_size, len(infos))


def extract(zip_path: Path, dest: Path, unzip_bin: str | None) -> None:
    """Unzip into a fresh ``dest`` (the ``unzip`` binary restores mtimes, as Lambda does)."""
    dest.mkdir(parents=True)
    if unzip_bin:
        subprocess.run([unzip_bin, "-q", str(zip_path), "-d", str(dest)], check=True)
    else:
        with zipfile.ZipFile(zip_path) as zf:
            zf.extractall(dest)


def set_writable(root: Path, writable: bool) -> None:
    """``chmod -R a-w`` (or back to u+w for clean-up), like /opt on Lambda."""
    paths = [root]
    for dirpath, dirnames, filenames in os.walk(root):
        paths += [Path(dirpath) / d for d in dirnames]
        paths += [Path(dirpath) / f for f in filenames]
    for p in paths:
        if p.is_symlink():
            continue
        mode = p.stat().st_mode
        new = (mode | stat.S_IWUSR) if writable else (mode & ~(stat.S_IWUSR | stat.S_IWGRP
                                                               | stat.S_IWOTH))
        os.chmod(p, new)


def remove_tree(root: Path) -> None:
    if root.exists():
        set_writable(root, True)
        shutil.rmtree(root, ignore_errors=True)


def layer_env(base: Mapping[str, str]) -> dict[str, str]:
    """A minimal environment for the target interpreter: no PYTHON* leaking in."""
    env = {k: v for k, v in base.items()
           if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def without_dev_shm(cmd: Sequence[str]) -> list[str]:
    """``cmd`` with no usable ``/dev/shm``, as on Lambda (a read-only empty tmpfs there, in
    bubblewrap's own mount namespace; everything else is the host's), so every layer runs
    its workloads the way Lambda would: joblib, for one, then never imports loky, and a
    traced layer that left loky out works here as it does there. Every variant runs the same
    way, so the ratios stay fair; without bubblewrap ``cmd`` runs as it is."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return list(cmd)
    return [bwrap, "--dev-bind", "/", "/", "--tmpfs", "/dev/shm", "--remount-ro", "/dev/shm",
            "--", *cmd]


def layer_cmd(python: Path, script: str, *args: str) -> list[str]:
    """``python -I -S -B workloads/SCRIPT ARGS``: isolated, no site-packages; -B because -I
    ignores PYTHONDONTWRITEBYTECODE (the read-only tree can't be written either way); without
    ``/dev/shm`` (:func:`without_dev_shm`)."""
    return without_dev_shm([str(python), "-I", "-S", "-B", str(WORKLOADS / script), *args])


@dataclass(frozen=True)
class VerifyOutcome:
    ok: bool
    detail: str


def verify_layer(python: Path, site: Path, env: Mapping[str, str], log_dir: Path) -> VerifyOutcome:
    """Imports (pandas, numpy, scipy + submodules, xgboost, joblib) and the scoring smoke."""
    run = run_child(layer_cmd(python, "verify_layer.py", str(site)), log_dir, env=env)
    lines = (run.stdout + run.stderr).strip().splitlines()
    if run.ok:
        return VerifyOutcome(True, lines[-1] if lines else "ok")
    err = [ln for ln in lines if ln.strip()][-3:]
    return VerifyOutcome(False, " | ".join(ln.strip() for ln in err) or f"exit {run.returncode}")


def run_script_on_layer(python: Path, site: Path, script: Path, env: Mapping[str, str],
                        log_dir: Path) -> VerifyOutcome:
    """Run a user workload with only SITE and the standard library importable."""
    code = ("import sys, runpy; sys.path[:0] = [sys.argv[1], sys.argv[3]]; "
            "sys.argv = [sys.argv[2]]; runpy.run_path(sys.argv[0], run_name='__main__')")
    run = run_child(without_dev_shm([str(python), "-I", "-S", "-B", "-c", code, str(site),
                                     str(script), str(script.parent)]), log_dir, env=env)
    lines = [ln for ln in (run.stdout + run.stderr).strip().splitlines() if ln.strip()]
    if run.ok:
        return VerifyOutcome(True, f"{script.name} passed")
    return VerifyOutcome(False, " | ".join(ln.strip() for ln in lines[-3:]) or f"exit {run.returncode}")


def cold_start_once(python: Path, site: Path, model: Path, env: Mapping[str, str],
                    log_dir: Path) -> ChildRun:
    """One fresh interpreter: import pandas and xgboost, load the model, predict."""
    return run_child(layer_cmd(python, "coldstart.py", str(site), str(model)), log_dir, env=env)
