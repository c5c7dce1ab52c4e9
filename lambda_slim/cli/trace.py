"""``lambda-slim trace``: what a workload touches, and what a trace would remove."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..artifact.atomic import atomic_write_text
from ..build import trace_preview
from ..errors import InputError
from ..inputs.args import BuildArgs
from ..inputs.config import build_config
from ..report.jsonio import plan_json
from ..target.python import env_snapshot
from . import main_group
from .exits import exit_code_help
from .options import (
    arch_option,
    json_option,
    keep_option,
    layer_option,
    quiet_option,
    requirements_argument,
    runtime_option,
    trace_granularity_option,
)
from .render import RichProgress, console, render_trace_preview


@main_group.command(
    "trace",
    epilog="""\b
Examples:
  lambda-slim trace --smoke smoke.py requirements.txt
  lambda-slim trace --smoke a.py --smoke b.py --trace-granularity module --json trace.json
  lambda-slim build --trace smoke.py -o layer.zip     # apply it

\b
Risk: whatever your workload does not exercise may be removed. Give it every
code path your function uses in production (several --smoke scripts are
unioned). The build re-runs them on the trimmed layer and rolls the trace
rule back if anything fails.
""" + exit_code_help("trace"),
)
@requirements_argument
@click.option("--smoke", "scripts", multiple=True, required=True, type=click.Path(path_type=Path),
              metavar="SCRIPT", help="Workload to trace (repeatable; the union is kept).")
@runtime_option()
@arch_option()
@trace_granularity_option("Remove untouched subpackages (default), modules, or files.")
@keep_option("Never remove these paths.")
@json_option("Write the trace report (and the would-remove list) here.")
@layer_option("Use [tool.lambda-slim.layers.NAME] from ./pyproject.toml.")
@quiet_option
def trace_cmd(requirements: Path | None, scripts: tuple[Path, ...], runtime: str | None,
              arch: str | None, trace_granularity: str | None, keep: tuple[str, ...],
              json_path: Path | None, layer: str | None, quiet: bool) -> int:
    """Run SCRIPT against the rule-pruned layer and report what a trace would remove.

    Builds the layer with the usual rules, runs each workload in a fresh interpreter of the
    target version under an audit hook (files opened, modules imported, libraries mapped),
    and shows, per package, what the workload never touched. Nothing is written except
    --json; `lambda-slim build --trace SCRIPT` applies it.
    """
    for s in scripts:
        if not s.is_file():
            raise InputError(f"Workload script {s} does not exist.",
                             hint="Pass the path of a Python script that exercises your function.")
    env = env_snapshot()
    args = BuildArgs(
        requirements=str(requirements) if requirements else None, runtime=runtime, arch=arch,
        trace=tuple(str(s) for s in scripts), trace_granularity=trace_granularity,
        keep=keep, compile="none", result_cache=False,
        json=str(json_path) if json_path else None,  # checked against the inputs first
    )
    config = build_config(args, env, Path.cwd(), layer=layer)
    with RichProgress(quiet) as progress:
        plan = trace_preview(config, env, progress=progress)
    console.print(render_trace_preview(plan))
    if json_path is not None:
        atomic_write_text(json_path, json.dumps(plan_json(plan), indent=2) + "\n")
    return 0
