"""``lambda-slim build``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from ..build import build, plan_build
from ..errors import EXIT_OK, EXIT_OVER_BUDGET, InputError
from ..inputs.args import BuildArgs
from ..inputs.config import (
    build_config,
    layer_names,
)
from ..report.model import BuildPlan
from ..rules import RULES
from ..target.python import env_snapshot
from ..target.runtimes import DEFAULT_ARCH, DEFAULT_RUNTIME
from . import main_group
from .exits import exit_code_help
from .options import (
    build_setting_options,
    layer_option,
    quiet_option,
    requirements_argument,
)
from .render import RichProgress, console, render, render_plan
from .report import write_html


def _rule_options(f: Any) -> Any:
    for rule in reversed(list(RULES)):
        f = click.option(
            f"--{rule}/--no-{rule}", f"rule_{rule.replace('-', '_')}", default=None,
            help=f"Rule `{rule}` (on by default): {RULES[rule]}.",
        )(f)
    return f


@main_group.command(
    "build",
    epilog=f"""\b
Examples:
  lambda-slim build                                  # ./requirements.txt, {DEFAULT_RUNTIME} {DEFAULT_ARCH}
  lambda-slim build reqs.txt --runtime python3.11 --arch arm64 -o build/layer.zip
  lambda-slim build --dry-run -v                     # show what would be removed
  lambda-slim build --no-strip --keep 'pandas/tests/*'
  lambda-slim build --smoke smoke.py --json report.json --budget 200MiB
  lambda-slim build --layer scoring                  # [tool.lambda-slim.layers.scoring]
  lambda-slim build --all                            # every layer in pyproject.toml
  lambda-slim build uv.lock --group aws --extra fast # a uv/Poetry/pylock/Pipfile lock
  lambda-slim build . --function src/ --handler app.handler -o function.zip
  lambda-slim build . --function src/ --layer-zip layer.zip -o function.zip

\b
Outputs: the zip (a layer: everything under python/; a function: at its root), its
removal manifest (<zip name>.manifest.json), with --json the versioned report and with
--html the self-contained HTML report (treemap of where the bytes go).
""" + exit_code_help("build"),
)
@requirements_argument
@build_setting_options
@click.option("--html", "html_out", type=click.Path(path_type=Path), default=None,
              help="Also write the HTML report (zoomable treemap of where the bytes go).")
@click.option("--dry-run", is_flag=True, default=None,
              help="Resolve, install and plan; print the plan; remove and write nothing.")
@_rule_options
@click.option("--no-compile", "no_compile", is_flag=True, default=False,
              help="Ship sources only (smaller, slower cold starts).")
@layer_option("Build [tool.lambda-slim.layers.NAME] from ./pyproject.toml.")
@click.option("--all", "all_layers", is_flag=True, help="Build every layer in ./pyproject.toml.")
@click.option("-v", "--verbose", is_flag=True, help="With --dry-run, list every planned removal.")
@quiet_option
def build_cmd(requirements: Path | None, html_out: Path | None, no_compile: bool,
              layer: str | None, all_layers: bool, verbose: bool, quiet: bool,
              dry_run: bool | None, **opts: Any) -> int:
    """Build a pruned, verified, reproducible layer zip from PATH's dependencies.

    Resolves manylinux wheels for the target Lambda runtime (not this machine), installs
    them, removes what Lambda never needs with named rules (each can be turned off with
    --no-RULE), strips native libraries, checks every native file against the target's
    architecture and glibc, byte-compiles for the target, proves the result still imports
    in a fresh interpreter of the target version, and writes a deterministic zip.

    PATH is a requirements.txt, a uv.lock, poetry.lock, pylock.toml or Pipfile.lock (their
    locked versions and hashes are installed exactly, nothing is re-resolved), a pyproject.toml
    ([project] dependencies), or a project folder holding one; it is recognised by name and
    content. Default: ./requirements.txt, else the current folder's lock or pyproject.
    Settings may also come from
    [tool.lambda-slim] in a pyproject.toml beside it, and from LAMBDA_SLIM_RUNTIME,
    LAMBDA_SLIM_ARCH, LAMBDA_SLIM_BUDGET, LAMBDA_SLIM_JOBS; flags win.
    """
    env = env_snapshot()
    cwd = Path.cwd()
    rule_flags = {r: on for r in RULES
                  if (on := opts.pop(f"rule_{r.replace('-', '_')}")) is not None}
    if opts["compile"] not in (None, "none") and no_compile:
        raise InputError("--compile and --no-compile contradict each other.",
                         hint="Pass one of them.")
    if no_compile:
        opts["compile"] = "none"
    args = BuildArgs(requirements=requirements, rule_flags=rule_flags, **opts)
    if html_out is not None and (all_layers or dry_run):
        raise InputError(
            "--html writes one layer's report; it cannot be combined with "
            + ("--all" if all_layers else "--dry-run (nothing is built)") + ".",
            hint="Build with --json per layer and run `lambda-slim report FILE --html OUT`.",
        )
    if all_layers and layer:
        raise InputError("--all and --layer contradict each other.", hint="Pass one of them.")
    if (all_layers or layer) and requirements:
        raise InputError(
            "--layer/--all take the requirements file from pyproject.toml; drop REQUIREMENTS.",
        )
    names: list[str | None] = [layer] if layer else [None]
    if all_layers:
        found = layer_names(cwd)
        if not found:
            raise InputError(
                f"--all found no [tool.lambda-slim.layers.*] tables in {cwd / 'pyproject.toml'}.",
                hint="Define one table per layer there, or build a single requirements file.",
            )
        names = list(found)
    worst = EXIT_OK
    for name in names:
        if len(names) > 1 or name:
            console.rule(f"layer {name}")
        # --html is written here after the build; the guard checks it with every other output
        config = replace(build_config(args, env, cwd, layer=name), html_path=html_out)
        with RichProgress(quiet) as progress:
            outcome = (plan_build(config, env, progress=progress) if dry_run
                       else build(config, env, progress=progress))
        if isinstance(outcome, BuildPlan):
            console.print(render_plan(outcome, verbose=verbose))
            continue
        console.print(render(outcome.report))
        if html_out is not None:
            write_html(outcome.report, html_out)
            console.print(f"wrote {html_out}")
        if outcome.over_budget:
            worst = max(worst, EXIT_OVER_BUDGET)
    return worst
