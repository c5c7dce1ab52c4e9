"""CI outputs of ``check``: GitHub workflow annotations and the step-summary Markdown."""

from __future__ import annotations

from pathlib import Path

from ..report.markdown import code, text
from ..sizes import human
from .model import CheckReport, verdict_of


def _escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_prop(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


def annotation(level: str, code: str, message: str, path: str | None = None) -> str:
    """One ``::error``/``::warning`` workflow command, escaped as GitHub requires."""
    props = f"title={_escape_prop('lambda-slim check: ' + code)}"
    if path:
        props = f"file={_escape_prop(path)}," + props
    return f"::{level} {props}::{_escape_data(message)}"


def github_annotations(report: CheckReport) -> list[str]:
    """``::error``/``::warning`` workflow commands, one per finding."""
    return [annotation(f.level, f.code, f.message, f.path) for f in report.all_findings]


def append_step_summary(path: Path, text: str) -> str | None:
    """Append to ``$GITHUB_STEP_SUMMARY``; a summary that cannot be written is a warning
    (returned), never a failed gate: the verdict is the exit code's."""
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        return (f"cannot append the summary to GITHUB_STEP_SUMMARY={path} "
                f"({exc.strerror or exc}); the verdict is unaffected")
    return None


def markdown_summary(report: CheckReport) -> str:
    """A Markdown table for ``$GITHUB_STEP_SUMMARY``."""
    icon = {"ok": "✅", "warn": "⚠️", "fail": "❌"}
    zipped = report.zipped
    lines = [
        f"### lambda-slim check: {text(report.verdict)}",
        "",
        f"Target {report.target.describe()}, budget {human(report.budget)} "
        f"({report.budget:,} bytes).",
        "",
        "| path | kind | unzipped | zipped | files | budget share | largest packages | verdict |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for r in report.paths:
        pk = ", ".join(f"{p.name} {human(p.unzipped)}" for p in r.packages[:3])
        v = verdict_of(r.findings)
        lines.append(
            f"| {code(r.path, table=True)} | {text(r.kind)} | {human(r.unzipped)} | "
            f"{human(r.zipped) if r.zipped is not None else '–'} | {r.files:,} | "
            f"{r.share(report.budget):.1%} | {text(pk)} | {icon[v]} {v} |")
    total_v = "fail" if report.exit_code else verdict_of(report.all_findings)
    lines.append(
        f"| **total** | | **{human(report.unzipped)}** | "
        f"{human(zipped) if zipped is not None else '–'} | {report.files:,} | "
        f"**{report.share:.1%}** | | {icon[total_v]} {report.verdict} |")
    if report.all_findings:
        lines.append("")
        for f in report.all_findings:
            where = f" {code(f.path)}" if f.path else ""
            lines.append(f"- **{text(f.level)}** ({text(f.code)}){where}: {text(f.message)}")
    return "\n".join(lines) + "\n"
