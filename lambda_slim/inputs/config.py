"""Configuration: frozen dataclasses and how flags, env vars and pyproject.toml layer.

Precedence, lowest to highest: built-in defaults < ``[tool.lambda-slim]`` in the
``pyproject.toml`` beside the requirements file (and its ``layers.<name>`` table) <
``LAMBDA_SLIM_*`` environment variables < command-line flags.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..artifact.manifest import manifest_path
from ..artifact.zipwrite import source_date_epoch
from ..errors import ConfigError
from ..rules import RULES, validate_rules
from ..sizes import DEFAULT_BUDGET, parse_size
from ..suggest import did_you_mean
from ..target.runtimes import DEFAULT_ARCH, DEFAULT_RUNTIME, Target, parse_target
from ..target.sandbox import DEFAULT_EPHEMERAL_MB, EPHEMERAL_RANGE
from ..target.sdk import RuntimeSdk, runtime_sdk
from ..target.syslibs import validate_soname
from .args import BuildArgs
from .lock_model import Selection
from .locks import default_input

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

#: What gets bytecode: what a cold start imports (the default), every module, nothing, or
#: what the ``--trace`` workload touched.
COMPILE_MODES = ("imported", "all", "none", "traced")
#: Lambda's own maximum function timeout is 900 s; a smoke script is a quick workload.
DEFAULT_SMOKE_TIMEOUT = 300.0
#: Lambda's memory sizes (MB).
MEMORY_RANGE = (128, 10240)
#: How resolved wheels are installed: "unpack" (parallel, spec-following, the default) or
#: "pip" (``pip install --target`` under the target interpreter).
INSTALLERS = ("unpack", "pip")
GRANULARITIES = ("package", "module", "file")


@dataclass(frozen=True)
class BuildConfig:
    requirements: Path
    target: Target
    output: Path
    budget: int = DEFAULT_BUDGET
    json_path: Path | None = None
    keep: tuple[str, ...] = ()
    rules: frozenset[str] = frozenset()
    compile: str = "imported"
    smoke: tuple[Path, ...] = ()
    trace: tuple[Path, ...] = ()
    trace_granularity: str = "package"
    repair: bool = False
    require_verify: bool = False
    python: str | None = None
    cache_dir: Path = field(default_factory=lambda: default_cache_dir(os.environ))
    jobs: int = 0
    zip_level: int = 6
    refresh: bool = False
    epoch: int = 315532800
    layer: str | None = None
    use_result_cache: bool = True
    #: True when the output path comes from pyproject.toml: its folder is created on demand
    #: (a project declares where its artifacts go); a --output folder must already exist.
    create_output_dir: bool = False
    installer: str = INSTALLERS[0]
    #: Sonames another layer or a custom runtime provides (``--system-lib``, ``system-libs``).
    system_libs: tuple[str, ...] = ()
    #: Seconds a smoke or trace script may run before it counts as failed.
    smoke_timeout: float = DEFAULT_SMOKE_TIMEOUT
    #: The function's memory size in MB: the build fails when peak RSS does not fit.
    memory_mb: int | None = None
    #: The function's /tmp in MB (``EphemeralStorage``): the sandbox's /tmp holds this much.
    ephemeral_mb: int = DEFAULT_EPHEMERAL_MB
    #: Run layer code in the Lambda-like sandbox when this machine allows it.
    sandbox: bool = True
    #: Replace GPU/GUI distributions by their CPU/headless variants (resolve/variants.py).
    variants: bool = True
    #: Extra ``ORIGINAL=REPLACEMENT`` pairs (``--variant``).
    variant: tuple[str, ...] = ()
    #: Pack distributions into archives unpacked into /tmp when the layer does not fit.
    overflow: bool = False
    #: Dependency groups and extras of a lock or pyproject (``--group``, ``--extra``,
    #: ``--no-default-groups``).
    selection: Selection = field(default_factory=Selection)
    #: A function package (``--function SRC_DIR``): handler code and dependencies at the zip
    #: root; ``layer_zips`` are the layers it runs with (their contents are left out).
    function: Path | None = None
    layer_zips: tuple[Path, ...] = ()
    handler: str | None = None
    with_project: bool = False
    #: ``--html``: written by the CLI after the build; known here so the guard and the function
    #: packaging see every output.
    html_path: Path | None = None
    #: Build even when the input installs nothing for the target (``--allow-empty``).
    allow_empty: bool = False
    #: Store a symlink inside the function folder as the file it names (False: refuse it).
    symlinks: bool = True
    #: Lambda's limit before the layers' share was taken off (function builds report both).
    limit: int = DEFAULT_BUDGET
    #: Optional parts that will not import or load on Lambda are errors, not warnings.
    strict: bool = False
    #: The AWS SDK a function on the runtime may meet (``--runtime-sdk``, else the floor).
    runtime_sdk: RuntimeSdk | None = None
    #: With ``handler``: a JSON event the handler is invoked with once after its init.
    event: Path | None = None

    @property
    def workers(self) -> int:
        return self.jobs or max(1, os.cpu_count() or 1)

    def manifest_path(self) -> Path:
        return manifest_path_for(self.output)


def manifest_path_for(zip_path: Path) -> Path:
    """``layer.zip`` -> ``layer.manifest.json`` (the removal manifest beside the zip)."""
    return manifest_path(zip_path)


def default_cache_dir(env: Mapping[str, str]) -> Path:
    if env.get("LAMBDA_SLIM_CACHE_DIR"):
        return Path(env["LAMBDA_SLIM_CACHE_DIR"]).expanduser()
    base = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".cache")
    return Path(base) / "lambda-slim"


#: Keys accepted in [tool.lambda-slim] and in each [tool.lambda-slim.layers.NAME].
LAYER_KEYS = {
    "installer", "requirements", "runtime", "arch", "output", "budget", "keep", "disable", "compile",
    "smoke", "trace", "trace-granularity", "repair", "require-verify", "python", "jobs",
    "zip-level", "json", "system-libs", "smoke-timeout", "memory", "ephemeral-storage", "sandbox",
    "variants", "variant",
    "overflow", "groups", "extras", "no-default-groups", "function", "layer-zips", "handler",
    "with-project", "strict", "allow-empty", "symlinks", "runtime-sdk", "event",
}
TOP_KEYS = LAYER_KEYS | {"layers"}

#: Environment variables that set defaults (below flags, above pyproject.toml).
ENV_KEYS = {
    "LAMBDA_SLIM_RUNTIME": "runtime", "LAMBDA_SLIM_ARCH": "arch",
    "LAMBDA_SLIM_BUDGET": "budget", "LAMBDA_SLIM_JOBS": "jobs",
    "LAMBDA_SLIM_PYTHON": "python", "LAMBDA_SLIM_ZIP_LEVEL": "zip-level",
}


def _norm_keys(table: Mapping[str, Any], allowed: set[str], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        k = key.replace("_", "-")
        if k not in allowed:
            raise ConfigError(
                f"Unknown key {key!r} in {where}.{did_you_mean(k, allowed)}",
                hint=f"Valid keys: {', '.join(sorted(allowed))}.",
            )
        out[k] = value
    return out


def load_pyproject(path: Path) -> dict[str, Any]:
    """``[tool.lambda-slim]`` of ``path`` (empty when the file or table is absent)."""
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{path} is not valid TOML: {exc}", hint="Fix the syntax error it names."
        ) from None
    except RecursionError:
        raise ConfigError(f"{path} is nested too deeply to be a pyproject.toml.",
                          hint="Pass the real file.") from None
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"[tool] in {path} must be a table, not {tool!r}.",
                          hint="Settings go in a [tool.lambda-slim] table.")
    table = tool.get("lambda-slim", {})
    if not isinstance(table, dict):
        raise ConfigError(f"[tool.lambda-slim] in {path} must be a table.")
    table = _norm_keys(table, TOP_KEYS, f"[tool.lambda-slim] of {path}")
    layers = table.get("layers", {})
    if not isinstance(layers, dict) or not all(isinstance(v, dict) for v in layers.values()):
        raise ConfigError(f"[tool.lambda-slim.layers] in {path} must hold one table per layer.")
    table["layers"] = {
        name: _norm_keys(v, LAYER_KEYS, f"[tool.lambda-slim.layers.{name}] of {path}")
        for name, v in layers.items()
    }
    return table


def _as_list(value: Any, key: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ConfigError(f"`{key}` must be a string or a list of strings, not {value!r}.")


def _as_bool(value: Any, key: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "0", "false", "no",
                                                     "off"):
        return value.lower() in ("1", "true", "yes", "on")
    raise ConfigError(f"`{key}` must be true or false, not {value!r}.")


def _as_int(value: Any, key: str) -> int:
    if isinstance(value, (bool, float)):
        raise ConfigError(f"`{key}` must be a whole number, not {value!r}.")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"`{key}` must be a whole number, not {value!r}.") from None


def _as_jobs(value: Any) -> int:
    """0 (not given) means one worker per CPU; given, it must be at least 1."""
    if value is None:
        return 0
    jobs = _as_int(value, "jobs")
    if jobs < 1:
        raise ConfigError(f"`jobs` must be a whole number of 1 or more, not {jobs} "
                          "(from --jobs, LAMBDA_SLIM_JOBS or jobs in pyproject.toml).",
                          hint="Leave it out to use one worker per CPU.")
    return jobs


def _as_size(value: Any, key: str) -> int:
    if isinstance(value, (bool, float)):
        raise ConfigError(f"`{key}` must be bytes or a size string such as \"250MiB\", "
                          f"not {value!r}.")
    return parse_size(value)


def _as_float(value: Any, key: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"`{key}` must be a number of seconds, not {value!r}.") from None
    if not out > 0:
        raise ConfigError(f"`{key}` must be more than 0 seconds, not {value!r}.")
    return out


def _installer(value: Any) -> str:
    if value not in INSTALLERS:
        raise ConfigError(f"`installer` must be 'unpack' or 'pip', not {value!r}.")
    return str(value)


def _variants(value: Any) -> tuple[str, ...]:
    """``ORIGINAL=REPLACEMENT`` pairs; the build checks them against the variants table
    before any work (:func:`lambda_slim.resolve.variants.variant_table`)."""
    return tuple(_as_list(value, "variant"))


def build_config(
    cli: BuildArgs,
    env: Mapping[str, str],
    cwd: Path,
    layer: str | None = None,
) -> BuildConfig:
    """Layer defaults < pyproject < layer table < env < CLI into one frozen BuildConfig.

    ``cli`` holds only the flags the user gave (None/absent means "not given"). Relative
    paths from pyproject.toml are relative to that file's folder.
    """
    req_cli = cli.requirements
    if req_cli is not None:
        given = (cwd / req_cli).resolve()
        pyproject = (given if given.is_dir() else given.parent) / "pyproject.toml"
    else:
        pyproject = cwd / "pyproject.toml"
    table = load_pyproject(pyproject)
    base = pyproject.parent
    layers = table.pop("layers", {})
    # Each value remembers the folder its relative paths are relative to.
    merged: dict[str, tuple[Any, Path]] = {k: (v, base) for k, v in table.items()}
    if layer is not None:
        if layer not in layers:
            known = ", ".join(sorted(layers)) or "none"
            raise ConfigError(
                f"No layer {layer!r} in [tool.lambda-slim.layers] of {pyproject}."
                f"{did_you_mean(layer, set(layers))}",
                hint=f"Layers defined there: {known}.",
            )
        merged.update({k: (v, base) for k, v in layers[layer].items()})
    for var, key in ENV_KEYS.items():
        if env.get(var):
            merged[key] = (env[var], cwd)
    for key, value in cli.given().items():
        merged[key] = (value, cwd)

    def get(key: str, default: Any = None) -> Any:
        return merged[key][0] if key in merged else default

    def path_of(key: str, default: str | None) -> Path | None:
        raw, origin = merged.get(key, (default, cwd))
        if raw is None:
            return None
        if not isinstance(raw, (str, os.PathLike)):
            raise ConfigError(f"`{key}` must be a string (one path), not {raw!r}.",
                              hint=f'For example {key} = "build/layer.zip".')
        p = Path(str(raw)).expanduser()
        return p if p.is_absolute() else origin / p

    def paths_of(key: str) -> tuple[Path, ...]:
        raw, origin = merged.get(key, (None, cwd))
        return tuple(p if p.is_absolute() else origin / p
                     for p in (Path(s).expanduser() for s in _as_list(raw, key)))

    target = parse_target(str(get("runtime", DEFAULT_RUNTIME)), str(get("arch", DEFAULT_ARCH)))
    requirements = path_of("requirements", None) or default_input(cwd)
    function = path_of("function", None)
    default_out = f"{layer}-layer.zip" if layer else ("function.zip" if function else "layer.zip")
    output = path_of("output", default_out)
    assert output is not None
    disabled = set(_as_list(get("disable"), "disable"))
    validate_rules(disabled)
    for rule, on in cli.rule_flags.items():
        if on is True:
            disabled.discard(rule)
        elif on is False:
            disabled.add(rule)
    compile_mode = get("compile", "imported")
    if isinstance(compile_mode, bool):
        compile_mode = "all" if compile_mode else "none"
    if compile_mode not in COMPILE_MODES:
        raise ConfigError(f"`compile` must be one of {', '.join(COMPILE_MODES)}, "
                          f"not {compile_mode!r}.")
    gran = str(get("trace-granularity", "package"))
    if gran not in GRANULARITIES:
        raise ConfigError(f"`trace-granularity` must be one of {', '.join(GRANULARITIES)}, "
                          f"not {gran!r}.")
    zip_level = _as_int(get("zip-level", 6), "zip-level")
    if not 0 <= zip_level <= 9:
        raise ConfigError(f"`zip-level` must be 0-9, not {zip_level}.")
    json_path = path_of("json", None)
    for key in ("smoke", "trace"):
        for script in paths_of(key):
            if not script.is_file():
                raise ConfigError(
                    f"The --{key} script {script} does not exist"
                    + (" (it is a folder)." if script.is_dir() else "."),
                    hint=f"Fix the path, or drop --{key} (`{key}` in pyproject.toml).")
    system_libs = tuple(validate_soname(s, "system-libs")
                        for s in _as_list(get("system-libs"), "system-libs"))
    smoke_timeout = _as_float(get("smoke-timeout", DEFAULT_SMOKE_TIMEOUT), "smoke-timeout")
    ephemeral_mb = _as_int(get("ephemeral-storage", DEFAULT_EPHEMERAL_MB), "ephemeral-storage")
    if not EPHEMERAL_RANGE[0] <= ephemeral_mb <= EPHEMERAL_RANGE[1]:
        raise ConfigError(f"`ephemeral-storage` must be {EPHEMERAL_RANGE[0]}-{EPHEMERAL_RANGE[1]} "
                          f"(MB, the /tmp sizes Lambda allows), not {ephemeral_mb}.")
    memory = get("memory")
    memory_mb = _as_int(memory, "memory") if memory is not None else None
    if memory_mb is not None and not MEMORY_RANGE[0] <= memory_mb <= MEMORY_RANGE[1]:
        raise ConfigError(f"`memory` must be {MEMORY_RANGE[0]}-{MEMORY_RANGE[1]} (MB, Lambda's "
                          f"range), not {memory_mb}.")
    return BuildConfig(
        requirements=requirements,
        target=target,
        output=output,
        budget=_as_size(get("budget", DEFAULT_BUDGET), "budget"),
        json_path=json_path,
        keep=tuple(_as_list(get("keep"), "keep")),
        rules=frozenset(set(RULES) - disabled),
        compile=str(compile_mode),
        smoke=paths_of("smoke"),
        trace=paths_of("trace"),
        trace_granularity=gran,
        repair=_as_bool(get("repair", False), "repair"),
        require_verify=_as_bool(get("require-verify", False), "require-verify"),
        python=str(get("python")) if get("python") else None,
        cache_dir=Path(cli.cache_dir) if cli.cache_dir else default_cache_dir(env),
        jobs=_as_jobs(get("jobs")),
        zip_level=zip_level,
        refresh=bool(get("refresh", False)),
        epoch=source_date_epoch(env),
        layer=layer,
        use_result_cache=bool(get("result-cache", True)),
        installer=_installer(get("installer", INSTALLERS[0])),
        system_libs=system_libs,
        smoke_timeout=smoke_timeout,
        memory_mb=memory_mb,
        ephemeral_mb=ephemeral_mb,
        sandbox=_as_bool(get("sandbox", True), "sandbox"),
        variants=_as_bool(get("variants", True), "variants"),
        variant=_variants(get("variant")),
        overflow=_as_bool(get("overflow", False), "overflow"),
        function=function,
        layer_zips=paths_of("layer-zips"),
        handler=str(get("handler")) if get("handler") else None,
        with_project=_as_bool(get("with-project", False), "with-project"),
        strict=_as_bool(get("strict", False), "strict"),
        allow_empty=_as_bool(get("allow-empty", False), "allow-empty"),
        symlinks=_as_bool(get("symlinks", True), "symlinks"),
        runtime_sdk=runtime_sdk(target.runtime.name,
                                str(get("runtime-sdk")) if get("runtime-sdk") else None),
        event=path_of("event", None),
        selection=Selection(tuple(_as_list(get("groups"), "groups")),
                            tuple(_as_list(get("extras"), "extras")),
                            _as_bool(get("no-default-groups", False), "no-default-groups")),
        create_output_dir="output" in merged and merged["output"][1] == base
        and not cli.output,
    )



def layer_names(cwd: Path) -> list[str]:
    return sorted(load_pyproject(cwd / "pyproject.toml").get("layers", {}))
