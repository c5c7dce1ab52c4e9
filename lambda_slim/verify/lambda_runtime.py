"""One Lambda execution environment, run locally: the real runtime interface client in the
sandbox, driven through the local Runtime API (:mod:`lambda_slim.verify.runtime_api`).

:class:`ExecutionEnvironment` starts ``python /var/runtime/bootstrap.py`` in the Lambda-like
sandbox (code at ``/var/task``, the layer at ``/opt``, the stand-in ``/var/runtime``), waits
for its init (the first ``/next``), then hands it events one at a time, as Lambda does:

- a handler error comes back as the runtime posted it (``errorType``, ``errorMessage``,
  ``stackTrace``); an init error too (``Runtime.ImportModuleError``, …), and the process exits;
- an invocation that outlives the function timeout is stopped: the process is killed and the
  error is Lambda's (``Sandbox.Timedout``, "Task timed out after N.NN seconds"); the next
  event starts a fresh process (a new init), as Lambda resets the environment;
- a process that dies mid-invocation gives ``Runtime.ExitError``; one whose resident memory
  passes ``--memory`` is killed and gives ``Runtime.OutOfMemory`` (measured from ``/proc``,
  sampled every 50 ms, so a spike shorter than that can slip through).
Error shapes: AWS's "Troubleshoot invocation issues in Lambda" and "Lambda function errors in
Python" pages (docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import InputError, ToolMissingError
from ..target.emulation import EmulatedIsolation
from ..target.python import Isolation, TargetPython, child_env
from ..target.sandbox import RUNTIME_DIR, Sandbox
from .procwatch import OutputLog, peak_rss_bytes, rss_bytes
from .runtime_api import ApiEvent, Invocation, RuntimeApi

#: Lambda's limit on the init phase of an on-demand function (AWS "Lambda execution
#: environment lifecycle": 10 s; past it the init is retried within the first invocation).
INIT_LIMIT_S = 10.0
ACCOUNT = "000000000000"


@dataclass(frozen=True)
class FunctionSettings:
    """What the function's configuration says."""

    handler: str
    runtime: str
    memory_mb: int = 128
    timeout_s: float = 3.0
    name: str = "lambda-slim-invoke"
    region: str = "us-east-1"
    env: Mapping[str, str] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{ACCOUNT}:function:{self.name}"

    def variables(self, api: str) -> dict[str, str]:
        """What Lambda adds for this function, then the function's own variables."""
        out = {
            "_HANDLER": self.handler,
            "AWS_LAMBDA_RUNTIME_API": api,
            "AWS_LAMBDA_FUNCTION_NAME": self.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.name}",
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
        }
        out.update(self.env)
        return out


@dataclass(frozen=True)
class InitOutcome:
    duration_ms: float
    error: dict[str, Any] | None = None  # what the runtime posted to /init/error
    log: tuple[str, ...] = ()

    @property
    def over_limit(self) -> bool:
        return self.duration_ms > INIT_LIMIT_S * 1000


@dataclass(frozen=True)
class InvokeOutcome:
    request_id: str
    ok: bool
    response: Any  # the handler's result (JSON), or Lambda's error object
    duration_ms: float
    max_memory_bytes: int
    log: tuple[str, ...] = ()
    init: InitOutcome | None = None  # set when this invocation started a fresh process


def has_sandbox(iso: Isolation) -> bool:
    """Whether ``iso`` is the Lambda-like sandbox (possibly around QEMU)."""
    if isinstance(iso, EmulatedIsolation):
        return isinstance(iso.inner, Sandbox)
    return isinstance(iso, Sandbox)


def runtime_isolation(iso: Isolation, runtime_dir: Path, env: Mapping[str, str]) -> Isolation:
    """``iso`` (the sandbox, possibly under QEMU) with ``/var/runtime`` mounted and the
    function's environment set; ToolMissingError (exit 6) without a sandbox."""
    if isinstance(iso, Sandbox):
        return replace(iso, runtime_dir=runtime_dir, lambda_env={**iso.lambda_env, **env})
    if isinstance(iso, EmulatedIsolation) and isinstance(iso.inner, Sandbox):
        return EmulatedIsolation(iso.emulator, iso.python,
                                 runtime_isolation(iso.inner, runtime_dir, env))
    raise ToolMissingError(
        f"Invoking needs the Lambda-like sandbox, and code runs in {iso.name!r} here.",
        hint="Install bubblewrap (apt-get install bubblewrap) and allow user namespaces.")


def _error(request_id: str, error_type: str, what: str) -> dict[str, Any]:
    return {"errorType": error_type, "errorMessage": f"RequestId: {request_id} Error: {what}"}


class ExecutionEnvironment:
    """One function instance: a runtime process (restarted after a timeout or a crash)."""

    def __init__(self, tp: TargetPython, runtime_dir: Path, task: Path, opt_python: Path | None,
                 settings: FunctionSettings, api: RuntimeApi) -> None:
        self.tp = tp
        self.runtime_dir = runtime_dir
        self.task = task
        self.opt_python = opt_python
        self.settings = settings
        self.api = api
        self.proc: subprocess.Popen[bytes] | None = None
        self.output: OutputLog | None = None
        self.environment = tp.isolation.name

    # -- the process ---------------------------------------------------------------------
    def _start(self) -> None:
        self.api.drain()
        iso = runtime_isolation(self.tp.isolation, self.runtime_dir,
                                self.settings.variables(self.api.address))
        argv = [str(self.tp.interpreter.path), f"{RUNTIME_DIR}/bootstrap.py"]
        launch = iso.wrap(argv, env=child_env(self.tp.env), layer=self.opt_python,
                          paths=[self.task], cwd=self.task)
        self.proc = subprocess.Popen(launch.argv, env=launch.env, cwd=launch.cwd,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        assert self.proc.stdout is not None
        self.output = OutputLog(self.proc.stdout)

    def _kill(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
        if self.output is not None:
            self.output.finish()
        self.api.drain()

    def _exit_text(self) -> str:
        code = self.proc.poll() if self.proc is not None else None
        if code is None:
            return "Runtime exited without providing a reason"
        if code < 0:
            return f"Runtime exited with error: signal: {signal.Signals(-code).name[3:].lower()}"
        return f"Runtime exited with error: exit status {code}"

    def _await(self, kinds: Sequence[str], timeout: float,
               request_id: str | None = None) -> ApiEvent | str:
        """The runtime's next event of ``kinds`` (for ``request_id``); else "timeout",
        "exit" or "memory"."""
        end = time.monotonic() + timeout
        limit = self.settings.memory_mb * 1024 * 1024
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return "timeout"
            ev = self.api.wait(min(0.05, left))
            if ev is not None:
                if ev.kind in kinds and (request_id is None or ev.request_id in (None, request_id)):
                    return ev
                continue
            if self.proc is None or self.proc.poll() is not None:
                ev = self.api.wait(0.2)  # a post that raced the exit
                if ev is not None and ev.kind in kinds:
                    return ev
                return "exit"
            if rss_bytes(self.proc.pid) > limit:
                return "memory"

    def init(self, timeout: float | None = None) -> InitOutcome:
        """Start the runtime and wait until it asks for the first event (or fails)."""
        self._kill()
        self._start()
        assert self.output is not None
        t0 = time.monotonic()
        mark = self.output.mark()
        got = self._await(("next", "init_error"),
                          timeout if timeout is not None else max(INIT_LIMIT_S,
                                                                  self.settings.timeout_s))
        ms = round((time.monotonic() - t0) * 1000, 1)
        if isinstance(got, ApiEvent) and got.kind == "next":
            return InitOutcome(round((got.at - t0) * 1000, 1), None,
                               tuple(self.output.since(mark)))
        if isinstance(got, ApiEvent):
            err = got.json_body()
            error = err if isinstance(err, dict) else {"errorType": got.error_type or "Runtime.Unknown",
                                                       "errorMessage": str(err)}
        elif got == "timeout":
            error = {"errorType": "Sandbox.Timedout",
                     "errorMessage": f"Init timed out after {ms / 1000:.2f} seconds"}
        elif got == "memory":
            error = {"errorType": "Runtime.OutOfMemory",
                     "errorMessage": "Runtime exited with error: signal: killed"}
        else:
            error = {"errorType": "Runtime.ExitError", "errorMessage": self._exit_text()}
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=2)
        log = tuple(self.output.since(mark))
        self._kill()
        return InitOutcome(ms, error, log)

    def invoke(self, payload: bytes, *, client_context: str | None = None,
               cognito_identity: str | None = None) -> InvokeOutcome:
        """Hand one event to the runtime and wait for its answer (at most the timeout)."""
        init = None
        if self.proc is None or self.proc.poll() is not None:
            init = self.init()
            if init.error is not None:
                rid = str(uuid.uuid4())
                return InvokeOutcome(rid, False, init.error, 0.0, 0, (), init)
        assert self.proc is not None and self.output is not None
        rid = str(uuid.uuid4())
        trace = (f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};"
                 f"Parent={uuid.uuid4().hex[:16]};Sampled=0")
        mark = self.output.mark()
        t0 = time.monotonic()
        self.api.submit(Invocation(rid, payload, self.settings.arn, self.settings.timeout_s,
                                   trace, client_context, cognito_identity))
        got = self._await(("response", "error"), self.settings.timeout_s, rid)
        started = self.api.started_at(rid) or t0
        end = got.at if isinstance(got, ApiEvent) else time.monotonic()
        ms = round((end - started) * 1000, 2)
        peak = peak_rss_bytes(self.proc.pid) if self.proc is not None else 0
        if isinstance(got, ApiEvent):
            body = got.json_body()
            return InvokeOutcome(rid, got.kind == "response", body, ms, peak,
                                 tuple(self.output.since(mark)), init)
        if got == "timeout":
            why = _error(rid, "Sandbox.Timedout",
                         f"Task timed out after {self.settings.timeout_s:.2f} seconds")
        elif got == "memory":
            why = _error(rid, "Runtime.OutOfMemory", "Runtime exited with error: signal: killed")
        else:
            why = _error(rid, "Runtime.ExitError", self._exit_text())
        log = list(self.output.since(mark))
        self._kill()
        return InvokeOutcome(rid, False, why, ms, peak, (*log, why["errorMessage"]), init)

    def close(self) -> None:
        self._kill()


def decode_event(data: bytes, where: str) -> bytes:
    """An event file's bytes, checked to be JSON (Lambda's console and CLI send JSON)."""
    try:
        json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"The event {where} is not JSON ({exc}).",
                         hint="Pass a JSON document, e.g. tests/data/apigw_v2_event.json.") from None
    return data
