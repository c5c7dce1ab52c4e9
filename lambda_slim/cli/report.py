"""``lambda-slim report``: show a saved build report, or turn it into the HTML page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..artifact.atomic import atomic_write_text, require_parent
from ..errors import InputError
from ..report.html import render_html
from ..report.jsonio import report_from_json
from ..report.model import LayerReport
from . import main_group
from .exits import exit_code_help
from .render import console, render


def load_report(path: Path) -> dict[str, Any]:
    """A ``build --json`` report, or a clear error naming what the file is instead."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"Report {path} does not exist.",
                         hint="Write one with `lambda-slim build --json report.json`.") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"Cannot read the report {path}: {exc}.",
                         hint="Pass the file written by `lambda-slim build --json`.") from None
    if not isinstance(doc, dict) or "packages" not in doc or "final_bytes" not in doc:
        raise InputError(
            f"{path} is not a build report (no \"packages\" and \"final_bytes\").",
            hint="Pass the file written by `lambda-slim build --json` (a `check --json` or "
            "manifest file is not a build report).",
        )
    return doc


def typed_report(doc: dict[str, Any], path: Path) -> LayerReport:
    """The typed report of a loaded ``build --json`` file (clear error when it is too old)."""
    try:
        return report_from_json(doc)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(
            f"{path} is a build report this lambda-slim cannot read ({exc!r} is missing or "
            "unexpected).",
            hint="Rebuild with this version (`lambda-slim build --json`) to regenerate it.",
        ) from None


def write_html(rep: dict[str, Any], out: Path) -> None:
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
    doc = load_report(report_path)
    if html_out is not None:
        write_html(doc, html_out)
    if not quiet:
        console.print(render(typed_report(doc, report_path)))
        if html_out is not None:
            console.print(f"wrote {html_out}")
    return 0
