"""``lambda-slim build``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ..artifact.atomic import require_parent
from ..build import build
from ..errors import EXIT_OVER_BUDGET, InputError
from ..inputs.config import build_config, layer_names
from ..rules import RULES
from ..target.python import env_snapshot
from ..target.runtimes import ARCHES, RUNTIMES
from . import main_group, set_exit_code
from .render import console, err_console, render, render_plan
from .report import write_html


class RichProgress:
    """Draws one bar per stage on stderr; notes are printed above the bars."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar = Progress(
            TextColumn("[bold blue]{task.description:<8}"), BarColumn(),
            TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
            console=err_console, transient=True, disable=quiet,
        )
        self.task: Any = None

    def __enter__(self) -> RichProgress:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(None, None, None)

    def stage(self, name: str, total: int | None = None) -> None:
        if self.task is not None:
            self.bar.update(self.task, completed=self.bar.tasks[-1].total or 1)
            self.bar.remove_task(self.task)
        self.task = self.bar.add_task(name, total=total)

    def advance(self, n: int = 1) -> None:
        if self.task is not None:
            self.bar.advance(self.task, n)

    def note(self, message: str) -> None:
        err_console.print(f"[yellow]note:[/] {message}")


def _rule_options(f: Any) -> Any:
    for rule in reversed(list(RULES)):
        f = click.option(
            f"--{rule}/--no-{rule}", f"rule_{rule.replace('-', '_')}", default=None,
            help=f"Rule `{rule}` (on by default): {RULES[rule]}.",
        )(f)
    return f


@main_group.command(
    "build",
    epilog="""\b
Examples:
  lambda-slim build                                  # ./requirements.txt, python3.12 x86_64
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
Exit codes: 0 ok, 1 over budget (zip still written), 2 bad input,
3 no wheel for the target, 4 native file can't run on the target,
5 verification failed, 6 tool missing, 130 interrupted.""",
)
@click.argument("requirements", metavar="[PATH]", required=False, type=click.Path(path_type=Path))
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
@click.option("--runtime", type=click.Choice(list(RUNTIMES)), default=None,
              help="Lambda runtime [default: python3.12].")
@click.option("--arch", type=click.Choice(list(ARCHES)), default=None,
              help="Lambda architecture [default: x86_64].")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Layer zip to write, atomically [default: layer.zip].")
@click.option("--budget", default=None,
              help="Unzipped size limit: bytes or 250MiB/262MB [default: 262144000, Lambda's].")
@click.option("--json", "json_path", type=click.Path(path_type=Path), default=None,
              help="Write the versioned JSON report here.")
@click.option("--html", "html_out", type=click.Path(path_type=Path), default=None,
              help="Also write the HTML report (zoomable treemap of where the bytes go).")
@click.option("--dry-run", is_flag=True, default=None,
              help="Resolve, install and plan; print the plan; remove and write nothing.")
@click.option("--keep", multiple=True, metavar="GLOB",
              help="Protect matching paths (below python/) from every rule. Repeatable.")
@_rule_options
@click.option("--compile", "compile_mode", default=None, is_flag=False, flag_value="all",
              type=click.Choice(["all", "traced"]),
              help="Byte-compile with the target interpreter (unchecked-hash pycs, default) — "
              "or only the traced modules with --compile=traced.")
@click.option("--no-compile", "no_compile", is_flag=True, default=False,
              help="Ship sources only (smaller, slower cold starts).")
@click.option("--smoke", multiple=True, type=click.Path(path_type=Path), metavar="FILE",
              help="Also run this script against the pruned layer. Repeatable.")
@click.option("--trace", multiple=True, type=click.Path(path_type=Path), metavar="SCRIPT",
              help="Trace this workload and drop what it never touches. Repeatable.")
@click.option("--trace-granularity", type=click.Choice(["package", "module", "file"]),
              default=None, help="What --trace removes: untouched subpackages (default), "
              "modules, or single files.")
@click.option("--smoke-timeout", type=float, default=None, metavar="SECONDS",
              help="Time limit of each --smoke/--trace script [default: 300].")
@click.option("--system-lib", "system_lib", multiple=True, metavar="SONAME",
              help="A shared library another layer or a custom runtime provides (e.g. "
              "libgomp.so.1 in a layer's lib/, which is /opt/lib). Repeatable.")
@click.option("--memory", type=int, default=None, metavar="MB",
              help="The function's memory size: fail when the layer's peak RSS does not fit.")
@click.option("--repair", is_flag=True, default=None,
              help="If verification fails, put back the files that broke it and re-verify.")
@click.option("--require-verify", is_flag=True, default=None,
              help="Fail (exit 6) instead of skipping verification when no interpreter of "
              "the target version is found.")
@click.option("--python", default=None, metavar="PATH",
              help="Interpreter of the target's Python version [default: discovered].")
@click.option("--layer", default=None, metavar="NAME",
              help="Build [tool.lambda-slim.layers.NAME] from ./pyproject.toml.")
@click.option("--all", "all_layers", is_flag=True, help="Build every layer in ./pyproject.toml.")
@click.option("-j", "--jobs", type=int, default=None, help="Parallel workers [default: CPUs].")
@click.option("--zip-level", type=click.IntRange(0, 9), default=None,
              help="Deflate level [default: 6; 9 saves ~0.6% for 2.5x the time].")
@click.option("--installer", type=click.Choice(["unpack", "pip"]), default=None,
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
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
def build_cmd(requirements: Path | None, json_path: Path | None, html_out: Path | None,
              no_compile: bool,
              compile_mode: str | None, layer: str | None, all_layers: bool, verbose: bool,
              quiet: bool, cache_dir: Path | None, no_result_cache: bool, **opts: Any) -> None:
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
    rule_flags = {r: opts.pop(f"rule_{r.replace('-', '_')}") for r in RULES}
    if compile_mode and no_compile:
        raise InputError("--compile and --no-compile contradict each other.",
                         hint="Pass one of them.")
    cli: dict[str, Any] = {
        "requirements": str(requirements) if requirements else None,
        "runtime": opts["runtime"], "arch": opts["arch"],
        "output": str(opts["output"]) if opts["output"] else None,
        "budget": opts["budget"], "json": str(json_path) if json_path else None,
        "dry-run": opts["dry_run"], "keep": list(opts["keep"]) or None,
        "compile": "none" if no_compile else compile_mode,
        "smoke": [str(s) for s in opts["smoke"]] or None,
        "trace": [str(s) for s in opts["trace"]] or None,
        "trace-granularity": opts["trace_granularity"],
        "repair": opts["repair"], "require-verify": opts["require_verify"],
        "python": opts["python"], "jobs": opts["jobs"], "zip-level": opts["zip_level"],
        "refresh": opts["refresh"], "rule-flags": rule_flags, "installer": opts["installer"],
        "variants": opts["variants"], "variant": list(opts["variant"]) or None,
        "overflow": opts["overflow"],
        "cache-dir": str(cache_dir) if cache_dir else None,
        "result-cache": False if no_result_cache else None,
        "smoke-timeout": opts["smoke_timeout"], "memory": opts["memory"],
        "system-libs": list(opts["system_lib"]) or None,
        "groups": list(opts["groups"]) or None, "extras": list(opts["extras"]) or None,
        "no-default-groups": opts["no_default_groups"],
        "function": str(opts["function"]) if opts["function"] else None,
        "layer-zips": [str(z) for z in opts["layer_zips"]] or None,
        "handler": opts["handler"], "with-project": opts["with_project"],
    }
    if html_out is not None and (all_layers or opts["dry_run"]):
        raise InputError(
            "--html writes one layer's report; it cannot be combined with "
            + ("--all" if all_layers else "--dry-run (nothing is built)") + ".",
            hint="Build with --json per layer and run `lambda-slim report FILE --html OUT`.",
        )
    if html_out is not None:
        require_parent(html_out, "--html")
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
    worst = 0
    for name in names:
        if len(names) > 1 or name:
            console.rule(f"layer {name}")
        config = build_config(cli, env, cwd, layer=name)
        with RichProgress(quiet) as progress:
            outcome = build(config, env, progress=progress)
        if config.dry_run:
            console.print(render_plan(outcome.plan, verbose=verbose))
            cands = outcome.report.get("strip_candidates", [])
            if cands:
                console.print(f"strip: {len(cands)} native files would be stripped with "
                              "--strip-unneeded (savings are measured when applied)"
                              + ("" if not verbose else ":\n  " + "\n  ".join(cands)))
            console.print(f"dry run: {len(outcome.plan)} removals planned; nothing was changed.")
            continue
        console.print(render(outcome.report))
        if html_out is not None:
            write_html(outcome.report, html_out)
            console.print(f"wrote {html_out}")
        if outcome.over_budget:
            worst = max(worst, EXIT_OVER_BUDGET)
    set_exit_code(worst)
