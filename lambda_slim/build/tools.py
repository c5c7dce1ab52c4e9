"""The build's external tools, found before any work starts: the target interpreter (bound
once as a :class:`~lambda_slim.target.python.TargetPython`), the Python that runs pip, and
``strip``; output folders are checked here too, so a mistake fails in seconds."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..artifact.atomic import require_parent
from ..inputs.config import BuildConfig
from ..native.strip import find_strip
from ..target.placement import DEFAULT_MEMORY_MB, Limits, Placement, RunSettings, place
from ..target.proc import Runner
from ..target.proc import run as default_runner
from ..target.python import HOST, Interpreter, Isolation, TargetPython


@dataclass(frozen=True)
class Tools:
    """Everything external, resolved before any work starts."""

    #: where the layer's code runs and what byte-compiles (target/placement.py decides)
    placement: Placement
    pip_python: Interpreter
    strip: str | None
    runner: Runner

    @property
    def runnable(self) -> TargetPython | None:
        """Where the layer's code runs (verify, smoke, trace, load checks, the handler,
        borrowed libraries, the overflow start); None when it cannot run here."""
        return self.placement.runnable

    @property
    def compile_python(self) -> TargetPython | None:
        return self.placement.compile_python

    @property
    def interpreter(self) -> Interpreter | None:
        return self.runnable.interpreter if self.runnable else None


def run_settings(config: BuildConfig) -> RunSettings:
    """The build's settings for running layer code, the same for every caller."""
    return RunSettings(
        target=config.target, python=config.python, system_libs=config.system_libs,
        sandbox=config.sandbox, require=config.require_verify, must_run=bool(config.trace),
        limits=Limits(memory_mb=config.memory_mb or DEFAULT_MEMORY_MB,
                      tmp_mb=config.ephemeral_mb),
        cache_dir=config.cache_dir)


def check_tools(config: BuildConfig, env: Mapping[str, str], runner: Runner = default_runner,
                isolation: Isolation = HOST, *, writes: bool = True
                ) -> tuple[Tools, list[str]]:
    """Find the interpreter, strip and output folders up front; notes for what is skipped."""
    placement = place(run_settings(config), env, runner, isolation)
    notes = list(placement.notes)
    pip_python = placement.native or Interpreter(Path(sys.executable), sys.version_info[:2])
    if config.create_output_dir and writes:
        config.output.parent.mkdir(parents=True, exist_ok=True)
    strip = find_strip(config.target, env) if "strip" in config.rules else None
    if writes:
        require_parent(config.output)
    if config.json_path is not None:
        require_parent(config.json_path, "--json")
    return Tools(placement, pip_python, strip, runner), notes
