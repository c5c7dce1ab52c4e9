"""``lambda-slim invoke`` for real: awslambdaric (from PyPI, for the target) loads the handler
in the Lambda-like sandbox and talks to the local Runtime API; nothing is faked."""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lambda_slim.artifact.overflow import FOLDER, PTH_NAME
from lambda_slim.target.sandbox import sandbox_unavailable
from lambda_slim.target.sdk import SDK_FLOORS
from tests.arm64_python import Aarch64Python
from tests.wheels import make_wheel, wheelhouse_requirements

RunCli = Callable[..., int]
REASON = sandbox_unavailable(dict(os.environ))
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"no sandbox: {REASON}")

APP = '''import json, os, sys, time
import boto3, botocore
CALLS = []
print("init ran", flush=True)


def handler(event, context):
    CALLS.append(context.aws_request_id)
    print("handling", json.dumps(event))
    if event.get("raise"):
        raise KeyError("no such thing: " + event["raise"])
    if event.get("sleep"):
        time.sleep(event["sleep"])
    return {"calls": len(CALLS), "echo": event, "request_id": context.aws_request_id,
            "arn": context.invoked_function_arn, "left_ms": context.get_remaining_time_in_millis(),
            "memory": context.memory_limit_in_mb, "botocore": botocore.__version__,
            "path": sys.path[:4], "cwd": os.getcwd(), "trace": os.environ.get("_X_AMZN_TRACE_ID"),
            "colour": os.environ.get("COLOUR"), "uid": os.getuid()}
'''


def _events(tmp: Path, *events: object) -> list[str]:
    out = []
    for i, e in enumerate(events):
        p = tmp / f"event{i}.json"
        p.write_text(json.dumps(e))
        out += ["--event", str(p)]
    return out


def _fn(tmp: Path, code: str = APP, name: str = "app.py") -> Path:
    src = tmp / "src"
    (src / name).parent.mkdir(parents=True, exist_ok=True)
    (src / name).write_text(code)
    return src


def _invoke(run_cli: RunCli, tmp: Path, *args: str) -> tuple[int, dict[str, Any]]:
    out = tmp / "invoke.json"
    code = run_cli("invoke", *args, "--json", str(out))
    return code, json.loads(out.read_text()) if out.exists() else {}


def test_two_events_one_init_then_a_warm_invoke(tmp_path: Path, tmp_cache: Path,
                                                run_cli: RunCli,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    src = _fn(tmp_path)
    code, rep = _invoke(run_cli, tmp_path, "--function", str(src), "--handler", "app.handler",
                        "--timeout", "30", "--memory", "256", "--env", "COLOUR=blue",
                        *_events(tmp_path, {"n": 1}, {"n": 2}))
    printed = capsys.readouterr()
    assert code == 0, printed
    first, second = rep["invocations"]
    assert first["response"]["calls"] == 1 and second["response"]["calls"] == 2  # same process
    assert first["init_duration_ms"] is None and second["init_duration_ms"] is None
    assert rep["init"]["error"] is None and rep["init"]["duration_ms"] > 0
    assert "init ran" in rep["init"]["log"]
    r = first["response"]
    assert r["echo"] == {"n": 1} and r["request_id"] == first["request_id"]
    assert r["arn"].startswith("arn:aws:lambda:us-east-1:") and 0 < r["left_ms"] <= 30_000
    assert r["memory"] == "256" and r["colour"] == "blue" and r["uid"] == 993
    assert r["trace"].startswith("Root=1-") and r["cwd"] == "/var/task"
    assert r["path"][:3] == ["/var/task", "/opt/python/lib/python3.12/site-packages",
                             "/opt/python"]
    assert r["botocore"] == SDK_FLOORS["python3.12"].botocore  # the runtime's, from /var/runtime
    assert 'handling {"n": 2}' in second["log"]
    assert printed.err.count("Init Duration") == 1  # REPORT of the cold start only
    assert printed.err.count("REPORT RequestId:") == 2 and "Max Memory Used:" in printed.err


def test_raising_handler_exits_5_with_lambdas_error(tmp_path: Path, tmp_cache: Path,
                                                    run_cli: RunCli,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    src = _fn(tmp_path)
    code, rep = _invoke(run_cli, tmp_path, "--function", str(src), "--handler", "app.handler",
                        "--timeout", "30", *_events(tmp_path, {"raise": "x"}))
    printed = capsys.readouterr()
    assert code == 5
    err = rep["invocations"][0]["error"]
    assert err["errorType"] == "KeyError" and "no such thing: x" in err["errorMessage"]
    assert any('/var/task/app.py", line' in f for f in err["stackTrace"])
    assert '"errorType": "KeyError"' in printed.out
    assert "[ERROR] KeyError" in printed.err


def test_import_error_at_init_is_runtime_import_module_error(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
        capsys: pytest.CaptureFixture[str]) -> None:
    src = _fn(tmp_path, "import not_shipped_anywhere\n\ndef handler(e, c):\n    return 1\n")
    code, rep = _invoke(run_cli, tmp_path, "--function", str(src), "--handler", "app.handler")
    printed = capsys.readouterr()
    assert code == 5
    err = rep["init"]["error"]
    assert err["errorType"] == "Runtime.ImportModuleError"
    assert err["errorMessage"] == ("Unable to import module 'app': No module named "
                                   "'not_shipped_anywhere'")
    assert rep["invocations"] == []
    assert "Runtime.ImportModuleError" in printed.out


def test_sleeping_past_timeout_is_task_timed_out_and_the_runtime_restarts(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli) -> None:
    src = _fn(tmp_path)
    code, rep = _invoke(run_cli, tmp_path, "--function", str(src), "--handler", "app.handler",
                        "--timeout", "6", *_events(tmp_path, {"sleep": 30}, {"n": 3}))
    assert code == 5
    slow, after = rep["invocations"]
    assert slow["error"]["errorType"] == "Sandbox.Timedout"
    assert slow["error"]["errorMessage"].endswith("Task timed out after 6.00 seconds")
    assert 5_900 <= slow["duration_ms"] < 9_000
    assert after["ok"] and after["response"]["calls"] == 1  # a fresh process: init again
    assert after["init_duration_ms"] is not None


def test_handler_in_a_folder_and_a_function_zip(tmp_path: Path, tmp_cache: Path,
                                               run_cli: RunCli) -> None:
    src = _fn(tmp_path, "def handler(event, context):\n    return {'where': __file__}\n",
              name="src/app.py")
    fzip = tmp_path / "function.zip"
    with zipfile.ZipFile(fzip, "w") as zf:
        zf.write(src / "src" / "app.py", "src/app.py")
    code, rep = _invoke(run_cli, tmp_path, str(fzip), "--handler", "src/app.handler")
    assert code == 0, rep
    assert rep["invocations"][0]["response"] == {"where": "/var/task/src/app.py"}


def _pth_layer(tmp: Path) -> Path:
    """A layer whose package is importable only through its .pth files: a path line
    (``vendor``) and an ``import`` line, as Lambda's bootstrap processes them."""
    z = tmp / "pth-layer.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("python/vendored.pth", "vendor\n")
        zf.writestr("python/vendor/hidden_pkg/__init__.py", "VALUE = 42\n")
        zf.writestr("python/hook.pth", "import hook_mod\n")
        zf.writestr("python/hook_mod.py", "import os\nos.environ['HOOKED'] = 'yes'\n")
    return z


def test_a_layer_package_that_relies_on_a_pth_file(tmp_path: Path, tmp_cache: Path,
                                                   run_cli: RunCli) -> None:
    src = _fn(tmp_path, "import os, hidden_pkg\n\ndef handler(e, c):\n"
                        "    return [hidden_pkg.VALUE, os.environ.get('HOOKED')]\n")
    code, rep = _invoke(run_cli, tmp_path, "--function", str(src), "--layer-zip",
                        str(_pth_layer(tmp_path)), "--handler", "app.handler")
    assert code == 0, rep
    assert rep["invocations"][0]["response"] == [42, "yes"]
    # the function setting PYTHONPATH skips the layer's site dirs, as on Lambda
    code, rep = _invoke(run_cli, tmp_path, "--function", str(src), "--layer-zip",
                        str(_pth_layer(tmp_path)), "--handler", "app.handler",
                        "--env", "PYTHONPATH=/var/runtime")
    assert code == 5
    assert rep["init"]["error"]["errorType"] == "Runtime.ImportModuleError"


def test_an_overflow_layer_unpacks_and_serves_the_handler(tmp_path: Path, tmp_cache: Path,
                                                          run_cli: RunCli, py312: Path) -> None:
    house = tmp_path / "house"
    blob = (os.urandom(2048) + b"overflow " * 4000) * 60
    make_wheel(house, "heavy", "1.0", {"heavy/__init__.py": "import os\ndef size():\n"
               "    return os.path.getsize(os.path.join(os.path.dirname(__file__), 'b.bin'))\n",
               "heavy/b.bin": blob})
    req = wheelhouse_requirements(tmp_path / "requirements.txt", house, "heavy")
    layer = tmp_path / "layer.zip"
    assert run_cli("build", str(req), "-o", str(layer), "--budget", "1MB", "--overflow",
                   cwd=tmp_path) == 0
    with zipfile.ZipFile(layer) as zf:
        assert f"python/{PTH_NAME}" in zf.namelist()
        assert f"python/{FOLDER}/heavy.zip" in zf.namelist()
    src = _fn(tmp_path, "import heavy\n\ndef handler(e, c):\n"
                        "    return {'size': heavy.size(), 'from': heavy.__file__}\n")
    code, rep = _invoke(run_cli, tmp_path, "--function", str(src), "--layer-zip", str(layer),
                        "--handler", "app.handler", "--timeout", "60")
    assert code == 0, rep
    resp = rep["invocations"][0]["response"]
    assert resp["size"] == len(blob) and resp["from"].startswith("/tmp/")


def test_runtime_sdk_override_is_the_sdk_the_handler_sees(tmp_path: Path, tmp_cache: Path,
                                                          run_cli: RunCli) -> None:
    src = _fn(tmp_path, "import boto3, botocore\n\ndef handler(e, c):\n"
                        "    return [boto3.__version__, botocore.__version__, botocore.__file__]\n")
    code, rep = _invoke(run_cli, tmp_path, "--function", str(src), "--handler", "app.handler",
                        "--timeout", "30", "--runtime-sdk", "botocore==1.35.10")
    assert code == 0, rep
    assert rep["invocations"][0]["response"] == [
        "1.35.10", "1.35.10", "/var/runtime/botocore/__init__.py"]


@pytest.mark.parametrize("args, needle", [
    (["--handler", "app"], "is not `module.function`"),
    (["--handler", "app.handler", "--env", "NOEQUALS"], "is not KEY=VALUE"),
    (["--handler", "app.handler", "--runtime-sdk", "botocore>=1"], "botocore==X.Y.Z"),
])
def test_bad_input_exits_2(tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
                           capsys: pytest.CaptureFixture[str], args: list[str],
                           needle: str) -> None:
    src = _fn(tmp_path)
    assert run_cli("invoke", "--function", str(src), *args) == 2
    assert needle in capsys.readouterr().err


def test_an_event_that_is_not_json_and_a_missing_zip_exit_2(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
        capsys: pytest.CaptureFixture[str]) -> None:
    src = _fn(tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert run_cli("invoke", "--function", str(src), "--handler", "app.handler",
                   "--event", str(bad)) == 2
    assert f"The event {bad} is not JSON" in capsys.readouterr().err
    assert run_cli("invoke", str(tmp_path / "nope.zip"), "--handler", "app.handler") == 2
    assert "nope.zip does not exist" in capsys.readouterr().err
    assert run_cli("invoke", str(tmp_path / "nope.zip"), "--function", str(src),
                   "--handler", "app.handler") == 2


@pytest.mark.skipif(os.uname().machine == "aarch64", reason="emulation is for the other arch")
def test_arm64_function_is_invoked_under_emulation(tmp_path: Path, tmp_cache: Path,
                                                   run_cli: RunCli,
                                                   aarch64_python: Aarch64Python) -> None:
    src = _fn(tmp_path, "import platform\n\ndef handler(event, context):\n"
                        "    if event.get('raise'):\n        raise RuntimeError('arm says no')\n"
                        "    return platform.machine()\n")
    code, rep = _invoke(run_cli, tmp_path, "--function", str(src), "--handler", "app.handler",
                        "--runtime", "python3.11", "--arch", "arm64", "--python",
                        str(aarch64_python.python), "--timeout", "60",
                        *_events(tmp_path, {}, {"raise": 1}))
    assert code == 5
    ok, failed = rep["invocations"]
    assert rep["environment"] == "sandbox+qemu-aarch64" and ok["response"] == "aarch64"
    assert failed["error"]["errorType"] == "RuntimeError"


def test_a_function_past_its_memory_is_killed_as_out_of_memory(tmp_path: Path, tmp_cache: Path,
                                                               run_cli: RunCli) -> None:
    src = _fn(tmp_path, "import time\n\ndef handler(event, context):\n"
                        "    hog = bytearray(event['mb'] * 2**20)\n"
                        "    hog[::4096] = b'x' * len(hog[::4096])\n"
                        "    time.sleep(2)\n    return len(hog)\n")
    code, rep = _invoke(run_cli, tmp_path, "--function", str(src), "--handler", "app.handler",
                        "--memory", "128", "--timeout", "30",
                        *_events(tmp_path, {"mb": 8}, {"mb": 400}, {"mb": 8}))
    assert code == 5
    small, big, again = rep["invocations"]
    assert small["ok"] and small["response"] == 8 * 2**20
    assert big["error"]["errorType"] == "Runtime.OutOfMemory"
    assert again["ok"] and again["init_duration_ms"] is not None  # a fresh environment


def test_client_context_reaches_the_handler(tmp_path: Path, tmp_cache: Path,
                                            run_cli: RunCli) -> None:
    src = _fn(tmp_path, "def handler(event, context):\n"
                        "    return context.client_context.custom\n")
    code, rep = _invoke(run_cli, tmp_path, "--function", str(src), "--handler", "app.handler",
                        "--client-context", '{"custom": {"tenant": "a"}, "env": {}}')
    assert code == 0, rep
    assert rep["invocations"][0]["response"] == {"tenant": "a"}
    assert run_cli("invoke", "--function", str(src), "--handler", "app.handler",
                   "--client-context", "[1]") == 2


def test_without_the_sandbox_invoke_exits_6(tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LAMBDA_SLIM_BWRAP", "")  # the sandbox turned off
    src = _fn(tmp_path)
    assert run_cli("invoke", "--function", str(src), "--handler", "app.handler") == 6
    err = capsys.readouterr().err
    assert "sandbox" in err and "LAMBDA_SLIM_BWRAP is empty" in err
