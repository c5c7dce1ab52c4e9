"""The handler, loaded as Lambda loads it.

In the Lambda-like sandbox the check is an init through the runtime interface client itself
(:func:`init_handler`: awslambdaric started from the stand-in ``/var/runtime`` against the
local Runtime API, exactly as ``lambda-slim invoke`` runs it), and with an ``event`` one
invocation; so build and invoke agree on what loads. Without the sandbox (or without the
stand-in) :func:`run_handler` imports ``module.function`` with code of its own, in the same
``sys.path`` order (``/var/task`` first, then the layers' ``/opt/python`` folders); the
attribute must exist and be callable, and with an ``event`` it is called with a small context.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError, LambdaSlimError
from ..target.bootstrap import BOOTSTRAP_CODE
from ..target.proc import tail
from ..target.python import TargetPython
from .lambda_runtime import ExecutionEnvironment, FunctionSettings, has_sandbox
from .runtime_api import RuntimeApi

MARK = "@@LAMBDA_SLIM_HANDLER@@"
#: ``module.function``, the module possibly under folders (``src/app.handler``: awslambdaric
#: imports ``src.app``).
_HANDLER = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*/)*[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")

_CODE = BOOTSTRAP_CODE + r"""
import importlib, json, sys, traceback
args = json.loads(sys.argv[1])
_lambda_slim_bootstrap(args["paths"])
module, _, name = args["handler"].rpartition(".")
module = module.replace("/", ".")
out = {"ok": False}

class Context:
    function_name = "lambda-slim-verify"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:lambda-slim-verify"
    log_group_name = "/aws/lambda/lambda-slim-verify"
    log_stream_name = "verify"
    def get_remaining_time_in_millis(self):
        return 30000

try:
    fn = getattr(importlib.import_module(module), name, None)
    if fn is None:
        out["error"] = "module %r has no attribute %r" % (module, name)
    elif not callable(fn):
        out["error"] = "%s is a %s, not a function" % (args["handler"], type(fn).__name__)
    else:
        out["ok"] = True
        if args.get("event") is not None:
            out["result"] = fn(args["event"], Context())
except BaseException:
    out["ok"] = False
    out["error"] = traceback.format_exc()
print("\n" + MARK + json.dumps(out, default=str))
""".replace("MARK", repr(MARK))


@dataclass(frozen=True)
class HandlerResult:
    handler: str
    ok: bool
    environment: str  # the isolation's name: "sandbox", "sandbox+qemu-aarch64", "host", …
    error: str | None = None
    result: Any = None
    #: the init's duration through awslambdaric (None: checked by import only)
    init_ms: float | None = None

    def to_json(self) -> dict[str, object]:
        return {"handler": self.handler, "ok": self.ok, "environment": self.environment,
                "error": self.error}


def validate_handler(handler: str) -> str:
    if not _HANDLER.match(handler):
        raise InputError(f"--handler {handler!r} is not `module.function`.",
                         hint="Name it as in the function's configuration, e.g. "
                         "`app.handler` (app.py) or `pkg.api.main` (pkg/api.py).")
    return handler


def run_handler(tp: TargetPython, handler: str, task: Path, opt_python: Path | None = None,
                *, event: object = None, timeout: float = 300) -> HandlerResult:
    """Import ``handler`` from ``task`` (then the layers' ``opt_python``, as bootstrap.py
    orders them) where ``tp`` runs, and with ``event`` call it."""
    v = tp.interpreter.version
    layers = ([opt_python / "lib" / f"python{v[0]}.{v[1]}" / "site-packages", opt_python]
              if opt_python is not None else [])
    paths = [tp.inside(p, layer=opt_python, paths=[task]) for p in (task, *layers)]
    proc = tp.run(["-I", "-S", "-B", "-c", _CODE,
                   json.dumps({"paths": paths, "handler": handler, "event": event})],
                  layer=opt_python, paths=[task], cwd=task, timeout=timeout)
    where = tp.isolation.name
    out = proc.stdout or ""
    idx = out.rfind(MARK)
    if idx < 0:
        why = tail(out + "\n" + (proc.stderr or ""), 15)
        return HandlerResult(handler, False, where, f"the interpreter died (exit {proc.returncode}): {why}")
    data = json.loads(out[idx + len(MARK):].strip().splitlines()[0])
    return HandlerResult(handler, bool(data.get("ok")), where, data.get("error"), data.get("result"))


def _describe(error: Any) -> str:
    """Lambda's error object as the runtime logs it: ``Type: message`` and the stack."""
    if not isinstance(error, dict):
        return str(error)
    head = f"{error.get('errorType', '')}: {error.get('errorMessage', '')}".strip(": ")
    stack = "".join(str(f) for f in error.get("stackTrace") or ())
    return head + ("\n" + stack.rstrip() if stack else "")


def init_handler(tp: TargetPython, handler: str, task: Path, opt_python: Path | None,
                 runtime_dir: Path, *, runtime: str, memory_mb: int = 128,
                 event: bytes | None = None, timeout: float = 300) -> HandlerResult:
    """Init the function through awslambdaric in the sandbox (and with ``event`` invoke it
    once); the init may take ``timeout`` seconds (Lambda's own limit, 10 s, is reported by
    the caller from ``init_ms``)."""
    settings = FunctionSettings(handler, runtime, memory_mb, timeout_s=timeout)
    where = tp.isolation.name
    with RuntimeApi() as api:
        box = ExecutionEnvironment(tp, runtime_dir, task, opt_python, settings, api)
        try:
            init = box.init(timeout=timeout)
            if init.error is not None:
                log = "\n".join(init.log[-15:])
                return HandlerResult(handler, False, where, _describe(init.error)
                                     + (f"\n(init log)\n{log}" if log else ""),
                                     init_ms=init.duration_ms)
            result = None
            if event is not None:
                out = box.invoke(event)
                if not out.ok:
                    return HandlerResult(handler, False, where, _describe(out.response),
                                         init_ms=init.duration_ms)
                result = out.response
            return HandlerResult(handler, True, where, None, result, init_ms=init.duration_ms)
        finally:
            box.close()


def check_handler_in(tp: TargetPython, handler: str, task: Path, opt_python: Path | None,
                     runtime_dir: Path | None, *, runtime: str, memory_mb: int = 128,
                     event: bytes | None = None, timeout: float = 300) -> HandlerResult:
    """:func:`init_handler` where the sandbox and the stand-in /var/runtime exist, else
    :func:`run_handler` (an import of the handler, as before)."""
    if runtime_dir is not None and has_sandbox(tp.isolation):
        try:
            return init_handler(tp, handler, task, opt_python, runtime_dir, runtime=runtime,
                                memory_mb=memory_mb, event=event, timeout=timeout)
        except (LambdaSlimError, OSError) as exc:  # the runtime could not start at all
            return HandlerResult(handler, False, tp.isolation.name,
                                 f"the runtime interface client did not start: {exc}")
    parsed = None if event is None else json.loads(event.decode("utf-8"))
    return run_handler(tp, handler, task, opt_python, event=parsed, timeout=timeout)
