"""The GitHub Action: ``action.yml`` and the example workflows validate against SchemaStore's
schemas (check-jsonschema's vendored copies), and the action's own shell steps run for real,
in order, with the inputs GitHub would pass (the ``uses:`` steps, setup-python and cache, and
the install step are what GitHub provides; lambda-slim is already installed here)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from tests.wheels import make_wheel, wheelhouse_requirements

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
_EXPR = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def test_action_and_workflows_match_the_schemas() -> None:
    for schema, files in (("vendor.github-actions", [ROOT / "action.yml"]),
                          ("vendor.github-workflows", sorted((ROOT / "examples" / "ci").glob("*.yml")))):
        proc = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", schema,
                               *map(str, files)], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    workflow = (ROOT / "examples" / "ci" / "sam-function.yml").read_text()
    assert "uses: ./" in workflow  # the example workflow uses this action


def evaluate(expr: str, ref: Callable[[str], str], outcomes: dict[str, str], failed: bool) -> Any:
    """A GitHub Actions expression (the subset action.yml uses: ``&&``, ``||``, ``!``, ``==``,
    ``!=``, parentheses, ``'strings'``, context references and status functions)."""
    expr = expr.strip()
    m = re.fullmatch(r"\$\{\{(.*)\}\}", expr, re.S)
    expr = m.group(1) if m else expr
    out = []
    for tok in re.findall(r"'[^']*'|&&|\|\||==|!=|!|\(|\)|[A-Za-z_][\w.\-]*(?:\(\))?", expr):
        if tok in ("&&", "||", "!"):
            out.append({"&&": " and ", "||": " or ", "!": " not "}[tok])
        elif tok in ("==", "!=", "(", ")"):
            out.append(tok)
        elif tok.startswith("'"):
            out.append(repr(tok[1:-1]))
        elif tok in ("true", "false"):
            out.append(repr(tok == "true"))
        elif tok.endswith("()"):
            out.append(repr({"always()": True, "success()": not failed, "failure()": failed,
                             "cancelled()": False}[tok]))
        else:
            out.append(repr(ref(tok)))
    return eval("".join(out), {"__builtins__": {}})


def run_action(inputs: dict[str, str], cwd: Path, env: dict[str, str],
               github: dict[str, str] | None = None,
               ) -> tuple[dict[str, dict[str, str]], str]:
    """Run the action's shell steps like the runner does (``if:`` and ``continue-on-error``
    judged); returns step outputs and the summary. A step that fails the job raises
    AssertionError naming it, after the ``always()`` steps have run."""
    action: dict[str, Any] = YAML(typ="safe").load((ROOT / "action.yml").read_text())
    values = {k: str(v.get("default", "")) for k, v in action["inputs"].items()} | inputs
    outputs: dict[str, dict[str, str]] = {}
    outcomes: dict[str, str] = {}
    summary = cwd / "summary.md"
    context = {"github.event_name": "push", "github.repository": "owner/repo",
               "github.token": "t0ken", "runner.os": "Linux"} | (github or {})
    failure: str | None = None

    def ref(name: str) -> str:
        if name.startswith("inputs."):
            return values[name[len("inputs."):]]
        if name.startswith("steps."):
            _, step, kind, *key = name.split(".")
            return outcomes.get(step, "") if kind in ("outcome", "conclusion") else \
                outputs.get(step, {}).get(key[0], "")
        if name == "github.action_path":
            return str(ROOT)
        return context.get(name, "")

    def expr(text: str) -> str:
        return _EXPR.sub(lambda m: str(evaluate(m.group(0), ref, outcomes, failure is not None)), text)

    for step in action["runs"]["steps"]:
        if "uses" in step or step["name"] == "Install lambda-slim":
            continue
        if not evaluate(step.get("if", "success()"), ref, outcomes, failure is not None):
            if "id" in step:
                outcomes[step["id"]] = "skipped"
            continue
        out_file = cwd / f"out-{step.get('id', 'x')}.txt"
        out_file.write_text("")
        step_env = dict(env, GITHUB_OUTPUT=str(out_file), GITHUB_STEP_SUMMARY=str(summary),
                        GITHUB_ACTIONS="true", GITHUB_REPOSITORY=context["github.repository"],
                        GITHUB_EVENT_NAME=context["github.event_name"])
        step_env.update({k: expr(str(v)) for k, v in step.get("env", {}).items()})
        proc = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=cwd, env=step_env,
                              capture_output=True, text=True, timeout=900)
        (cwd / f"log-{step.get('id', step['name'][:20])}.txt").write_text(proc.stdout + proc.stderr)
        ok = proc.returncode == 0
        if "id" in step:
            outputs[step["id"]] = dict(line.split("=", 1) for line in out_file.read_text().splitlines())
            outcomes[step["id"]] = "success" if ok else "failure"
        tolerated = evaluate(str(step.get("continue-on-error", "false")), ref, outcomes,
                             failure is not None) in (True, "true")
        if not ok and not tolerated and failure is None:
            failure = f"{step['name']}: {proc.stdout[-2000:]}{proc.stderr[-2000:]}"
    if failure is not None:
        raise AssertionError(failure)
    return outputs, summary.read_text() if summary.exists() else ""


def test_the_action_builds_checks_and_summarises(tmp_path: Path, tmp_cache: Path) -> None:
    make_wheel(tmp_path / "house", "tiny", "1.0", {"tiny/__init__.py": "T = 1\n"})
    wheelhouse_requirements(tmp_path / "requirements.txt", tmp_path / "house", "tiny")
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}",
               LAMBDA_SLIM_CACHE_DIR=str(tmp_cache))
    outputs, summary = run_action({"path": "requirements.txt", "output": "build/layer.zip"}, tmp_path, env)
    assert outputs["python"] == {"version": "3.12"}
    build = outputs["build"]
    assert build["zip"] == "build/layer.zip" and build["code"] == "0"
    report = json.loads((tmp_path / build["report"]).read_text())
    assert build["sha256"] == report["zip_sha256"]
    assert f"sha256 `{report['zip_sha256']}`" in summary
    assert "| verification | passed in the Lambda-like sandbox (bubblewrap) |" in summary
    assert "| target | python3.12 x86\\_64 |" in summary  # escaped: renders as x86_64
    # a function package on that layer: built, then checked together with it (--function)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("import tiny\n\ndef handler(event, context):\n"
                                              "    return tiny.T\n")
    (tmp_path / "summary.md").unlink()
    outputs, summary = run_action({
        "path": "requirements.txt", "output": "build/function.zip",
        "build-args": "--function src --layer-zip build/layer.zip --handler app.handler",
        "check-args": "build/layer.zip"}, tmp_path, env)
    assert outputs["build"]["code"] == "0"
    assert "| handler | `app.handler` loads" in summary
    fn = json.loads((tmp_path / outputs["build"]["report"]).read_text())["function"]
    assert fn["provided_by_layers"] == ["tiny==1.0"]


def test_the_action_posts_a_size_diff_and_fails_on_growth(tmp_path: Path, tmp_cache: Path) -> None:
    make_wheel(tmp_path / "house", "tiny", "1.0", {"tiny/__init__.py": "T = 1\n"})
    make_wheel(tmp_path / "house", "extra", "2.0", {"extra/__init__.py": "X = '" + "x" * 5000 + "'\n"})
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}",
               LAMBDA_SLIM_CACHE_DIR=str(tmp_cache))
    wheelhouse_requirements(tmp_path / "requirements.txt", tmp_path / "house", "tiny")
    base, _ = run_action({"path": "requirements.txt", "output": "base/layer.zip"}, tmp_path, env)
    assert "diff" not in base  # no diff-against: the step is skipped by its if:
    base_report = base["build"]["report"]
    wheelhouse_requirements(tmp_path / "requirements.txt", tmp_path / "house", "tiny", "extra")
    (tmp_path / "summary.md").unlink(missing_ok=True)
    pr, summary = run_action({"path": "requirements.txt", "output": "pr/layer.zip",
                              "diff-against": base_report}, tmp_path, env)
    assert pr["diff"]["code"] == "0"
    md = (tmp_path / pr["diff"]["markdown"]).read_text()
    old = json.loads((tmp_path / base_report).read_text())["final_bytes"]
    new = json.loads((tmp_path / pr["build"]["report"]).read_text())["final_bytes"]
    assert "extra" in md and f"{new - old:+,}" in md, md
    assert "extra" in summary  # `diff` appended its table to the job summary
    # growth over the threshold: the diff step records exit 8, the last step fails the job
    try:
        run_action({"path": "requirements.txt", "output": "pr2/layer.zip",
                    "diff-against": base_report, "fail-on-growth": "1%"}, tmp_path, env)
    except AssertionError as exc:
        assert str(exc).startswith("Fail on size growth:"), exc
    else:
        raise AssertionError("growth over --fail-on-growth did not fail the action")
