"""A local Lambda Runtime API: what the Lambda service answers to a runtime, on loopback.

The runtime interface client (``awslambdaric``) inside the sandbox talks HTTP to
``$AWS_LAMBDA_RUNTIME_API``; this server, in the lambda-slim process on ``127.0.0.1``,
implements the endpoints of AWS's "Using the Lambda runtime API for custom runtimes" page
(docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html):

- ``GET /2018-06-01/runtime/invocation/next`` blocks until an event is queued, then answers
  it with ``Lambda-Runtime-Aws-Request-Id``, ``-Deadline-Ms``, ``-Invoked-Function-Arn``,
  ``-Trace-Id`` and, when given, ``-Client-Context`` and ``-Cognito-Identity``;
- ``POST /2018-06-01/runtime/invocation/{id}/response`` and ``…/{id}/error`` (202);
- ``POST /2018-06-01/runtime/init/error`` (202): the runtime exits after it.

The sandbox shares the host's network namespace (bubblewrap runs without ``--unshare-net``),
so loopback reaches this server. Every request the runtime makes is answered; what it posted
is handed to :meth:`RuntimeApi.wait` as an :class:`ApiEvent`.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PREFIX = "/2018-06-01/runtime"
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"


@dataclass(frozen=True)
class Invocation:
    """One event, as Lambda hands it to the runtime."""

    request_id: str
    payload: bytes
    function_arn: str
    timeout_s: float
    trace_id: str
    client_context: str | None = None
    cognito_identity: str | None = None


@dataclass(frozen=True)
class ApiEvent:
    """What the runtime did: ``next`` (it is idle, waiting for an event), ``response``,
    ``error`` (of an invocation) or ``init_error``."""

    kind: str
    request_id: str | None = None
    body: bytes = b""
    error_type: str | None = None
    at: float = 0.0  # time.monotonic() when it arrived

    def json_body(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return self.body.decode("utf-8", "replace")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the runtime's own output is what the user sees."""

    def _reply(self, code: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):  # the runtime went away (killed after a timeout)
            self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path != f"{PREFIX}/invocation/next":
            self._reply(404, b'{"errorMessage":"unknown path"}')
            return
        api = self.server.api
        api.events.put(ApiEvent("next", at=time.monotonic()))
        with api.lock:
            api.waiting += 1
        inv = api.pending.get()
        with api.lock:
            api.waiting -= 1
        if inv is None:  # the server is stopping: let the runtime's request fail
            self._reply(500, b'{"errorMessage":"the local Runtime API is stopping"}')
            return
        deadline_ms = int((time.time() + inv.timeout_s) * 1000)
        headers = {
            "Content-Type": "application/json",
            "Lambda-Runtime-Aws-Request-Id": inv.request_id,
            "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": inv.function_arn,
            "Lambda-Runtime-Trace-Id": inv.trace_id,
        }
        if inv.client_context is not None:
            headers["Lambda-Runtime-Client-Context"] = inv.client_context
        if inv.cognito_identity is not None:
            headers["Lambda-Runtime-Cognito-Identity"] = inv.cognito_identity
        api.started(inv.request_id)
        self._reply(200, inv.payload, headers)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        error_type = self.headers.get(ERROR_TYPE_HEADER)
        path = self.path
        event: ApiEvent | None = None
        if path == f"{PREFIX}/init/error":
            event = ApiEvent("init_error", None, body, error_type, time.monotonic())
        elif path.startswith(f"{PREFIX}/invocation/"):
            rest = path[len(f"{PREFIX}/invocation/"):]
            request_id, _, what = rest.partition("/")
            if what in ("response", "error"):
                event = ApiEvent(what, request_id, body, error_type, time.monotonic())
        if event is None:
            self._reply(404, b'{"errorMessage":"unknown path"}')
            return
        self._reply(202, b'{"status":"OK"}', {"Content-Type": "application/json"})
        self.server.api.events.put(event)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    api: RuntimeApi

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A runtime killed mid-request is expected (timeouts); nothing to print."""


class RuntimeApi:
    """The server and its two queues: events to hand out, and what the runtime did."""

    def __init__(self) -> None:
        self.pending: queue.Queue[Invocation | None] = queue.Queue()
        self.events: queue.Queue[ApiEvent] = queue.Queue()
        self._started: dict[str, float] = {}
        self.lock = threading.Lock()
        self.waiting = 0  # /next requests blocked on ``pending``
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.api = self
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="lambda-slim-runtime-api", daemon=True)

    @property
    def address(self) -> str:
        """``host:port``, the value of ``AWS_LAMBDA_RUNTIME_API``."""
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    def started(self, request_id: str) -> None:
        with self.lock:
            self._started[request_id] = time.monotonic()

    def started_at(self, request_id: str) -> float | None:
        with self.lock:
            return self._started.get(request_id)

    def submit(self, invocation: Invocation) -> None:
        self.pending.put(invocation)

    def wait(self, timeout: float) -> ApiEvent | None:
        """The runtime's next action, or None when ``timeout`` seconds passed without one."""
        try:
            return self.events.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None

    def drain(self) -> None:
        """Forget a runtime process that is gone: its queued invocations and events, and
        any ``/next`` request of it still waiting (so it cannot take the next event)."""
        for q in (self.events, self.pending):
            while True:
                try:
                    q.get_nowait()
                except queue.Empty:
                    break
        with self.lock:
            waiting = self.waiting
        for _ in range(waiting):
            self.pending.put(None)
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            with self.lock:
                if self.waiting == 0:
                    break
            time.sleep(0.01)
        while True:
            try:
                self.pending.get_nowait()
            except queue.Empty:
                break

    def __enter__(self) -> RuntimeApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for _ in range(8):  # release any /next request still waiting
            self.pending.put(None)
        self._server.shutdown()
        self._server.server_close()
