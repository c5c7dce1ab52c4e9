"""``lambda-slim check``: the CI size gate."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from ..artifact.atomic import atomic_write_text
from ..build.guard import check_outputs
from ..check import (
    CheckReport,
    annotation,
    append_step_summary,
    check_paths,
    github_annotations,
    markdown_summary,
    verdict_of,
)
from ..check.verify import ImportCheck
from ..errors import InputError
from ..inputs.config import default_cache_dir
from ..sizes import DEFAULT_BUDGET, human, parse_size
from ..target.runtimes import DEFAULT_ARCH, DEFAULT_RUNTIME
from ..target.sdk import parse_runtime_sdk
from . import main_group
from .exits import exit_code_help
from .options import (
    arch_option,
    json_option,
    runtime_option,
    setting_option,
    system_lib_option,
)
from .render import console, err_console

_STYLE = {"ok": "green", "warn": "yellow", "fail": "red"}


def _render(report: CheckReport) -> None:
    table = Table(title=f"lambda-slim check: {report.target.describe()} "
                        f"(from {report.target_source}), budget {human(report.budget)}",
                  title_justify="left")
    table.add_column("path", overflow="fold", ratio=1)
    for col in ("unzipped", "zipped", "files", "budget"):
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    for r in report.paths:
        v = verdict_of(r.findings)
        pk = ", ".join(f"{p.name} {human(p.unzipped)}" for p in r.packages[:5])
        table.add_row(
            f"{escape(r.path)} [dim]({r.kind})[/]" + (f"\n[dim]  {escape(pk)}[/]" if pk else ""),
            human(r.unzipped), human(r.zipped) if r.zipped is not None else "–",
            f"{r.files:,}", f"{r.share(report.budget):.1%}", f"[{_STYLE[v]}]{v}[/]",
        )
    zipped = report.zipped
    color = "red" if report.exit_code else "green"
    table.add_row(
        "[bold]total[/]", f"[bold]{human(report.unzipped)}[/]",
        human(zipped) if zipped is not None else "–", f"{report.files:,}",
        f"[bold {color}]{report.share:.1%}[/]", f"[bold {color}]{report.verdict}[/]",
    )
    console.print(table)
    for f in report.all_findings:
        where = f" {escape(f.path)}:" if f.path else ""
        style = "red" if f.level == "error" else "yellow"
        err_console.print(f"[bold {style}]{f.level}:[/]{where} {escape(f.message)}",
                          highlight=False,
                          soft_wrap=True)


@main_group.command(
    "check",
    epilog=f"""\b
Examples:
  lambda-slim check layer.zip
  lambda-slim check layer.zip numpy-layer.zip --function function.zip --budget 200MiB
  lambda-slim check build/layer/ --runtime python3.11 --arch arm64 --json check.json
  lambda-slim check other-tool-layer.zip --verify     # import it in the Lambda-like sandbox
  lambda-slim check layer.zip --verify --runtime-sdk botocore==1.40.4

\b
A PATH whose files live under python/ (or that has a build manifest
<zip stem>.manifest.json beside it) is a layer; the first other PATH is the
function code. --function marks the function explicitly; then every PATH is a layer.
The target defaults to the manifest's "target" (else {DEFAULT_RUNTIME} / {DEFAULT_ARCH}).

\b
In GitHub Actions (GITHUB_ACTIONS=true) findings are also printed as ::error /
::warning annotations and a Markdown table is appended to $GITHUB_STEP_SUMMARY.
""" + exit_code_help("check"),
)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--function", "function", type=click.Path(path_type=Path), default=None,
              help="The function's code (zip or folder); every PATH is then a layer.")
@click.option("--budget", default=str(DEFAULT_BUDGET), show_default=True, metavar="SIZE",
              help="Unzipped size limit for the function plus its layers: bytes or "
                   "250MiB / 200MB / 1GiB (MB = 10^6, MiB = 2^20).")
@runtime_option("Lambda runtime for the glibc check [default: from the build manifest, "
                f"else {DEFAULT_RUNTIME}].")
@arch_option(f"Lambda architecture [default: from the build manifest, else {DEFAULT_ARCH}].")
@system_lib_option("A shared library another layer or a custom runtime provides (the closure "
                   "audit then accepts it). Repeatable.")
@setting_option("strict", "Refuse (exit 4) every native file needing a shared library Lambda "
                          "lacks, even one nothing shown to run loads (an optional plugin); by "
                          "default those are warnings.")
@click.option("--verify", "verify", is_flag=True,
              help="Also unpack the PATHs and import every distribution's own packages in the "
                   "Lambda-like sandbox, as build's import check does: a native file such an "
                   "import loads whose library Lambda lacks is an error (exit 4).")
@setting_option("require_verify", "With --verify: fail (exit 6) instead of importing on this "
                                  "host when the Lambda-like sandbox (or an interpreter of the "
                                  "target version) is not available.")
@setting_option("runtime_sdk", "With --verify: the AWS SDK your function's runtime has (print "
                              "botocore.__version__ in it), which the imports run against "
                              "[default: the runtime's floor].")
@json_option("Also write the result as JSON (atomically).", dest="json_out", dir_okay=False)
def check_command(paths: tuple[Path, ...], function: Path | None, budget: str,
                  runtime: str | None, arch: str | None, system_libs: tuple[str, ...],
                  strict: bool | None, verify: bool, require_verify: bool | None,
                  runtime_sdk: str | None, json_out: Path | None) -> int:
    """Gate a function and its layers on Lambda's size limits, without unzipping.

    Sizes come from each zip's central directory. For each PATH and for the total:
    unzipped bytes, zipped bytes, files, share of the budget (default 262,144,000
    bytes, Lambda's limit), the largest top-level packages, and a verdict. Also flags
    more than 5 layers, zips over 50 MB (publishable only through S3), layer files not
    under python/, native files built for the wrong architecture or needing a newer
    glibc than the runtime has, and native files needing a shared library that neither the
    runtime nor any PATH provides (the loader's search, followed statically). Such a file
    fails on Lambda only if something loads it: it is an error when the verification of the
    build that made the zip (its manifest) saw it loaded, or with --strict; otherwise a
    warning (an optional plugin such as numba's omppool is never loaded unless used).
    --verify imports the PATHs' packages in the Lambda-like sandbox to find out.
    """
    if json_out is not None:
        inputs = [("PATH", p) for p in paths] + ([("--function", function)] if function else [])
        check_outputs(inputs, [("--json", json_out)])
    if require_verify and not verify:
        raise InputError("--require-verify needs --verify (it says what to do when the "
                         "sandbox that --verify imports in is not available).",
                         hint="Add --verify, or drop --require-verify.")
    if runtime_sdk is not None:
        if not verify:
            raise InputError("--runtime-sdk needs --verify (the imports run against it).",
                             hint="Add --verify, or drop --runtime-sdk.")
        parse_runtime_sdk(runtime_sdk)  # a bad value is exit 2 before any work
    verifier = ImportCheck(dict(os.environ), require=bool(require_verify),
                           system_libs=tuple(system_libs),
                           cache_dir=default_cache_dir(os.environ),
                           runtime_sdk=runtime_sdk) if verify else None
    report = check_paths(list(paths), function=function, budget=parse_size(budget),
                         runtime=runtime, arch=arch, system_libs=system_libs,
                         strict=bool(strict), verify=verifier)
    _render(report)
    if json_out is not None:
        atomic_write_text(json_out, json.dumps(report.to_json(), indent=2) + "\n")
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for line in github_annotations(report):
            click.echo(line)
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        problem = append_step_summary(Path(summary), markdown_summary(report)) if summary else None
        if problem:
            err_console.print(f"[bold yellow]warning:[/] {escape(problem)}", highlight=False)
            click.echo(annotation("warning", "step-summary", problem))
    return report.exit_code
