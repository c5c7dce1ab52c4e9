"""The build's external tools, found before any work starts: the target interpreter (bound
once as a :class:`~lambda_slim.target.python.TargetPython`), the Python that runs pip, and
``strip``; output folders are checked here too, so a mistake fails in seconds."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .artifact.atomic import require_parent
from .errors import ToolMissingError
from .inputs.config import BuildConfig
from .native.strip import find_strip
from .target.proc import Runner
from .target.proc import run as default_runner
from .target.python import HOST, Interpreter, Isolation, TargetPython, find_interpreter
from .target.runtimes import host_machine


@dataclass(frozen=True)
class Tools:
    """Everything external, resolved before any work starts."""

    #: the target interpreter bound with env, runner and isolation; None when not found
    target_python: TargetPython | None
    pip_python: Interpreter
    strip: str | None
    runner: Runner
    #: False when the target's machine differs from this one: its binaries can't run here.
    can_execute: bool = True

    @property
    def interpreter(self) -> Interpreter | None:
        return self.target_python.interpreter if self.target_python else None

    @property
    def runnable(self) -> TargetPython | None:
        """The target interpreter when the layer's code can run here (verify, trace)."""
        return self.target_python if self.can_execute else None


def check_tools(config: BuildConfig, env: Mapping[str, str], runner: Runner = default_runner,
                isolation: Isolation = HOST, *, writes: bool = True
                ) -> tuple[Tools, list[str]]:
    """Find the interpreter, strip and output folders up front; notes for what is skipped."""
    notes: list[str] = []
    version = config.target.runtime.python
    interp = find_interpreter(version, env, config.python, runner)
    if interp is None:
        v = config.target.runtime.python_str
        msg = (
            f"No Python {v} interpreter found (looked for $LAMBDA_SLIM_PYTHON_{version[0]}_"
            f"{version[1]}, python{v} on PATH, pyenv and uv installs)."
        )
        if config.require_verify:
            raise ToolMissingError(
                msg, hint=f"Install Python {v} (pyenv install {v}) or pass --python PATH."
            )
        notes.append(
            msg + f" Verification and byte-compilation are skipped (pip runs under this Python "
            f"with environment markers judged for Python {v}). "
            f"Install Python {v} (e.g. `pyenv install {v}`) for a verified build."
        )
    pip_python = interp or Interpreter(Path(sys.executable), sys.version_info[:2])
    host = host_machine()
    can_execute = host == config.target.machine
    if not can_execute:
        msg = (
            f"This machine is {host}; {config.target.arch} binaries cannot run here, so the "
            "layer cannot be imported to verify it."
        )
        if config.require_verify or config.trace:
            raise ToolMissingError(
                msg + (" --trace needs to run the workload." if config.trace else ""),
                hint=f"Build on an {config.target.arch} machine (e.g. an arm64 CI runner or "
                "Graviton instance), or drop --require-verify/--trace.",
            )
        notes.append(msg + " Verification is skipped; byte-compilation still runs "
                     "(bytecode is architecture-independent); environment markers are judged "
                     f"for {config.target.machine}.")
    if config.create_output_dir and writes:
        config.output.parent.mkdir(parents=True, exist_ok=True)
    strip = find_strip(config.target, env) if "strip" in config.rules else None
    if writes:
        require_parent(config.output)
    if config.json_path is not None:
        require_parent(config.json_path, "--json")
    tp = TargetPython(interp, env, runner, isolation) if interp is not None else None
    return Tools(tp, pip_python, strip, runner, can_execute), notes
