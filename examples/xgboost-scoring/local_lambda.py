"""Run the handlers locally the way Lambda does: layer dir as /opt, code dir as /var/task.

Standard library only, so it works in an interpreter that sees nothing but a layer::

    # one warm "container" serving both routes over HTTP (API Gateway REST proxy events)
    python3.12 -I -S local_lambda.py serve --opt /tmp/opt --runtime /tmp/boto3 --port 8080
    curl 'http://127.0.0.1:8080/features?entity=example.com'

    # one invocation: an event from a file or stdin, the proxy response on stdout
    python3.12 -I -S local_lambda.py invoke functions.scoring.handler --event event.json

    # JSON lines on stdin/stdout, one warm container (what the tests drive)
    python3.12 -I -S local_lambda.py jsonl --opt /tmp/opt --runtime /tmp/boto3

``-I -S`` keeps the interpreter's own site-packages off ``sys.path``; then ``--opt DIR`` adds
``DIR/python`` and ``DIR/python/lib/python3.X/site-packages`` (where Lambda looks inside a
layer), ``--code`` (default: this folder) goes first like /var/task, and ``--runtime DIR``
goes last, standing in for the boto3 the Lambda runtime provides. Without those flags, and
without ``-S``, it simply uses the current environment (e.g. a virtualenv).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import logging
import sys
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

HERE = Path(__file__).resolve().parent
ROUTES = {
    ("GET", "/features"): "functions.features.handler",
    ("POST", "/score"): "functions.scoring.handler",
}


class Context:
    """The bits of the Lambda context object handlers commonly use."""

    def __init__(self, function_name: str, timeout_s: float = 30.0) -> None:
        self.function_name = function_name
        self.aws_request_id = str(uuid.uuid4())
        self.memory_limit_in_mb = 1024
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def setup_paths(code: Path, opt: Path | None, runtime: Path | None) -> None:
    front = [str(code)]
    if opt is not None:
        version = f"python{sys.version_info.major}.{sys.version_info.minor}"
        front += [str(opt / "python" / "lib" / version / "site-packages"), str(opt / "python")]
    sys.path[:0] = [p for p in front if p not in sys.path]
    if runtime is not None:
        sys.path.append(str(runtime))


def load_handler(spec: str) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    module_name, _, attr = spec.rpartition(".")
    module = importlib.import_module(module_name)
    handler: Callable[[dict[str, Any], Any], dict[str, Any]] = getattr(module, attr)
    return handler


def proxy_event(method: str, target: str, body: str | None, headers: dict[str, str]) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event for a request line and body."""
    parts = urlsplit(target)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    return {
        "resource": parts.path,
        "path": parts.path,
        "httpMethod": method,
        "headers": headers,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} or None,
        "pathParameters": None,
        "requestContext": {"httpMethod": method, "path": parts.path, "stage": "local"},
        "body": body,
        "isBase64Encoded": False,
    }


def invoke(spec: str, event: Any) -> dict[str, Any]:
    with contextlib.redirect_stdout(sys.stderr):
        return load_handler(spec)(event, Context(spec))


def serve_jsonl() -> int:
    """Requests: {"handler": spec, "event": {...}} or {"op": "modules", "names": [...]}."""
    out = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            if request.get("op") == "modules":
                with contextlib.redirect_stdout(sys.stderr):
                    reply: dict[str, Any] = {"modules": module_files(request["names"])}
            else:
                reply = {"response": invoke(request["handler"], request["event"])}
        except Exception as exc:  # a handler that raises is a bug the caller must see
            reply = {"raised": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(reply) + "\n")
        out.flush()
    return 0


def module_files(names: list[str]) -> dict[str, str | None]:
    files: dict[str, str | None] = {}
    for name in names:
        try:
            files[name] = getattr(importlib.import_module(name), "__file__", None)
        except ImportError as exc:
            files[name] = f"ImportError: {exc}"
    return files


def serve_http(host: str, port: int) -> int:
    class Handler(BaseHTTPRequestHandler):
        def _dispatch(self, method: str) -> None:
            path = urlsplit(self.path).path
            spec = ROUTES.get((method, path))
            if spec is None:
                self._send(404, {"error": f"no route for {method} {path}"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace") if length else None
            event = proxy_event(method, self.path, body, dict(self.headers.items()))
            response = invoke(spec, event)
            self._send(int(response["statusCode"]), None, response)

        def _send(self, status: int, payload: Any, response: dict[str, Any] | None = None) -> None:
            raw = (response["body"] if response else json.dumps(payload)).encode()
            self.send_response(status)
            headers = (response or {}).get("headers") or {"Content-Type": "application/json"}
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

    server = ThreadingHTTPServer((host, port), Handler)
    print(f"serving GET /features and POST /score on http://{host}:{port}", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the example's handlers like Lambda.")
    parser.add_argument("--code", type=Path, default=HERE, help="handler code (/var/task)")
    parser.add_argument("--opt", type=Path, help="an unzipped layer (Lambda's /opt)")
    parser.add_argument("--runtime", type=Path, help="dir with the runtime's boto3")
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("invoke", help="invoke a handler once")
    one.add_argument("handler", help="e.g. functions.features.handler")
    one.add_argument("--event", default="-", help="event JSON file, or - for stdin")
    sub.add_parser("jsonl", help="JSON lines on stdin/stdout, one warm container")
    http = sub.add_parser("serve", help="HTTP server routing /features and /score")
    http.add_argument("--host", default="127.0.0.1")
    http.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)

    setup_paths(args.code.resolve(), args.opt, args.runtime)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    if args.command == "jsonl":
        return serve_jsonl()
    if args.command == "serve":
        return serve_http(args.host, args.port)
    text = sys.stdin.read() if args.event == "-" else Path(args.event).read_text()
    print(json.dumps(invoke(args.handler, json.loads(text)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
