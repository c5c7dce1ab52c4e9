"""The invoke job: function code and layers laid out as on Lambda, the stand-in
``/var/runtime`` for the runtime, one init, then each event in turn (warm after the first)."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..artifact.zipread import extract_listing, read_zip_listing
from ..errors import InputError
from ..resolve.var_runtime import var_runtime
from ..target.proc import Runner
from ..target.proc import run as default_runner
from ..target.python import Interpreter
from ..target.runtimes import Target
from ..target.sdk import RuntimeSdk, runtime_sdk
from ..tree.function import extract_layers
from ..verify.handler import validate_handler
from ..verify.lambda_runtime import ExecutionEnvironment, FunctionSettings, InitOutcome, InvokeOutcome
from ..verify.runtime_api import RuntimeApi
from .tools import sandboxed_python

#: Lambda's defaults for a new function: 128 MB, 3 s (AWS "Configuring Lambda function
#: memory" and "Configure Lambda function timeout" pages).
DEFAULT_MEMORY_MB = 128
DEFAULT_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class Event:
    label: str  # the file it came from ("-" for stdin, "{}" for the default empty event)
    payload: bytes


@dataclass(frozen=True)
class InvokeSpec:
    handler: str
    target: Target
    cache_dir: Path
    function_zip: Path | None = None
    function_dir: Path | None = None
    layer_zips: tuple[Path, ...] = ()
    events: tuple[Event, ...] = ()
    memory_mb: int = DEFAULT_MEMORY_MB
    timeout_s: float = DEFAULT_TIMEOUT_S
    env: Mapping[str, str] = field(default_factory=dict)
    python: str | None = None
    runtime_sdk: str | None = None
    system_libs: tuple[str, ...] = ()
    #: ``ClientContext`` of the Invoke API (JSON: ``{"custom": …, "env": …, "client": …}``)
    client_context: str | None = None


@dataclass(frozen=True)
class InvokeRun:
    """What happened: the init, then each event with its outcome."""

    handler: str
    target: Target
    environment: str
    sdk: RuntimeSdk
    memory_mb: int
    timeout_s: float
    init: InitOutcome
    invokes: tuple[tuple[Event, InvokeOutcome], ...]

    @property
    def ok(self) -> bool:
        return self.init.error is None and all(o.ok for _e, o in self.invokes)

    def to_json(self) -> dict[str, Any]:
        return {
            "handler": self.handler, "target": self.target.to_json(),
            "environment": self.environment, "runtime_sdk": self.sdk.to_json(),
            "memory_mb": self.memory_mb, "timeout_s": self.timeout_s, "ok": self.ok,
            "init": {"duration_ms": self.init.duration_ms, "error": self.init.error,
                     "over_init_limit": self.init.over_limit, "log": list(self.init.log)},
            "invocations": [{
                "event": e.label, "request_id": o.request_id, "ok": o.ok,
                "response": o.response if o.ok else None, "error": None if o.ok else o.response,
                "duration_ms": o.duration_ms, "max_memory_used_mb": o.max_memory_bytes // 2**20,
                "init_duration_ms": o.init.duration_ms if o.init else None,
                "log": list(o.log)} for e, o in self.invokes],
        }


def default_events(events: tuple[Event, ...]) -> tuple[Event, ...]:
    """No event given: the console's default test event, ``{}``."""
    return events or (Event("{}", b"{}"),)


def _check(spec: InvokeSpec) -> None:
    validate_handler(spec.handler)
    if (spec.function_zip is None) == (spec.function_dir is None):
        raise InputError("Give the function once: a FUNCTION.zip argument or --function SRC_DIR.",
                         hint="lambda-slim invoke function.zip --handler app.handler")
    if spec.function_zip is not None and not spec.function_zip.is_file():
        raise InputError(f"Function zip {spec.function_zip} does not exist.",
                         hint="Build it: lambda-slim build requirements.txt --function src/ "
                              "-o function.zip")
    if spec.function_dir is not None and not spec.function_dir.is_dir():
        raise InputError(f"--function {spec.function_dir} is not a folder.",
                         hint="Point --function at the folder holding the handler's code.")
    if spec.memory_mb < 128 or spec.memory_mb > 10240:
        raise InputError(f"--memory {spec.memory_mb} is outside Lambda's 128-10240 MB.")
    if not 0 < spec.timeout_s <= 900:
        raise InputError(f"--timeout {spec.timeout_s:g} is outside Lambda's 1-900 seconds.")


def run_invoke(spec: InvokeSpec, env: Mapping[str, str],
               runner: Runner = default_runner) -> InvokeRun:
    """One execution environment for the function: init, then every event, in order."""
    _check(spec)
    tp = sandboxed_python(spec.target, env, runner, spec.cache_dir, explicit=spec.python,
                          memory_mb=spec.memory_mb, system_libs=spec.system_libs)
    sdk = runtime_sdk(spec.target.runtime.name, spec.runtime_sdk)
    pip_python = Interpreter(Path(sys.executable), (sys.version_info[0], sys.version_info[1]))
    runtime_dir = var_runtime(spec.target, sdk, pip_python, spec.cache_dir, runner, env)
    settings = FunctionSettings(spec.handler, spec.target.runtime.name, spec.memory_mb,
                                spec.timeout_s, env=dict(spec.env))
    spec.cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="invoke-", dir=spec.cache_dir) as tmp:
        task = spec.function_dir
        if task is None:
            assert spec.function_zip is not None
            task = Path(tmp) / "task"
            task.mkdir()
            extract_listing(read_zip_listing(spec.function_zip), task)
        opt_python = None
        if spec.layer_zips:
            opt = Path(tmp) / "opt"
            extract_layers(spec.layer_zips, opt, spec.target.runtime.python)
            opt_python = opt / "python"
            opt_python.mkdir(exist_ok=True)
        with RuntimeApi() as api:
            box = ExecutionEnvironment(tp, runtime_dir, task.resolve(), opt_python, settings, api)
            try:
                init = box.init()
                outcomes: list[tuple[Event, InvokeOutcome]] = []
                if init.error is None:
                    for event in default_events(spec.events):
                        outcomes.append((event, box.invoke(event.payload,
                                                           client_context=spec.client_context)))
            finally:
                box.close()
    return InvokeRun(spec.handler, spec.target, tp.isolation.name, sdk, spec.memory_mb,
                     spec.timeout_s, init, tuple(outcomes))
