"""The target interpreter, and the one seam through which every child run of it goes.

:class:`TargetPython` binds an interpreter of the target's Python version, the build's
environment snapshot, the subprocess runner and an :class:`Isolation` once; import checks,
smoke scripts, the trace, byte-compilation, loadability probes and interpreter discovery all
call :meth:`TargetPython.run`. ``HOST`` isolation runs the child unchanged on this machine; a
sandbox or an emulator is another :class:`Isolation` (it rewrites the argv, environment and
working directory, and says how host paths look inside the child).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from ..errors import InputError
from .proc import Runner
from .proc import run as default_runner


@dataclass(frozen=True)
class Interpreter:
    path: Path
    version: tuple[int, int]


@dataclass(frozen=True)
class Launch:
    """What to actually execute for one child run."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path | None


class Isolation(Protocol):
    """How a child of the target interpreter is isolated from this machine."""

    @property
    def name(self) -> str:
        """"host", "sandbox", "sandbox+qemu-aarch64", …; reported as ``verify.environment``."""
        ...

    def wrap(self, argv: Sequence[str], *, env: Mapping[str, str], layer: Path | None,
             paths: Sequence[Path], cwd: Path | None) -> Launch:
        """The command that runs ``argv`` (interpreter first) with ``layer`` mounted as the
        layer's ``python/`` folder and ``paths`` readable."""
        ...

    def inside(self, host_path: Path) -> str:
        """How ``host_path`` (the layer, an extra path or below one) is seen by the child."""
        ...


@runtime_checkable
class BindableIsolation(Isolation, Protocol):
    """An isolation whose :meth:`~Isolation.inside` depends on what a run mounts: ``bound``
    returns a copy that maps ``layer`` and ``paths`` the way :meth:`~Isolation.wrap` will."""

    def bound(self, layer: Path | None, paths: Sequence[Path] = ()) -> Isolation: ...


@dataclass(frozen=True)
class HostIsolation:
    """No isolation: the child runs on this machine, seeing host paths as they are."""

    name: str = "host"

    def wrap(self, argv: Sequence[str], *, env: Mapping[str, str], layer: Path | None,
             paths: Sequence[Path], cwd: Path | None) -> Launch:
        return Launch(list(argv), dict(env), cwd)

    def inside(self, host_path: Path) -> str:
        return str(host_path)


HOST: Isolation = HostIsolation()


def child_env(env: Mapping[str, str]) -> dict[str, str]:
    """The environment of a child run: no PYTHON* settings of the build machine, no
    bytecode writes (``/opt`` is read-only on Lambda), a UTF-8 locale."""
    out = {k: v for k, v in env.items() if not k.startswith("PYTHON")}
    out["PYTHONDONTWRITEBYTECODE"] = "1"
    out.setdefault("LANG", "C.UTF-8")
    return out


@dataclass(frozen=True)
class TargetPython:
    """An interpreter of the target's version, bound once with environment, runner and
    isolation: the only way the core runs code as the target would."""

    interpreter: Interpreter
    env: Mapping[str, str]
    runner: Runner = default_runner
    isolation: Isolation = HOST

    def run(self, argv_after_python: Sequence[str], *, layer: Path | None = None,
            paths: Sequence[Path] = (), cwd: Path | None = None,
            timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        """Run ``python ARGV…`` in the target, with ``layer`` as the layer's ``python/``
        folder and ``paths`` readable (paths inside argv must come from :meth:`inside`)."""
        argv = [str(self.interpreter.path), *argv_after_python]
        launch = self.isolation.wrap(argv, env=child_env(self.env), layer=layer,
                                     paths=tuple(paths), cwd=cwd)
        return self.runner(launch.argv, cwd=launch.cwd, env=launch.env, timeout=timeout)

    def inside(self, host_path: Path, *, layer: Path | None = None,
               paths: Sequence[Path] = ()) -> str:
        """``host_path`` as the child of a run with this ``layer`` and ``paths`` sees it
        (what probe scripts must receive instead of host paths)."""
        iso = self.isolation
        if isinstance(iso, BindableIsolation):
            iso = iso.bound(layer, paths)
        return iso.inside(host_path)


_VERSION_PROBE = "import sys; print('%d.%d' % sys.version_info[:2])"


def _probe(path: str, env: Mapping[str, str], runner: Runner) -> tuple[int, int] | None:
    """The ``(major, minor)`` of the interpreter at ``path``; None if it does not run."""
    candidate = TargetPython(Interpreter(Path(path), (0, 0)), env, runner)
    try:
        out = candidate.run(["-c", _VERSION_PROBE], timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    try:
        a, b = out.stdout.strip().split(".")
        return int(a), int(b)
    except ValueError:
        return None


def _pyenv_root(env: Mapping[str, str], runner: Runner) -> Path | None:
    if env.get("PYENV_ROOT"):
        return Path(env["PYENV_ROOT"])
    exe = shutil.which("pyenv", path=env.get("PATH"))
    if exe:
        try:
            out = runner([exe, "root"], env=env, timeout=30)
            if out.returncode == 0 and out.stdout.strip():
                return Path(out.stdout.strip())
        except (OSError, subprocess.SubprocessError):
            pass
    home = env.get("HOME")
    if home and (Path(home) / ".pyenv").is_dir():
        return Path(home) / ".pyenv"
    return None


def interpreter_candidates(version: tuple[int, int], env: Mapping[str, str],
                           runner: Runner = default_runner) -> list[str]:
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
    root = _pyenv_root(env, runner)
    if root is not None:
        versions = root / "versions"
        try:
            listed = sorted(versions.iterdir(), reverse=True) if versions.is_dir() else []
        except OSError as exc:
            raise InputError(
                f"Cannot list the pyenv interpreters in {versions} ({exc.strerror or exc}); "
                "PYENV_ROOT names a folder this user cannot read.",
                hint="Fix its permissions, unset PYENV_ROOT, or pass --python PATH.") from None
        if listed:
            for d in listed:
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
    version: tuple[int, int], env: Mapping[str, str], explicit: str | None = None,
    runner: Runner = default_runner,
) -> Interpreter | None:
    """The first working interpreter of exactly ``version``, or None."""
    candidates = [explicit] if explicit else interpreter_candidates(version, env, runner)
    for cand in candidates:
        got = _probe(cand, env, runner)
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
