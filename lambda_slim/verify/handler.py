"""The handler, imported as Lambda imports it: ``module.function`` from ``/var/task`` first,
then the layers' ``/opt/python`` folders; the attribute must exist and be callable.

Runs in the Lambda-like sandbox (code read-only at /var/task, layers at /opt, only /tmp
writable) when bubblewrap is available, else in a plain child interpreter with the same
``sys.path`` order. With an ``event`` the handler is also called, with a small context object,
and its JSON result returned (the tests invoke it with a real API Gateway event).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..target.bootstrap import BOOTSTRAP_CODE
from ..target.proc import tail
from ..target.python import TargetPython

MARK = "@@LAMBDA_SLIM_HANDLER@@"
#: ``module.function``, the module possibly under folders (``src/app.handler``: awslambdaric
#: imports ``src.app``).
_HANDLER = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*/)*[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")

_CODE = BOOTSTRAP_CODE + r"""
import importlib, json, sys, traceback
args = json.loads(sys.argv[1])
_lambda_slim_bootstrap(args["paths"])
module, _, name = args["handler"].rpartition(".")
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
