"""Issue 19 item 4: the GitHub Action gates what it claims. Its steps run for real, in order,
with ``if:`` and ``continue-on-error`` judged as the runner does (tests/integration/test_action.py):
the Check step uses the budget the build used, the summary names where verification ran, the
sandbox step installs bubblewrap when it is missing, ``build-args`` are split like a shell would,
table cells are escaped, and the PR comment updates only the action's own comment, never fails
the job on a fork, and is skipped when the diff step failed. GitHub's REST API is a small server
on 127.0.0.1 speaking the endpoints the comment uses."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.integration.test_action import BIN, ROOT, run_action
from tests.wheels import make_wheel, wheelhouse_requirements


@pytest.fixture
def env(tmp_cache: Path) -> dict[str, str]:
    return dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}",
                LAMBDA_SLIM_CACHE_DIR=str(tmp_cache), RUNNER_ENVIRONMENT="github-hosted")


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    make_wheel(tmp_path / "house", "tiny", "1.0", {"tiny/__init__.py": "T = 1\n"})
    wheelhouse_requirements(tmp_path / "requirements.txt", tmp_path / "house", "tiny")
    return tmp_path


@pytest.mark.parametrize("where", ["pyproject", "build-args"])
def test_an_over_budget_build_fails_the_job(where: str, proj: Path, env: dict[str, str]) -> None:
    inputs = {"path": "requirements.txt", "output": "build/layer.zip"}
    if where == "pyproject":
        (proj / "pyproject.toml").write_text('[tool.lambda-slim]\nbudget = "100"\n')
    else:
        inputs["build-args"] = "--budget 100"
    with pytest.raises(AssertionError) as failed:
        run_action(inputs, proj, env)
    assert str(failed.value).startswith("Check against Lambda's limits:"), failed.value
    assert "over" in str(failed.value).lower()
    report = json.loads((proj / "build" / "layer.report.json").read_text())
    assert report["budget_bytes"] == 100 and report["final_bytes"] > 100


def test_the_summary_says_the_sandbox_verified_and_quoted_args_arrive_whole(
        proj: Path, env: dict[str, str]) -> None:
    (proj / "smoke test.py").write_text("import tiny\nassert tiny.T == 1\n")
    outputs, summary = run_action({
        "path": "requirements.txt", "output": "build/la|yer.zip",
        "build-args": "--smoke 'smoke test.py' --keep 'tiny/*'"}, proj, env)
    assert outputs["build"]["code"] == "0"
    assert outputs["sandbox"]["bwrap"]  # the sandbox step found (or installed) bubblewrap
    assert "| verification | passed in the Lambda-like sandbox (bubblewrap) |" in summary
    report = json.loads((proj / "build" / "la|yer.report.json").read_text())
    assert [s["script"] for s in report["verify"]["smoke"]] == [str(proj / "smoke test.py")]
    check_part, _, job_part = summary.partition("### lambda-slim: ")
    rows = [ln for ln in job_part.splitlines() if ln.startswith("| ")]
    assert len(rows) >= 5 and all(ln.replace("\\|", "").count("|") == 3 for ln in rows), rows
    table = [ln for ln in check_part.splitlines() if ln.startswith("| ")]
    assert len({ln.replace("\\|", "").count("|") for ln in table}) == 1, table  # same cells
    assert "la\\|yer" in job_part


def test_require_verify_false_lets_a_build_without_the_sandbox_pass(
        proj: Path, env: dict[str, str]) -> None:
    """The opt-out: with the sandbox unavailable, the default fails, require-verify false passes."""
    no_box = dict(env, LAMBDA_SLIM_BWRAP="")  # the sandbox turned off
    with pytest.raises(AssertionError, match=r"^Build:"):
        run_action({"path": "requirements.txt", "output": "a/layer.zip"}, proj, no_box)
    outputs, summary = run_action({"path": "requirements.txt", "output": "b/layer.zip",
                                   "require-verify": "false"}, proj, no_box)
    assert outputs["build"]["code"] == "0"
    assert "on the runner itself" in summary


def test_the_sandbox_step_installs_bubblewrap_when_it_is_missing(tmp_path: Path) -> None:
    """bwrap hidden from PATH (every other tool kept): the step runs the real apt-get for it."""
    if os.geteuid() != 0:
        pytest.skip("needs root for apt-get, as on a runner with sudo")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for folder in ("/usr/sbin", "/usr/bin", "/sbin", "/bin"):
        for tool in Path(folder).iterdir():
            if tool.name != "bwrap" and not (bin_dir / tool.name).exists():
                (bin_dir / tool.name).symlink_to(tool)
    action: dict[str, Any] = YAML(typ="safe").load((ROOT / "action.yml").read_text())
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "sandbox")
    out = tmp_path / "out.txt"
    proc = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600,
                          env={"PATH": str(bin_dir), "GITHUB_OUTPUT": str(out),
                               "RUNNER_ENVIRONMENT": "github-hosted", "HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "bubblewrap is missing: installing it" in proc.stdout
    assert "bubblewrap" in proc.stdout + proc.stderr  # apt-get's own report on the package


class _GitHub(http.server.BaseHTTPRequestHandler):
    """The three REST endpoints of the comment; ``mode`` "fork" answers writes with 403."""

    comments: list[dict[str, Any]]
    calls: list[tuple[str, str, Any]]
    mode: str

    def _reply(self, code: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        return json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"null")

    def do_GET(self) -> None:
        self.calls.append(("GET", self.path, None))
        self._reply(200, self.comments if "page=1" in self.path else [])

    def do_PATCH(self) -> None:
        body = self._body()
        self.calls.append(("PATCH", self.path, body))
        if self.mode == "fork":
            self._reply(403, {"message": "Resource not accessible by integration"})
            return
        self._reply(200, {"id": int(self.path.rsplit("/", 1)[1])})

    def do_POST(self) -> None:
        body = self._body()
        self.calls.append(("POST", self.path, body))
        if self.mode == "fork":
            self._reply(403, {"message": "Resource not accessible by integration"})
            return
        self._reply(201, {"id": 99})

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def github_api() -> Iterator[type[_GitHub]]:
    handler = type("Api", (_GitHub,), {"comments": [], "calls": [], "mode": "ok"})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    try:
        yield handler
    finally:
        server.shutdown()
        server.server_close()


def _pr(api: type[_GitHub], head: str) -> dict[str, str]:
    return {"github.event_name": "pull_request", "github.repository": "owner/repo",
            "github.event.pull_request.number": "7",
            "github.event.pull_request.head.repo.full_name": head}


def test_pr_comments_update_only_the_actions_own_and_never_fail_a_fork(
        proj: Path, env: dict[str, str], github_api: type[_GitHub]) -> None:
    env = dict(env, GITHUB_API_URL=github_api.url)  # type: ignore[attr-defined]
    base, _ = run_action({"path": "requirements.txt", "output": "base/layer.zip"}, proj, env)
    marker = "<!-- lambda-slim size diff -->"
    github_api.comments = [
        {"id": 1, "user": {"login": "mallory"}, "body": marker + "\nnot the action's"},
        {"id": 2, "user": {"login": "github-actions[bot]"}, "body": marker + "\nold diff"},
    ]
    inputs = {"path": "requirements.txt", "output": "pr/layer.zip",
              "diff-against": base["build"]["report"]}
    run_action(inputs, proj, env, _pr(github_api, "owner/repo"))
    writes = [(m, p) for m, p, _b in github_api.calls if m != "GET"]
    assert writes == [("PATCH", "/repos/owner/repo/issues/comments/2")], github_api.calls
    # a fork: the token is read-only, the comment fails, the job does not
    github_api.mode, github_api.calls = "fork", []
    outputs, _ = run_action(inputs | {"output": "fork/layer.zip"}, proj, env,
                            _pr(github_api, "someone/repo-fork"))
    assert outputs["diff"]["code"] == "0"
    assert [m for m, _p, _b in github_api.calls if m != "GET"] == ["PATCH"]
    # the same failure in the repository itself is a failed job
    with pytest.raises(AssertionError, match=r"^Post the size diff"):
        run_action(inputs | {"output": "own/layer.zip"}, proj, env, _pr(github_api, "owner/repo"))


def test_no_comment_when_the_diff_step_failed(proj: Path, env: dict[str, str],
                                              github_api: type[_GitHub]) -> None:
    env = dict(env, GITHUB_API_URL=github_api.url)  # type: ignore[attr-defined]
    (proj / "junk.json").write_text("{}")
    with pytest.raises(AssertionError, match=r"^Size diff against the base build"):
        run_action({"path": "requirements.txt", "output": "pr/layer.zip",
                    "diff-against": "junk.json"}, proj, env, _pr(github_api, "owner/repo"))
    assert github_api.calls == []
