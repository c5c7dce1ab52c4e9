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
    COMPILE_MODES,
    DEFAULT_SMOKE_TIMEOUT,
    INSTALLERS,
    MEMORY_RANGE,
    build_config,
    layer_names,
)
from ..report.model import BuildPlan
from ..rules import RULES
from ..target.python import env_snapshot
from ..target.runtimes import DEFAULT_ARCH, DEFAULT_RUNTIME
from ..target.sandbox import EPHEMERAL_RANGE
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
    system_lib_option,
    trace_granularity_option,
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
@click.option("--group", "groups", multiple=True, metavar="NAME",
              help="Also install this dependency group of a lock/pyproject (PEP 735, Poetry "
              "groups, Pipfile categories). Repeatable.")
@click.option("--extra", "extras", multiple=True, metavar="NAME",
              help="Also install this extra (optional dependencies) of the project. Repeatable.")
@click.option("--no-default-groups", is_flag=True, default=None,
              help="Leave out the lock's default groups (dev is always left out unless --group dev).")
@click.option("--function", "function", type=click.Path(path_type=Path), default=None,
              metavar="SRC_DIR", help="Build a function package: the handler code in SRC_DIR and "
              "the dependencies at the zip root [output default: function.zip].")
@click.option("--layer-zip", "layer_zips", multiple=True, type=click.Path(path_type=Path),
              metavar="LAYER.zip", help="With --function: a layer the function uses; what it "
              "provides is left out, and it counts toward the size limit. Repeatable, in order.")
@click.option("--handler", default=None, metavar="MODULE.FUNCTION",
              help="With --function: import this handler as Lambda would and fail if it is "
              "missing or not callable.")
@click.option("--with-project", is_flag=True, default=None,
              help="Also build the project's own package (pip wheel --no-deps of PATH's "
              "pyproject) and include it.")
@click.option("--allow-empty", is_flag=True, default=None,
              help="Build even when the lock or pyproject installs nothing for the target "
              "(otherwise exit 2, naming the markers and groups that left everything out).")
@click.option("--no-symlinks", "symlinks", flag_value=False, default=None,
              help="With --function: refuse symlinks in SRC_DIR instead of storing each as the "
              "file it names (a link out of SRC_DIR is always refused).")
@runtime_option()
@arch_option()
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Layer zip to write, atomically [default: layer.zip].")
@click.option("--budget", default=None,
              help="Unzipped size limit: bytes or 250MiB/262MB [default: 262144000, Lambda's].")
@json_option("Write the versioned JSON report here.")
@click.option("--html", "html_out", type=click.Path(path_type=Path), default=None,
              help="Also write the HTML report (zoomable treemap of where the bytes go).")
@click.option("--dry-run", is_flag=True, default=None,
              help="Resolve, install and plan; print the plan; remove and write nothing.")
@keep_option("Protect matching paths (below python/) from every rule. Repeatable.")
@_rule_options
@click.option("--compile", "compile_mode", default=None, is_flag=False, flag_value="all",
              type=click.Choice(COMPILE_MODES),
              help="What gets target bytecode (unchecked-hash pycs): `imported` (default) "
              "the modules a cold start imports, found by verification; `all` (bare --compile) "
              "every module; `traced` what the --trace workload touched; `none` sources only.")
@click.option("--no-compile", "no_compile", is_flag=True, default=False,
              help="Ship sources only (smaller, slower cold starts).")
@click.option("--smoke", multiple=True, type=click.Path(path_type=Path), metavar="FILE",
              help="Also run this script against the pruned layer. Repeatable.")
@click.option("--trace", multiple=True, type=click.Path(path_type=Path), metavar="SCRIPT",
              help="Trace this workload and drop what it never touches. Repeatable.")
@trace_granularity_option("What --trace removes: untouched subpackages (default), modules, "
                          "or single files.")
@click.option("--smoke-timeout", type=float, default=None, metavar="SECONDS",
              help="Time limit of each --smoke/--trace script "
              f"[default: {DEFAULT_SMOKE_TIMEOUT:g}].")
@system_lib_option("A shared library another layer or a custom runtime provides (e.g. "
                   "libgomp.so.1 in a layer's lib/, which is /opt/lib). Repeatable.")
@click.option("--sandbox/--no-sandbox", "sandbox", default=None,
              help="Run layer code (imports, --smoke, --trace) in the Lambda-like sandbox "
              "[default: on when this machine allows it; --no-sandbox: on this host, where its "
              "libraries stay visible].")
@click.option("--memory", type=click.IntRange(*MEMORY_RANGE), default=None, metavar="MB",
              help="The function's memory size: fail when the layer's peak RSS does not fit.")
@click.option("--ephemeral-storage", "ephemeral_storage", type=click.IntRange(*EPHEMERAL_RANGE),
              default=None, metavar="MB",
              help="The function's /tmp size (EphemeralStorage): the sandbox's /tmp holds this "
              "much [default: 512, Lambda's default].")
@click.option("--repair", is_flag=True, default=None,
              help="If verification fails, put back the files that broke it and re-verify.")
@click.option("--strict", is_flag=True, default=None,
              help="Refuse the layer when optional parts will not import or load on Lambda "
              "(submodules, native plugins, extra packages no requested import or smoke uses); "
              "by default they are listed as warnings.")
@click.option("--require-verify", is_flag=True, default=None,
              help="Fail (exit 6) instead of skipping verification when no interpreter of "
              "the target version (for another architecture: QEMU and an interpreter of that "
              "architecture) is found.")
@click.option("--python", default=None, metavar="PATH",
              help="Interpreter of the target's Python version; for an arm64 layer on x86_64 "
              "an aarch64 one (or a wrapper script) run under QEMU [default: discovered].")
@click.option("--event", type=click.Path(path_type=Path), default=None, metavar="FILE",
              help="With --handler: invoke the handler once with this JSON event after its "
              "init (as `lambda-slim invoke` does); a failure fails the build (exit 5).")
@click.option("--runtime-sdk", default=None, metavar="botocore==X.Y.Z",
              help="The AWS SDK your function's runtime has (print botocore.__version__ in "
              "it): the runtime-provided rule and verification judge against it [default: the "
              "runtime's floor].")
@layer_option("Build [tool.lambda-slim.layers.NAME] from ./pyproject.toml.")
@click.option("--all", "all_layers", is_flag=True, help="Build every layer in ./pyproject.toml.")
@click.option("-j", "--jobs", type=int, default=None, help="Parallel workers [default: CPUs].")
@click.option("--zip-level", type=click.IntRange(0, 9), default=None,
              help="Deflate level [default: 6; 9 saves ~0.6% for 2.5x the time].")
@click.option("--installer", type=click.Choice(list(INSTALLERS)), default=None,
              help="How resolved wheels are installed: unpacked in parallel per the wheel spec "
              "(default, fast) or by `pip install --target` under the target interpreter.")
@click.option("--variants/--no-variants", "variants", default=None,
              help="Replace GPU/GUI distributions by their CPU/headless drop-in variants "
              "(xgboost -> xgboost-cpu, opencv-python -> opencv-python-headless, …) "
              "[default: on].")
@click.option("--variant", "variant", multiple=True, metavar="ORIG=REPLACEMENT",
              help="Add a variant: install REPLACEMENT wherever ORIG is required. Repeatable.")
@click.option("--overflow/--no-overflow", "overflow", default=None,
              help="When the layer does not fit, pack the largest distributions the handler "
              "does not need at start into archives unpacked into /tmp at cold start.")
@click.option("--refresh", is_flag=True, default=None,
              help="Re-resolve requirements (pick up new releases) and rebuild from scratch.")
@click.option("--no-result-cache", "no_result_cache", is_flag=True, default=False,
              help="Rebuild even if an identical build is cached (the resolution is still reused).")
@click.option("--cache-dir", type=click.Path(path_type=Path), default=None,
              help="Wheel and result cache [default: ~/.cache/lambda-slim, or "
              "$LAMBDA_SLIM_CACHE_DIR].")
@click.option("-v", "--verbose", is_flag=True, help="With --dry-run, list every planned removal.")
@quiet_option
def build_cmd(requirements: Path | None, json_path: Path | None, html_out: Path | None,
              no_compile: bool,
              compile_mode: str | None, layer: str | None, all_layers: bool, verbose: bool,
              quiet: bool, cache_dir: Path | None, no_result_cache: bool, dry_run: bool | None,
              **opts: Any) -> int:
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
    if compile_mode not in (None, "none") and no_compile:
        raise InputError("--compile and --no-compile contradict each other.",
                         hint="Pass one of them.")
    args = BuildArgs(
        requirements=str(requirements) if requirements else None,
        runtime=opts["runtime"], arch=opts["arch"],
        output=str(opts["output"]) if opts["output"] else None,
        budget=opts["budget"], json=str(json_path) if json_path else None,
        keep=tuple(opts["keep"]), rule_flags=rule_flags,
        compile="none" if no_compile else compile_mode,
        smoke=tuple(str(s) for s in opts["smoke"]), trace=tuple(str(s) for s in opts["trace"]),
        trace_granularity=opts["trace_granularity"], repair=opts["repair"],
        require_verify=opts["require_verify"], python=opts["python"], jobs=opts["jobs"],
        zip_level=opts["zip_level"], refresh=opts["refresh"], installer=opts["installer"],
        cache_dir=str(cache_dir) if cache_dir else None,
        result_cache=False if no_result_cache else None,
        smoke_timeout=opts["smoke_timeout"], memory=opts["memory"],
        ephemeral_storage=opts["ephemeral_storage"],
        system_libs=tuple(opts["system_libs"]), sandbox=opts["sandbox"],
        variants=opts["variants"], variant=tuple(opts["variant"]), overflow=opts["overflow"],
        groups=tuple(opts["groups"]), extras=tuple(opts["extras"]),
        no_default_groups=opts["no_default_groups"],
        function=str(opts["function"]) if opts["function"] else None,
        layer_zips=tuple(str(z) for z in opts["layer_zips"]), handler=opts["handler"],
        with_project=opts["with_project"], strict=opts["strict"],
        allow_empty=opts["allow_empty"], symlinks=opts["symlinks"],
        runtime_sdk=opts["runtime_sdk"],
        event=str(opts["event"]) if opts["event"] else None,
    )
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
