"""``lambda-slim why``: which requirement chains bring a distribution into the layer."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click
from rich.markup import escape

from ..build import build
from ..inputs.args import BuildArgs
from ..inputs.config import build_config
from ..report.jsonio import read_report
from ..report.model import LayerReport
from ..report.why import explain
from ..sizes import human
from ..target.python import env_snapshot
from ..target.runtimes import ARCHES, RUNTIMES
from . import main_group
from .exits import exit_code_help
from .render import console, err_console


def _is_report(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read(1) == "{"
    except (OSError, UnicodeDecodeError):
        return False


def _report_from_requirements(path: Path | None, runtime: str | None, arch: str | None,
                              cache_dir: Path | None) -> LayerReport:
    """Build the layer (an identical earlier build is reused from the result cache) into a
    temporary folder and return its report: the graph and the final bytes are the real ones."""
    env = env_snapshot()
    err_console.print("building the layer to read its dependency graph (an identical "
                      "earlier build is reused)…", style="dim")
    with tempfile.TemporaryDirectory(prefix="lambda-slim-why-") as tmp:
        args = BuildArgs(requirements=str(path) if path else None, runtime=runtime, arch=arch,
                         output=str(Path(tmp) / "layer.zip"),
                         cache_dir=str(cache_dir) if cache_dir else None)
        config = build_config(args, env, Path.cwd())
        return build(config, env).report


@main_group.command(
    "why",
    epilog="""\b
Examples:
  lambda-slim why tzdata report.json                # from a `build --json` report
  lambda-slim why six requirements.txt              # builds (or reuses the cached build)
  lambda-slim why nvidia-nccl-cu12                  # ./requirements.txt
""" + exit_code_help("why"),
)
@click.argument("name")
@click.argument("source", required=False, type=click.Path(path_type=Path))
@click.option("--runtime", type=click.Choice(list(RUNTIMES)), default=None,
              help="With a requirements file: Lambda runtime [default: python3.12].")
@click.option("--arch", type=click.Choice(list(ARCHES)), default=None,
              help="With a requirements file: architecture [default: x86_64].")
@click.option("--cache-dir", type=click.Path(path_type=Path), default=None,
              help="Wheel and result cache [default: ~/.cache/lambda-slim].")
def why_cmd(name: str, source: Path | None, runtime: str | None, arch: str | None,
            cache_dir: Path | None) -> int:
    """Why is distribution NAME in the layer? SOURCE is a build report (build --json) or
    a requirements file [default: ./requirements.txt]. Shows the requirement chains that
    bring NAME in (markers judged for the target), its bytes, what only it brings, and what
    would remove it (a requirement, an extra, a marker, a drop-in variant)."""
    if source is not None and (source.suffix == ".json" or _is_report(source)):
        rep = read_report(source)
    else:
        rep = _report_from_requirements(source, runtime, arch, cache_dir)
    w = explain(rep, name)
    console.print(f"[bold]{escape(w.name)} {escape(w.version)}[/]: {human(w.final_bytes)} in "
                  f"the layer ({w.final_bytes:,} bytes; {human(w.installed_bytes)} as installed), "
                  f"target {w.target}")
    if w.requested:
        console.print("requested: " + ", ".join(f"`{escape(r)}`" for r in w.requested))
    if w.chains:
        console.print("brought in by:")
        for chain in w.chains:
            steps = [escape(chain[0].parent)] + [
                escape(x.child) + (f" [dim](via `{escape(x.spec)}`)[/]" if x.extra or x.marker
                                   else "") for x in chain]
            console.print("  " + " → ".join(steps))
    elif not w.requested:
        console.print("brought in by: nothing on this target (see below)")
    if w.only_via:
        console.print("only it brings: " + ", ".join(f"{escape(n)} ({human(b)})"
                                                     for n, b in w.only_via)
                      + f" — {human(w.only_bytes)} more")
    for r in w.removals:
        console.print(f"[cyan]to remove it:[/] {escape(r)}")
    return 0
