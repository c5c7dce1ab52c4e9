"""The target interpreter: finding a Python of the target's version on this machine."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError


@dataclass(frozen=True)
class Interpreter:
    path: Path
    version: tuple[int, int]


def _probe(path: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run(
            [path, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    try:
        a, b = out.stdout.strip().split(".")
        return int(a), int(b)
    except ValueError:
        return None


def _pyenv_root(env: Mapping[str, str]) -> Path | None:
    if env.get("PYENV_ROOT"):
        return Path(env["PYENV_ROOT"])
    exe = shutil.which("pyenv", path=env.get("PATH"))
    if exe:
        try:
            out = subprocess.run([exe, "root"], capture_output=True, text=True, timeout=30)
            if out.returncode == 0 and out.stdout.strip():
                return Path(out.stdout.strip())
        except (OSError, subprocess.SubprocessError):
            pass
    home = env.get("HOME")
    if home and (Path(home) / ".pyenv").is_dir():
        return Path(home) / ".pyenv"
    return None


def interpreter_candidates(version: tuple[int, int], env: Mapping[str, str]) -> list[str]:
    """Where an interpreter of ``version`` may live, in the order they are tried.

    ``LAMBDA_SLIM_PYTHON_3_12`` (an explicit path) first, then ``python3.12`` on PATH, then
    pyenv's versions, then uv's managed Pythons.
    """
    v = f"{version[0]}.{version[1]}"
    found: list[str] = []
    explicit = env.get(f"LAMBDA_SLIM_PYTHON_{version[0]}_{version[1]}")
    if explicit:
        found.append(explicit)
    on_path = shutil.which(f"python{v}", path=env.get("PATH"))
    if on_path:
        found.append(on_path)
    root = _pyenv_root(env)
    if root is not None:
        versions = root / "versions"
        if versions.is_dir():
            for d in sorted(versions.iterdir(), reverse=True):
                if d.name == v or d.name.startswith(v + "."):
                    exe = d / "bin" / f"python{v}"
                    if exe.exists():
                        found.append(str(exe))
    home = env.get("HOME")
    if home:
        uv_dir = Path(home) / ".local" / "share" / "uv" / "python"
        if uv_dir.is_dir():
            for d in sorted(uv_dir.glob(f"cpython-{v}.*"), reverse=True):
                exe = d / "bin" / f"python{v}"
                if exe.exists():
                    found.append(str(exe))
    return list(dict.fromkeys(found))


def find_interpreter(
    version: tuple[int, int], env: Mapping[str, str], explicit: str | None = None
) -> Interpreter | None:
    """The first working interpreter of exactly ``version``, or None."""
    candidates = [explicit] if explicit else interpreter_candidates(version, env)
    for cand in candidates:
        got = _probe(cand)
        if got == version:
            return Interpreter(Path(cand), got)
        if explicit:
            raise InputError(
                f"The interpreter {explicit!r} is "
                + (f"Python {got[0]}.{got[1]}" if got else "not runnable")
                + f", but the target needs Python {version[0]}.{version[1]}.",
                hint="Pass an interpreter of the target's version with --python, or drop it.",
            )
    return None


def env_snapshot() -> dict[str, str]:
    """The environment, read once at the edge and passed down."""
    return dict(os.environ)
