"""``build --function --handler`` checks the handler the way ``invoke`` runs it: an init
through the real awslambdaric in the sandbox (and one invocation with ``--event``)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lambda_slim.target.sandbox import sandbox_unavailable

RunCli = Callable[..., int]
REASON = sandbox_unavailable(dict(os.environ))
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"no sandbox: {REASON}")


def _build(run_cli: RunCli, proj: Path, code: str, handler: str, *extra: str,
           name: str = "app.py") -> tuple[int, dict[str, Any]]:
    src = proj / "src"
    (src / name).parent.mkdir(parents=True, exist_ok=True)
    (src / name).write_text(code)
    rep = proj / "report.json"
    rc = run_cli("build", "requirements.txt", "--function", "src", "--handler", handler,
                 "-o", str(proj / "function.zip"), "--json", str(rep), "--no-result-cache",
                 *extra, cwd=proj)
    return rc, json.loads(rep.read_text()) if rep.exists() else {}


def test_an_import_error_at_init_fails_the_build_as_lambda_names_it(
        project: Path, run_cli: RunCli, py312: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    rc, _ = _build(run_cli, project, "import tiny\nimport not_in_any_layer\n\n"
                   "def handler(e, c):\n    return 1\n", "app.handler")
    out = capsys.readouterr()
    assert rc == 5
    assert ("Runtime.ImportModuleError: Unable to import module 'app': No module named "
            "'not_in_any_layer'") in out.out + out.err


def test_a_handler_in_a_folder_inits_and_an_event_invokes_it(
        project: Path, run_cli: RunCli, py312: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    code = ("import tiny\n\ndef handler(event, context):\n"
            "    if event.get('fail'):\n        raise ValueError('bad order ' + event['fail'])\n"
            "    return {'t': tiny.T}\n")
    ok = project / "ok.json"
    ok.write_text('{"order": 1}')
    rc, rep = _build(run_cli, project, code, "pkg/app.handler", "--event", str(ok),
                     name="pkg/app.py")
    assert rc == 0, capsys.readouterr().out
    row = rep["function"]["handler"]
    assert row["ok"] and row["environment"] == "sandbox"
    bad = project / "bad.json"
    bad.write_text('{"fail": "42"}')
    rc, _ = _build(run_cli, project, code, "pkg/app.handler", "--event", str(bad),
                   name="pkg/app.py")
    out = capsys.readouterr()
    assert rc == 5 and "ValueError: bad order 42" in out.out + out.err


def test_an_init_past_lambdas_10_s_warns_and_past_smoke_timeout_fails(
        project: Path, run_cli: RunCli, py312: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    slow = "import time\ntime.sleep(10.5)\n\ndef handler(e, c):\n    return 1\n"
    rc, rep = _build(run_cli, project, slow, "app.handler")
    assert rc == 0, capsys.readouterr().out
    assert any("past Lambda's 10 s limit" in n for n in rep["notes"])
    rc, _ = _build(run_cli, project, slow, "app.handler", "--smoke-timeout", "3")
    out = capsys.readouterr()
    assert rc == 5 and "Init timed out" in out.out + out.err


def test_event_without_handler_is_bad_input(project: Path, run_cli: RunCli,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    (project / "src").mkdir()
    (project / "src" / "app.py").write_text("def handler(e, c):\n    return 1\n")
    (project / "e.json").write_text("{}")
    assert run_cli("build", "requirements.txt", "--function", "src", "--event", "e.json",
                   "-o", str(project / "f.zip"), cwd=project) == 2
    assert "add --handler" in capsys.readouterr().err
