"""``lambda-slim diff``: how two builds differ in size, for people and pull requests."""

from __future__ import annotations

import os
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from ..build.guard import check_outputs
from ..errors import EXIT_GROWTH, EXIT_OK
from ..report.diff import SizeDiff, compare, load_snapshot, markdown, parse_growth, signed
from ..sizes import human
from . import main_group
from .exits import exit_code_help
from .render import console, err_console


def _table(diff: SizeDiff) -> Table:
    t = Table(title=f"{escape(diff.old.source)} → {escape(diff.new.source)}",
              title_justify="left")
    for col, just in (("distribution", "left"), ("version", "left"), ("unzipped", "right"),
                      ("Δ unzipped", "right"), ("Δ zipped", "right")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for c in diff.changed:
        style = "red" if c.d_unzipped > 0 else "green" if c.d_unzipped < 0 else ""
        t.add_row(escape(c.name), escape(c.version_label),
                  human(c.new.unzipped) if c.new else "–", signed(c.d_unzipped),
                  signed(c.d_zipped), style=style)
    t.add_section()
    t.add_row("total", "", human(diff.new.unzipped), signed(diff.d_unzipped),
              signed(diff.d_zipped), style="bold")
    return t


@main_group.command(
    "diff",
    epilog="""\b
Examples:
  lambda-slim diff base.json pr.json                 # two `build --json` reports
  lambda-slim diff old/layer.zip new/layer.zip       # zips (manifest beside them is used)
  lambda-slim diff base.json pr.json --markdown      # a pull-request comment
  lambda-slim diff base.json pr.json --fail-on-growth 5%
  lambda-slim diff base.json pr.json --fail-on-growth 2MiB

\b
In GitHub Actions ($GITHUB_STEP_SUMMARY set) the Markdown table is also appended
to the job summary.
""" + exit_code_help("diff"),
)
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option("--markdown", "as_markdown", is_flag=True,
              help="Print GitHub-flavoured Markdown (for a pull-request comment).")
@click.option("--fail-on-growth", "growth", default=None, metavar="SIZE|PCT",
              help="Exit 8 when the unzipped size grew by more than SIZE (5MiB, 1000000) or "
              "PCT of OLD (2%).")
@click.option("--title", default="lambda-slim size diff", show_default=True,
              help="Heading of the Markdown table.")
def diff_cmd(old: Path, new: Path, as_markdown: bool, growth: str | None, title: str) -> int:
    """Compare two builds: OLD and NEW are each a build report (build --json), a build
    manifest (<zip>.manifest.json) or a layer zip. Shows the total and per-distribution
    change in unzipped and zipped bytes, added and removed distributions, version changes
    and how much each rule saved."""
    limit = parse_growth(growth) if growth is not None else None
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:  # appended to at the end: checked before any work, never over OLD or NEW
        check_outputs([("OLD", old), ("NEW", new)], [("GITHUB_STEP_SUMMARY", Path(summary))],
                      appended=[Path(summary)])
    diff = compare(load_snapshot(old), load_snapshot(new))
    md = markdown(diff, title)
    if as_markdown:
        click.echo(md, nl=False)
    else:
        console.print(_table(diff))
        for r in diff.rules:
            if r.old != r.new:
                console.print(f"rule {escape(r.name)}: saved {human(r.old)} → {human(r.new)} "
                              f"({signed(r.new - r.old)} bytes)")
    if summary:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(md + "\n")
    if limit is not None and limit.exceeded(diff):
        err_console.print(f"[red]grew by {diff.d_unzipped:,} bytes[/] unzipped, more than "
                          f"--fail-on-growth {escape(limit.text)}")
        return EXIT_GROWTH
    return EXIT_OK
