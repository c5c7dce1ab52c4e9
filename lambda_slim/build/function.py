"""The function-package parts of ``lambda-slim build --function``: checked up front, assembled
after the install (layers subtracted, handler code copied in), the handler imported as Lambda
would after verification. The build itself (rules, audit, compile, verify, zip) is shared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from ..artifact.zipread import read_zip_listing
from ..errors import InputError, VerifyError
from ..inputs.config import BuildConfig
from ..report.model import FunctionSummary, HandlerRow, LayerRow
from ..resolve.install import Resolution
from ..resolve.project import build_project_wheel, project_dir, with_project
from ..target.proc import Runner
from ..target.python import Interpreter, TargetPython
from ..tree.function import (
    CodeFiles,
    FunctionTree,
    check_function_dir,
    code_files,
    copy_code,
    drop_provided,
    extract_layers,
    keep_globs,
)
from ..verify.handler import HandlerResult, check_handler_in, validate_handler
from ..verify.lambda_runtime import decode_event


def _own_outputs(config: BuildConfig) -> list[tuple[str, Path]]:
    named = [("-o", config.output), ("manifest", config.manifest_path()),
             ("--json", config.json_path), ("--html", config.html_path)]
    return [(what, p) for what, p in named if p is not None] + [
        ("--layer-zip", z) for z in config.layer_zips]


def function_code(config: BuildConfig) -> CodeFiles:
    """The function folder's files to ship (this build's outputs and layers left out)."""
    assert config.function is not None
    return code_files(config.function, _own_outputs(config), symlinks=config.symlinks)


def prepare(config: BuildConfig) -> BuildConfig:
    """Check the function options before any work; protect the handler code from the rules;
    take the layers' unzipped size off the budget (Lambda counts function + layers)."""
    if config.function is None:
        for flag, given in (("--layer-zip", config.layer_zips), ("--handler", config.handler),
                            ("--event", config.event)):
            if given:
                raise InputError(f"{flag} describes a function package; add --function SRC_DIR.",
                                 hint="lambda-slim build PATH --function src/ " + flag + " ...")
        return config
    check_function_dir(config.function)
    if config.overflow:
        raise InputError("--overflow packs a layer's distributions for /tmp; it does not apply to "
                         "--function packages.", hint="Build the dependencies as a layer with "
                         "--overflow and pass it to the function build with --layer-zip.")
    if config.handler is not None:
        validate_handler(config.handler)
    if config.event is not None:
        if config.handler is None:
            raise InputError("--event is the event the --handler is invoked with; add --handler.",
                             hint="lambda-slim build PATH --function src/ --handler app.handler "
                                  "--event event.json")
        if not config.event.is_file():
            raise InputError(f"The --event file {config.event} does not exist.",
                             hint="Pass a JSON event file (e.g. one your function receives).")
    layers_bytes = 0
    for z in config.layer_zips:
        if not z.is_file():
            raise InputError(f"Layer zip {z} does not exist.",
                             hint="Build it first: lambda-slim build requirements.txt -o layer.zip")
        layers_bytes += read_zip_listing(z).unzipped_bytes
    keep = keep_globs(function_code(config))
    return replace(config, keep=(*config.keep, *keep), limit=config.budget,
                   budget=config.budget - layers_bytes)


def add_project(config: BuildConfig, resolution: Resolution, interp: Interpreter, runner: Runner,
                env: Mapping[str, str]) -> Resolution:
    wheel = build_project_wheel(project_dir(config.requirements), interp, config.cache_dir, runner, env)
    return with_project(resolution, wheel)


def assemble(config: BuildConfig, root: Path, work: Path) -> FunctionTree:
    """Subtract the layers from the installed tree and copy the handler code in."""
    assert config.function is not None
    opt = work / "opt" if config.layer_zips else None
    layers = extract_layers(config.layer_zips, opt, config.target.runtime.python) if opt else ()
    provided, shadowed = drop_provided(root, layers) if layers else ([], [])
    code = function_code(config)
    copy_code(config.function, root, code)
    return FunctionTree(config.function, code.files, layers, opt, tuple(provided), tuple(shadowed),
                        code.left_out)


def check_handler(config: BuildConfig, fn: FunctionTree, tp: TargetPython,
                  root: Path, runtime_dir: Path | None = None) -> HandlerResult:
    """Load the handler as Lambda would, where the build runs layer code (the sandbox,
    emulated for another machine): an init through awslambdaric with the stand-in
    ``runtime_dir`` (and one invocation with ``--event``), else an import; VerifyError when
    it fails. ``--smoke-timeout`` bounds the init and the invocation."""
    assert config.handler is not None
    event = None
    if config.event is not None:
        try:
            event = decode_event(config.event.read_bytes(), str(config.event))
        except OSError as exc:
            raise InputError(f"Cannot read the --event file {config.event}: "
                             f"{exc.strerror or exc}.", hint="Pass a JSON event file.") from None
    res = check_handler_in(tp, config.handler, root, fn.opt / "python" if fn.opt else None,
                           runtime_dir, runtime=config.target.runtime.name,
                           memory_mb=config.memory_mb or 128, event=event,
                           timeout=config.smoke_timeout)
    if not res.ok:
        raise VerifyError(
            f"The handler {config.handler} does not load as Lambda would load it "
            f"({res.environment}: code at /var/task, layers at /opt):\n{res.error}",
            hint=f"Check that {config.handler.rpartition('.')[0].replace('.', '/')}.py is in "
            f"{fn.handler_dir} and defines {config.handler.rpartition('.')[2]}, and that "
            "everything it imports is in the requirements or a --layer-zip.")
    return res


def report(config: BuildConfig, fn: FunctionTree, handler: HandlerResult | None) -> FunctionSummary:
    """The report's ``function`` section (``budget_bytes`` is what the layers leave)."""
    return FunctionSummary(
        source=str(fn.handler_dir), code_files=len(fn.code_files),
        handler=HandlerRow(handler.handler, handler.ok, handler.environment, handler.error)
        if handler else None,
        layers=tuple(LayerRow(str(x.path), x.unzipped_bytes, x.dists) for x in fn.layers),
        layers_bytes=fn.layers_bytes, limit_bytes=config.limit,
        provided_by_layers=fn.provided, shadowing_layers=fn.shadowed,
        with_project=config.with_project, left_out=fn.left_out,
    )
