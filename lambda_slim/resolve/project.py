"""``--with-project``: the project's own package, built as a wheel from its pyproject
(``pip wheel --no-deps``: its dependencies come from the lock or requirements, never from here)
and installed beside them."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from packaging.utils import parse_wheel_filename

from ..artifact.atomic import sha256_file
from ..errors import InputError, ResolveError
from ..target.proc import Runner, tail
from ..target.python import Interpreter
from .install import Resolution, ResolvedWheel


def project_dir(path: Path) -> Path:
    """The project folder of a build input (the input's folder, or the folder itself)."""
    folder = path if path.is_dir() else path.parent
    if not (folder / "pyproject.toml").is_file() and not (folder / "setup.py").is_file():
        raise InputError(f"--with-project: {folder} has no pyproject.toml (or setup.py) to build.",
                         hint="Pass the project's lock file or folder as PATH, or drop --with-project.")
    return folder


def build_project_wheel(folder: Path, interp: Interpreter, cache_dir: Path, runner: Runner,
                        env: Mapping[str, str]) -> ResolvedWheel:
    out_dir = cache_dir / "project-wheels"
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wheel-", dir=cache_dir) as tmp:
        proc = runner([str(interp.path), "-m", "pip", "wheel", "--no-deps", "--no-input",
                       "--disable-pip-version-check", "-q", "-w", tmp, str(folder)],
                      cwd=folder, env=env, timeout=900)
        built = sorted(n for n in os.listdir(tmp) if n.endswith(".whl"))
        if proc.returncode != 0 or len(built) != 1:
            raise ResolveError(
                f"Could not build the project's wheel from {folder}.\n\npip said:\n"
                f"{tail((proc.stdout or '') + (proc.stderr or ''), 20)}",
                hint="Check that `pip wheel --no-deps .` works in the project folder "
                "(a [build-system] table in pyproject.toml).")
        name = built[0]
        dest = out_dir / name
        os.replace(Path(tmp) / name, dest)
    dist, version, _build, _tags = parse_wheel_filename(name)
    return ResolvedWheel(str(dist), str(version), name, sha256_file(dest), dest)


def with_project(resolution: Resolution, wheel: ResolvedWheel) -> Resolution:
    """The resolution plus the project's wheel (replacing a locked copy of the same name)."""
    others = tuple(w for w in resolution.wheels if w.name.lower() != wheel.name.lower())
    return replace(resolution, wheels=(*others, wheel))
