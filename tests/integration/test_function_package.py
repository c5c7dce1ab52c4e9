"""``lambda-slim build --function``: a real uv project's handler with its dependencies at the
zip root, or with a layer subtracted; the project's own wheel (``--with-project``); the
handler imported as Lambda would and invoked with a real API Gateway HTTP API (payload 2.0)
event, in the Lambda-like sandbox (code at /var/task, the layer at /opt/python)."""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from lambda_slim.target.placement import RunSettings, place
from lambda_slim.target.runtimes import parse_target
from lambda_slim.target.sandbox import sandbox_unavailable
from lambda_slim.verify.handler import run_handler
from tests.lockprojects import BIN, run

RunCli = Callable[..., int]
#: The payload 2.0 example of docs.aws.amazon.com/apigateway/latest/developerguide/
#: http-api-develop-integrations-lambda.html ("Payload format structure").
EVENT = json.loads((Path(__file__).parent.parent / "data" / "apigw_v2_event.json").read_text())
REASON = sandbox_unavailable(os.environ)

PYPROJECT = """[project]
name = "greeter"
version = "0.3.0"
requires-python = ">=3.10"
dependencies = ["six==1.16.0", "attrs==25.3.0"]

[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[tool.setuptools.packages.find]
include = ["greeter*"]
"""
HANDLER = '''import json

import attr
import six

from greeter import greet


@attr.s(frozen=True)
class Reply:
    greeting = attr.ib()


def handler(event, context):
    body = {"greeting": Reply(greet(event["requestContext"]["http"]["sourceIp"])).greeting,
            "path": event["rawPath"], "method": event["requestContext"]["http"]["method"],
            "handler_file": __file__, "six_file": six.__file__, "attr_file": attr.__file__,
            "remaining_ms": context.get_remaining_time_in_millis()}
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps(body)}
'''


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("greeter")
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "greeter").mkdir()
    (root / "greeter" / "__init__.py").write_text("def greet(who):\n    return f'hello {who}'\n")
    (root / "handler").mkdir()
    (root / "handler" / "main.py").write_text(HANDLER)
    run([str(BIN / "uv"), "lock", "-q"], root)
    return root


def names(zip_path: Path) -> set[str]:
    with zipfile.ZipFile(zip_path) as zf:
        return set(zf.namelist())


def extract(zip_path: Path, dest: Path) -> Path:
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(dest)
    return dest


def test_function_with_its_dependencies_at_the_root(project: Path, tmp_path: Path, tmp_cache: Path,
                                                    run_cli: RunCli) -> None:
    out = tmp_path / "function.zip"
    assert run_cli("build", str(project), "--function", str(project / "handler"), "--with-project",
                   "--handler", "main.handler", "-q", "-o", str(out), "--json", str(tmp_path / "r.json"),
                   cwd=tmp_path) == 0
    files = names(out)
    assert {"main.py", "six.py", "attr/__init__.py", "greeter/__init__.py"} <= files
    assert not any(n.startswith("python/") for n in files)  # a function, not a layer
    assert "greeter-0.3.0.dist-info/METADATA" in files  # the project's own wheel, installed
    report = json.loads((tmp_path / "r.json").read_text())
    fn = report["function"]
    assert fn["handler"] == {"handler": "main.handler", "ok": True,
                             "environment": "host" if REASON else "sandbox", "error": None}
    assert fn["layers"] == [] and fn["with_project"] is True
    assert report["verify"]["status"] == "passed"


@pytest.mark.skipif(REASON is not None, reason=f"sandbox unavailable: {REASON}")
def test_function_on_a_layer_answers_an_api_gateway_event_in_the_sandbox(
        project: Path, tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path) -> None:
    layer = tmp_path / "layer.zip"
    assert run_cli("build", str(project / "uv.lock"), "-q", "-o", str(layer), cwd=tmp_path) == 0
    function = tmp_path / "function.zip"
    assert run_cli("build", str(project), "--function", str(project / "handler"), "--with-project",
                   "--layer-zip", str(layer), "--handler", "main.handler", "-q", "-o", str(function),
                   "--json", str(tmp_path / "r.json"), cwd=tmp_path) == 0
    files = names(function)
    assert "main.py" in files and "greeter/__init__.py" in files
    assert not any(n.startswith(("six", "attr")) for n in files)  # the layer provides them
    report = json.loads((tmp_path / "r.json").read_text())
    fn = report["function"]
    assert fn["provided_by_layers"] == ["attrs==25.3.0", "six==1.16.0"]
    layer_bytes = fn["layers"][0]["unzipped_bytes"]
    assert fn["layers_bytes"] == layer_bytes > 0
    assert report["budget_bytes"] == fn["limit_bytes"] - layer_bytes == 262_144_000 - layer_bytes

    task = extract(function, tmp_path / "task")
    opt = extract(layer, tmp_path / "opt")
    placed = place(RunSettings(parse_target("python3.12", "x86_64"), python=str(py312)),
                   os.environ)
    assert placed.runnable is not None and placed.sandboxed
    res = run_handler(placed.runnable, "main.handler", task, opt / "python", event=EVENT)
    assert res.ok, res.error
    assert res.environment == "sandbox"
    assert res.result["statusCode"] == 200
    body = json.loads(res.result["body"])
    assert body["greeting"] == "hello 192.0.2.1"
    assert (body["path"], body["method"]) == ("/my/path", "POST")
    assert body["handler_file"] == "/var/task/main.py"  # code at /var/task, as on Lambda
    assert body["six_file"].startswith("/opt/python/")  # the dependency from the layer
    assert body["attr_file"].startswith("/opt/python/attr/")
    assert body["remaining_ms"] > 0


def test_handler_problems_and_bad_options(project: Path, tmp_path: Path, tmp_cache: Path,
                                          run_cli: RunCli, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["build", str(project), "--function", str(project / "handler"), "-q",
            "-o", str(tmp_path / "f.zip")]
    # without --with-project the handler's `from greeter import greet` cannot work
    assert run_cli(*base, "--handler", "main.handler", cwd=tmp_path) == 5
    assert "No module named 'greeter'" in capsys.readouterr().err
    assert run_cli(*base, "--with-project", "--handler", "main.nothere", cwd=tmp_path) == 5
    err = capsys.readouterr().err
    assert "main.nothere does not load as Lambda would load it" in err
    # awslambdaric's own words, as Lambda reports it (build and invoke agree)
    assert "Runtime.HandlerNotFound: Handler 'nothere' missing on module 'main'" in err
    assert not (tmp_path / "f.zip").exists()
    assert run_cli(*base, "--handler", "main", cwd=tmp_path) == 2
    assert "is not `module.function`" in capsys.readouterr().err
    assert run_cli("build", str(project), "--handler", "main.handler", cwd=tmp_path) == 2
    assert "--handler describes a function package; add --function" in capsys.readouterr().err
    assert run_cli("build", str(project), "--function", str(tmp_path / "nope"), cwd=tmp_path) == 2
    assert "Function folder" in capsys.readouterr().err
    assert run_cli(*base, "--layer-zip", str(tmp_path / "missing.zip"), cwd=tmp_path) == 2
    assert "missing.zip does not exist" in capsys.readouterr().err
    clash = tmp_path / "clash"
    clash.mkdir()
    (clash / "six.py").write_text("# mine\n")
    assert run_cli("build", str(project), "--function", str(clash), "-q", "-o", str(tmp_path / "c.zip"),
                   cwd=tmp_path) == 2
    assert "would overwrite a dependency's: six.py" in capsys.readouterr().err
