"""Python 3.12 environments for the example's tests, cached outside the repository.

- ``find_python312()``: the target interpreter (pyenv's 3.12, else one on PATH).
- ``reference_venv()``: an ordinary virtualenv holding the example's pinned stack, unpruned,
  plus boto3 (as the Lambda runtime would provide it). It is the "before lambda-slim" side of
  the bit-for-bit comparison and the interpreter for ``train.py``.
- ``runtime_boto3_dir()``: boto3 installed with ``pip --target``, standing in for the copy the
  Lambda runtime ships in ``/var/runtime``.

Both live under ``~/.cache/lambda-slim/`` keyed by a hash of what went into them, so reruns
are fast and a changed pin builds a fresh one. They are built in a temporary sibling and
renamed into place, so an interrupted build never leaves a half-filled cache entry.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "xgboost-scoring"
REQUIREMENT_FILES = ("requirements-features.txt", "requirements-scoring.txt")
# The boto3 the tests use for "the runtime's copy". Lambda's own version varies by region
# and date; any recent release behaves the same for the calls the handlers make.
RUNTIME_BOTO3 = "boto3==1.44.8"
CACHE = Path(os.environ.get("LAMBDA_SLIM_TEST_CACHE", Path.home() / ".cache" / "lambda-slim"))
INSTALL_TIMEOUT = 900


class EnvironmentSetupError(RuntimeError):
    """A test environment could not be made; the message says what to install or fix."""


def find_python312() -> Path:
    """Locate a CPython 3.12 interpreter: pyenv's versions first, then PATH."""
    candidates: list[str] = []
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    if shutil.which("pyenv"):
        try:
            out = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=30, check=True)
            pyenv_root = out.stdout.strip() or pyenv_root
        except (subprocess.SubprocessError, OSError):
            pass
    candidates += sorted(glob.glob(f"{pyenv_root}/versions/3.12*/bin/python3.12"), reverse=True)
    on_path = shutil.which("python3.12")
    if on_path:
        candidates.append(on_path)
    for cand in candidates:
        if Path(cand).is_file() and os.access(cand, os.X_OK):
            return Path(cand)
    raise EnvironmentSetupError(
        "no python3.12 interpreter found (looked in $(pyenv root)/versions/3.12*/bin and PATH); "
        "install one, e.g. `pyenv install 3.12`"
    )


def pinned_requirements() -> list[str]:
    """The union of both layers' pins (identical pins are listed once), in a stable order."""
    lines: list[str] = []
    for name in REQUIREMENT_FILES:
        for raw in (EXAMPLE / name).read_text().splitlines():
            line = raw.split("#", 1)[0].strip()
            if line and line not in lines:
                lines.append(line)
    return lines


def _key(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _run(cmd: list[str], what: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr)[-4000:]
        raise EnvironmentSetupError(f"{what} failed (exit {proc.returncode}):\n{tail}")


def _build_cached(final: Path, build: Callable[[Path], None]) -> Path:
    if (final / ".complete").is_file():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(final.parent / f"{final.name}.lock")):  # xdist workers, other runs: once
        if (final / ".complete").is_file():
            return final
        return _build_locked(final, build)


def _build_locked(final: Path, build: Callable[[Path], None]) -> Path:
    staging = final.with_name(f"{final.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        build(staging)
        (staging / ".complete").write_text("ok\n")
        if final.exists():
            shutil.rmtree(final)
        os.rename(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def reference_venv() -> Path:
    """A python3.12 venv with every pinned package plus boto3; returns its python."""
    python = find_python312()
    reqs = [*pinned_requirements(), RUNTIME_BOTO3]
    version = subprocess.run(
        [str(python), "-c", "import sys; print(sys.version)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    final = CACHE / "test-venvs" / _key(version, *reqs)

    def build(dest: Path) -> None:
        _run([str(python), "-m", "venv", str(dest)], "creating the python3.12 virtualenv")
        _run(
            [str(dest / "bin" / "python"), "-m", "pip", "install", "-q", "--only-binary=:all:", *reqs],
            f"pip install of the pinned stack into {dest}",
        )

    return _build_cached(final, build) / "bin" / "python"


def runtime_boto3_dir() -> Path:
    """A directory with boto3 and its dependencies, like the Lambda runtime's /var/runtime."""
    python = find_python312()
    final = CACHE / "runtime-boto3" / _key(RUNTIME_BOTO3, "py312")

    def build(dest: Path) -> None:
        _run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                "--only-binary=:all:",
                "--target",
                str(dest),
                RUNTIME_BOTO3,
            ],
            "pip install --target of the runtime boto3",
        )

    return _build_cached(final, build)


if __name__ == "__main__":
    print(reference_venv())
    print(runtime_boto3_dir())
    sys.exit(0)
