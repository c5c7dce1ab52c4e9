"""``lambda-slim report``: show a saved build report, or turn it into the HTML page."""

from __future__ import annotations

from pathlib import Path

import click

from ..artifact.atomic import atomic_write_text, require_parent
from ..build.guard import check_outputs
from ..report.html import render_html
from ..report.jsonio import read_report
from ..report.model import LayerReport
from . import main_group
from .exits import exit_code_help
from .render import console, render


def write_html(rep: LayerReport, out: Path) -> None:
    require_parent(out, "--html")
    atomic_write_text(out, render_html(rep))


@main_group.command(
    "report",
    epilog="""\b
Examples:
  lambda-slim report report.json                     # the size tables again
  lambda-slim report report.json --html report.html  # the zoomable treemap page

\b
The page is one self-contained file: no network, no CDN; open it in any browser.
""" + exit_code_help("report"),
)
@click.argument("report_path", metavar="REPORT", type=click.Path(path_type=Path))
@click.option("--html", "html_out", type=click.Path(path_type=Path), default=None,
              help="Write the HTML report (treemap, budget, rules, verification) here.")
@click.option("-q", "--quiet", is_flag=True, help="Do not print the tables.")
def report_cmd(report_path: Path, html_out: Path | None, quiet: bool) -> int:
    """Show the build report REPORT (from `build --json`), and write it as HTML."""
    if html_out is not None:  # before any work: never over the report, and writable
        check_outputs([("REPORT", report_path)], [("--html", html_out)])
    rep = read_report(report_path)
    if html_out is not None:
        write_html(rep, html_out)
    if not quiet:
        console.print(render(rep))
        if html_out is not None:
            console.print(f"wrote {html_out}")
    return 0
