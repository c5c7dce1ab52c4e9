"""``lambda-slim invoke``: run a function's handler as Lambda does, in the sandbox."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..artifact.atomic import atomic_write_text, require_parent
from ..errors import EXIT_OK, EXIT_VERIFY, InputError
from ..inputs.config import default_cache_dir
from ..invoke import InvokeRun, InvokeSpec, run_invoke
from ..invoke.job import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S, Event
from ..target.python import env_snapshot
from ..target.runtimes import DEFAULT_ARCH, DEFAULT_RUNTIME, parse_target
from ..verify.lambda_runtime import INIT_LIMIT_S, decode_event
from . import main_group
from .exits import exit_code_help
from .options import arch_option, json_option, runtime_option
from .render import console, err_console


def _events(paths: tuple[str, ...]) -> tuple[Event, ...]:
    out = []
    for p in paths:
        if p == "-":
            data = sys.stdin.buffer.read()
        else:
            try:
                data = Path(p).read_bytes()
            except OSError as exc:
                raise InputError(f"Cannot read the event {p}: {exc.strerror or exc}.",
                                 hint="Pass a JSON file (or - for stdin) to --event.") from None
        out.append(Event(p, decode_event(data, p)))
    return tuple(out)


def _client_context(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        ok = isinstance(json.loads(text), dict)
    except ValueError:
        ok = False
    if not ok:
        raise InputError(f"--client-context {text!r} is not a JSON object.",
                         hint='e.g. --client-context \'{"custom": {"tenant": "a"}}\'')
    return text


def _env(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(f"--env {pair!r} is not KEY=VALUE.", hint="e.g. --env LOG_LEVEL=debug")
        out[key] = value
    return out


def _print(run: InvokeRun) -> None:
    """Logs and REPORT lines on stderr (as CloudWatch shows them), responses on stdout."""
    err = err_console
    init = run.init
    err.print(f"INIT_START Runtime: {run.target.runtime.name} {run.target.arch} "
              f"({run.environment}, awslambdaric, {run.sdk.describe()})", markup=False)
    for line in init.log:
        err.print(line, markup=False, highlight=False)
    if init.error is not None:
        err.print(f"INIT_REPORT Init Duration: {init.duration_ms:.2f} ms\tPhase: init\t"
                  f"Status: error\tError Type: {init.error.get('errorType')}", markup=False)
        console.print_json(json.dumps(init.error))
        return
    if init.over_limit:
        err.print(f"[yellow]Warning:[/] init took {init.duration_ms / 1000:.1f} s, past Lambda's "
                  f"{INIT_LIMIT_S:.0f} s limit for on-demand functions: Lambda would retry it "
                  "inside the first invocation's timeout.")
    first = True
    for _event, o in run.invokes:
        err.print(f"START RequestId: {o.request_id} Version: $LATEST", markup=False)
        for line in o.log:
            err.print(line, markup=False, highlight=False)
        err.print(f"END RequestId: {o.request_id}", markup=False)
        init_ms = init.duration_ms if first else (o.init.duration_ms if o.init else None)
        report = (f"REPORT RequestId: {o.request_id}\tDuration: {o.duration_ms:.2f} ms\t"
                  f"Memory Size: {run.memory_mb} MB\t"
                  f"Max Memory Used: {o.max_memory_bytes // 2**20} MB")
        if init_ms is not None:
            report += f"\tInit Duration: {init_ms:.2f} ms"
        err.print(report, markup=False)
        first = False
        console.print_json(json.dumps(o.response))


@main_group.command(
    "invoke",
    epilog="""\b
Examples:
  lambda-slim invoke function.zip --layer-zip layer.zip --handler app.handler --event event.json
  lambda-slim invoke --function src/ --handler app.handler --event a.json --event b.json
  echo '{"x": 1}' | lambda-slim invoke function.zip --handler app.handler --event -

\b
The first event is a cold start (its REPORT line has the Init Duration), the
others are warm invocations of the same process. Responses go to stdout, the
function's log and the REPORT lines to stderr; Lambda's errorType, errorMessage
and stackTrace are printed for a failed init or invocation.""" + exit_code_help("invoke"),
)
@click.argument("function_zip", required=False, type=click.Path(path_type=Path),
                metavar="[FUNCTION.zip]")
@click.option("--function", "function_dir", type=click.Path(path_type=Path), default=None,
              metavar="SRC_DIR", help="The function's code folder instead of a zip.")
@click.option("--layer-zip", "layer_zips", multiple=True, type=click.Path(path_type=Path),
              metavar="ZIP", help="A layer, in the function's order (repeatable).")
@click.option("--handler", required=True, metavar="MODULE.FUNCTION",
              help="As in the function's configuration, e.g. app.handler or src/app.handler.")
@click.option("--event", "events", multiple=True, metavar="FILE",
              help="A JSON event, - for stdin (repeatable: one invocation each) [default: {}].")
@runtime_option()
@arch_option()
@click.option("--memory", "memory_mb", type=int, default=DEFAULT_MEMORY_MB, show_default=True,
              metavar="MB", help="The function's memory setting (AWS_LAMBDA_FUNCTION_MEMORY_SIZE; "
              "a process whose resident memory passes it is killed).")
@click.option("--timeout", "timeout_s", type=float, default=DEFAULT_TIMEOUT_S, show_default=True,
              metavar="S", help="The function's timeout in seconds.")
@click.option("--env", "env_pairs", multiple=True, metavar="KEY=VALUE",
              help="The function's environment variables (repeatable).")
@click.option("--client-context", default=None, metavar="JSON",
              help="The Invoke API's ClientContext (a JSON object: custom, env, client), "
              "seen by the handler as context.client_context.")
@click.option("--runtime-sdk", default=None, metavar="botocore==X.Y.Z",
              help="The SDK version your function's runtime has [default: the runtime's floor].")
@click.option("--python", default=None, metavar="PATH",
              help="The target interpreter (an aarch64 one for --arch arm64 elsewhere).")
@json_option("Write every init and invocation (responses, errors, logs, timings) here.",
             dir_okay=False)
def invoke_cmd(function_zip: Path | None, function_dir: Path | None,
               layer_zips: tuple[Path, ...], handler: str, events: tuple[str, ...],
               runtime: str | None, arch: str | None, memory_mb: int, timeout_s: float,
               env_pairs: tuple[str, ...], client_context: str | None,
               runtime_sdk: str | None, python: str | None, json_path: Path | None) -> int:
    """Invoke HANDLER as Lambda would, without Docker: the real runtime interface client
    (awslambdaric) in the Lambda-like sandbox, against a local Runtime API."""
    env = env_snapshot()
    if json_path is not None:
        require_parent(json_path, "--json")
    spec = InvokeSpec(
        handler=handler, target=parse_target(runtime or DEFAULT_RUNTIME, arch or DEFAULT_ARCH),
        cache_dir=default_cache_dir(env), function_zip=function_zip, function_dir=function_dir,
        layer_zips=layer_zips, events=_events(events), memory_mb=memory_mb,
        timeout_s=timeout_s, env=_env(env_pairs), python=python, runtime_sdk=runtime_sdk,
        client_context=_client_context(client_context))
    run = run_invoke(spec, env)
    _print(run)
    if json_path is not None:
        atomic_write_text(json_path, json.dumps(run.to_json(), indent=1) + "\n")
    return EXIT_OK if run.ok else EXIT_VERIFY
