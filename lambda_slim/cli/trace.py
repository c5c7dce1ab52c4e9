"""``lambda-slim trace``: what a workload touches, and what a trace would remove."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from ..artifact.atomic import atomic_write_text, require_parent
from ..build import build
from ..errors import InputError
from ..inputs.config import build_config
from ..sizes import human
from ..target.python import env_snapshot
from ..target.runtimes import ARCHES, RUNTIMES
from . import main_group
from .build import RichProgress
from .render import console


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
rule back if anything fails.""",
)
@click.argument("requirements", required=False, type=click.Path(path_type=Path))
@click.option("--smoke", "scripts", multiple=True, required=True, type=click.Path(path_type=Path),
              metavar="SCRIPT", help="Workload to trace (repeatable; the union is kept).")
@click.option("--runtime", type=click.Choice(list(RUNTIMES)), default=None,
              help="Lambda runtime [default: python3.12].")
@click.option("--arch", type=click.Choice(list(ARCHES)), default=None,
              help="Lambda architecture [default: x86_64].")
@click.option("--trace-granularity", type=click.Choice(["package", "module", "file"]),
              default=None, help="Remove untouched subpackages (default), modules, or files.")
@click.option("--keep", multiple=True, metavar="GLOB", help="Never remove these paths.")
@click.option("--json", "json_path", type=click.Path(path_type=Path), default=None,
              help="Write the trace report (and the would-remove list) here.")
@click.option("--layer", default=None, metavar="NAME",
              help="Use [tool.lambda-slim.layers.NAME] from ./pyproject.toml.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
def trace_cmd(requirements: Path | None, scripts: tuple[Path, ...], runtime: str | None,
              arch: str | None, trace_granularity: str | None, keep: tuple[str, ...],
              json_path: Path | None, layer: str | None, quiet: bool) -> None:
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
    if json_path is not None:
        require_parent(json_path, "--json")
    env = env_snapshot()
    cli: dict[str, Any] = {
        "requirements": str(requirements) if requirements else None, "runtime": runtime,
        "arch": arch, "trace": [str(s) for s in scripts], "trace-granularity": trace_granularity,
        "keep": list(keep) or None, "trace-preview": True, "compile": "none",
        "result-cache": False,
    }
    config = build_config(cli, env, Path.cwd(), layer=layer)
    with RichProgress(quiet) as progress:
        outcome = build(config, env, progress=progress)
    rep = outcome.report
    tr = rep["trace"]
    table = Table(title="What the workload never touched", title_justify="left")
    table.add_column("package")
    table.add_column("files", justify="right")
    table.add_column("would remove", justify="right")
    by_pkg: dict[str, tuple[int, int]] = {}
    owner = {e["path"]: e.get("package", "") for e in rep.get("trace_plan", [])}
    for e in rep.get("trace_plan", []):
        n, b = by_pkg.get(owner[e["path"]], (0, 0))
        by_pkg[owner[e["path"]]] = (n + 1, b + e["bytes"])
    for pkg, (n, b) in sorted(by_pkg.items(), key=lambda kv: -kv[1][1]):
        table.add_row(pkg, str(n), human(b))
    table.add_section()
    table.add_row("total", str(tr["removed_files"]), human(tr["removed_bytes"]), style="bold")
    console.print(table)
    console.print(
        f"touched: {tr['touched_files']} files ({human(tr['touched_bytes'])}), "
        f"{tr['modules']} modules, by {', '.join(tr['scripts'])}; layer now "
        f"{human(rep['final_bytes'])}, after trace ~{human(rep['final_bytes'] - tr['removed_bytes'])}"
        f" ({tr['granularity']} granularity)")
    for group in tr.get("identical_files", [])[:5]:
        console.print(f"identical ({human(group['bytes'])} each): " + ", ".join(group["paths"]))
    if json_path is not None:
        atomic_write_text(json_path, json.dumps(rep, indent=2) + "\n")
