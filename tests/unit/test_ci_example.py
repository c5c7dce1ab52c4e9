"""The example CI workflow calls lambda-slim with options that exist (parsed by the real CLI)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import yaml

from lambda_slim.cli import main_group

WORKFLOW = Path(__file__).resolve().parents[2] / "examples" / "ci" / "lambda-slim.yml"


def commands() -> list[list[str]]:
    doc = yaml.safe_load(WORKFLOW.read_text())
    out = []
    for job in doc["jobs"].values():
        for step in job["steps"]:
            text = re.sub(r"\$\{\{[^}]*\}\}", "X", step.get("run", "")).replace("\\\n", " ")
            for line in re.split(r"\n|&&|;|\|", text):
                words = shlex.split(line.strip(), posix=True) if line.strip() else []
                if words[:1] == ["lambda-slim"]:
                    out.append([w for w in words[1:] if not w.startswith(">")])
    return out


def test_every_lambda_slim_call_in_the_workflow_parses() -> None:
    calls = commands()
    assert {c[0] for c in calls} >= {"build", "check", "diff", "publish"}
    for args in calls:
        args = [a for a in args if a != "diff.md"]
        cmd = main_group.get_command(click.Context(main_group), args[0])
        assert cmd is not None, args
        cmd.make_context(args[0], args[1:])  # raises on an unknown option or a bad value
    diff = next(c for c in calls if c[0] == "diff")
    assert "--markdown" in diff and "--fail-on-growth" in diff
