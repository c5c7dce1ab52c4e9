"""A warm "Lambda container": one python3.12 process running the example's handlers.

It drives ``examples/xgboost-scoring/local_lambda.py jsonl``: each ``invoke`` sends one API
Gateway proxy event and reads back the proxy response, and module-level state (the cached
model, the DB connection) lives on between calls exactly as in a warm Lambda container.

Two flavours:
- ``venv``: the reference virtualenv's interpreter with the unpruned pinned stack;
- ``layer``: a bare ``python3.12 -I -S`` that sees only the unzipped layer (as /opt), the
  handler code, the standard library and a runtime-boto3 directory.
"""

from __future__ import annotations

import json
import selectors
import subprocess
from pathlib import Path
from typing import Any

from tests.example.envs import EXAMPLE

RUNNER = EXAMPLE / "local_lambda.py"
FE = "functions.features.handler"
SCORE = "functions.scoring.handler"


class ContainerError(RuntimeError):
    pass


class LambdaContainer:
    def __init__(
        self,
        python: Path,
        env: dict[str, str],
        workdir: Path,
        *,
        opt: Path | None = None,
        runtime: Path | None = None,
        timeout: float = 120.0,
    ) -> None:
        cmd = [str(python), "-B"]
        if opt is not None:
            cmd += ["-I", "-S"]
        cmd += [str(RUNNER), "--code", str(EXAMPLE)]
        if opt is not None:
            cmd += ["--opt", str(opt)]
        if runtime is not None:
            cmd += ["--runtime", str(runtime)]
        cmd.append("jsonl")
        self.timeout = timeout
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self._stderr_path = workdir / "stderr.log"
        self._stderr = open(self._stderr_path, "w+b")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
            cwd=str(workdir),
        )

    def _request(self, message: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write((json.dumps(message) + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError as exc:
            raise ContainerError(f"container exited early:\n{self.stderr()}") from exc
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            if not sel.select(self.timeout):
                raise ContainerError(f"no reply within {self.timeout}s:\n{self.stderr()}")
        line = self.proc.stdout.readline()
        if not line:
            raise ContainerError(f"container exited ({self.proc.poll()}):\n{self.stderr()}")
        reply: dict[str, Any] = json.loads(line)
        if "raised" in reply:
            raise ContainerError(f"handler raised {reply['raised']}:\n{self.stderr()}")
        return reply

    def invoke(self, handler: str, event: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = self._request({"handler": handler, "event": event})["response"]
        return response

    def modules(self, names: list[str]) -> dict[str, str | None]:
        files: dict[str, str | None] = self._request({"op": "modules", "names": names})["modules"]
        return files

    def features(self, entity: str | None, **params: str) -> tuple[int, dict[str, Any]]:
        query = dict(params)
        if entity is not None:
            query["entity"] = entity
        return self.call(FE, get_event("/features", query))

    def score(self, body: Any) -> tuple[int, dict[str, Any]]:
        text = body if isinstance(body, str) else json.dumps(body)
        return self.call(SCORE, post_event("/score", text))

    def call(self, handler: str, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        response = self.invoke(handler, event)
        assert response["headers"]["Content-Type"] == "application/json", response
        return int(response["statusCode"]), json.loads(response["body"])

    def stderr(self) -> str:
        self._stderr.flush()
        return self._stderr_path.read_bytes().decode("utf-8", "replace")[-6000:]

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        self._stderr.close()

    def __enter__(self) -> LambdaContainer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def get_event(path: str, query: dict[str, str]) -> dict[str, Any]:
    return {
        "resource": path,
        "path": path,
        "httpMethod": "GET",
        "headers": {"Accept": "application/json"},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} or None,
        "pathParameters": None,
        "requestContext": {"httpMethod": "GET", "path": path, "stage": "test"},
        "body": None,
        "isBase64Encoded": False,
    }


def post_event(path: str, body: str) -> dict[str, Any]:
    return {
        "resource": path,
        "path": path,
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json"},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "requestContext": {"httpMethod": "POST", "path": path, "stage": "test"},
        "body": body,
        "isBase64Encoded": False,
    }
