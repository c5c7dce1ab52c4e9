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
from ..sizes import DEFAULT_BUDGET
from ..suggest import did_you_mean
from ..target.runtimes import DEFAULT_ARCH, DEFAULT_RUNTIME, Target, parse_target
from ..target.sandbox import DEFAULT_EPHEMERAL_MB
from ..target.sdk import RuntimeSdk, runtime_sdk
from .args import BuildArgs
from .lock_model import Selection
from .locks import default_input
from .settings import (
    COMPILE_MODES,
    CONFIG_KEYS,
    DEFAULT_SMOKE_TIMEOUT,
    ENV_KEYS,
    GRANULARITIES,
    INSTALLERS,
    MEMORY_RANGE,
    SETTINGS,
    Setting,
    as_bool,
    as_int,
    as_list,
    as_seconds,
    as_size,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["COMPILE_MODES", "DEFAULT_SMOKE_TIMEOUT", "GRANULARITIES", "INSTALLERS", "MEMORY_RANGE",
           "BuildConfig", "build_config", "default_cache_dir", "layer_names", "load_pyproject",
           "manifest_path_for"]


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
LAYER_KEYS = set(CONFIG_KEYS)
TOP_KEYS = LAYER_KEYS | {"layers"}


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


def _read(s: Setting, raw: Any, origin: Path) -> Any:
    """A given value of ``s``, parsed for its kind and checked against its declaration;
    relative paths are relative to ``origin`` (the pyproject's folder, or the cwd)."""
    key = s.name.replace("_", "-")
    if s.convert is not None:
        raw = s.convert(raw)
    value: Any
    if s.kind == "path":
        if not isinstance(raw, (str, os.PathLike)):
            raise ConfigError(f"`{key}` must be a string (one path), not {raw!r}.",
                              hint=f'For example {key} = "build/layer.zip".')
        value = _under(origin, str(raw))
    elif s.kind == "paths":
        value = tuple(_under(origin, p) for p in as_list(raw, key))
    elif s.kind == "text":
        value = str(raw) if raw else None
    elif s.kind == "texts":
        value = tuple(as_list(raw, key))
    elif s.kind in ("flag", "switch"):
        value = as_bool(raw, key)
    elif s.kind == "int":
        value = as_int(raw, key)
        lo, hi = s.limits or (None, None)
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            unit = f" ({s.unit})" if s.unit else ""
            raise ConfigError(f"`{key}` must be {lo}-{hi}{unit}, not {value}.")
    elif s.kind == "float":
        value = as_seconds(raw, key)
    elif s.kind == "size":
        value = as_size(raw, key)
    else:  # choice
        if raw not in s.choices:
            raise ConfigError(f"`{key}` must be one of {', '.join(s.choices)}, not {raw!r}.")
        value = str(raw)
    return s.check(value, key) if s.check is not None else value


def _under(origin: Path, raw: str) -> Path:
    p = Path(raw).expanduser()
    return p if p.is_absolute() else origin / p


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

    # Every setting that fills a BuildConfig field of its own, read the one way its
    # declaration says; a setting not given keeps the field's default.
    values: dict[str, Any] = {}
    for s in SETTINGS:
        field_name = s.config_field
        if field_name is not None and s.name.replace("_", "-") in merged:
            raw, origin = merged[s.name.replace("_", "-")]
            values[field_name] = _read(s, raw, origin)
    # Settings folded into one field, and defaults that depend on other settings.
    target = parse_target(str(get("runtime", DEFAULT_RUNTIME)), str(get("arch", DEFAULT_ARCH)))
    function = values.get("function")
    default_out = f"{layer}-layer.zip" if layer else ("function.zip" if function else "layer.zip")
    values.setdefault("output", cwd / default_out)
    if values.get("requirements") is None:
        values["requirements"] = default_input(cwd)
    disabled = set(as_list(get("disable"), "disable"))
    validate_rules(disabled)
    for rule, on in cli.rule_flags.items():
        if on is True:
            disabled.discard(rule)
        elif on is False:
            disabled.add(rule)
    if "cache_dir" not in values:
        values["cache_dir"] = default_cache_dir(env)
    return BuildConfig(
        target=target,
        runtime_sdk=runtime_sdk(target.runtime.name,
                                str(get("runtime-sdk")) if get("runtime-sdk") else None),
        rules=frozenset(set(RULES) - disabled),
        epoch=source_date_epoch(env),
        layer=layer,
        selection=Selection(tuple(as_list(get("groups"), "groups")),
                            tuple(as_list(get("extras"), "extras")),
                            as_bool(get("no-default-groups", False), "no-default-groups")),
        create_output_dir="output" in merged and merged["output"][1] == base
        and not cli.given().get("output"),
        **values,
    )


def layer_names(cwd: Path) -> list[str]:
    return sorted(load_pyproject(cwd / "pyproject.toml").get("layers", {}))
