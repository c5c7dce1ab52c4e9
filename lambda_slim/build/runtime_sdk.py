"""The stand-in /var/runtime a build verifies against: the runtime's SDK at its floor (or
``--runtime-sdk``) and awslambdaric, so a layer is imported with the SDK Lambda may really give
(``lambda_slim.resolve.var_runtime`` makes it; ``lambda_slim.target.sdk`` holds the floors
and their sources)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..errors import LambdaSlimError
from ..inputs.config import BuildConfig
from ..resolve.var_runtime import var_runtime
from .plan import Planned
from .tools import Tools


def sdk_stand_in(config: BuildConfig, planned: Planned, tools: Tools, env: Mapping[str, str],
                 notes: list[str]) -> Path | None:
    """The stand-in /var/runtime with the runtime's SDK at its floor (or ``--runtime-sdk``)
    when the ``runtime-provided`` rule removed the layer's copy: verification then imports the
    SDK Lambda may really give, not the removed newer one. None when nothing was removed."""
    removed = any(e.rule == "runtime-provided" and planned.staging.is_applied(e)
                  for e in planned.plan)
    return var_runtime_or_note(config, tools, env, notes) if removed else None


def var_runtime_or_note(config: BuildConfig, tools: Tools, env: Mapping[str, str],
                 notes: list[str]) -> Path | None:
    """The stand-in /var/runtime (awslambdaric and the runtime's SDK); None, with a note,
    when its wheels cannot be had (offline): the removed SDK copy then stands in for the
    runtime's, and the handler is checked by importing it."""
    if config.runtime_sdk is None:
        return None
    try:
        return var_runtime(config.target, config.runtime_sdk, tools.pip_python,
                           config.cache_dir, tools.runner, env)
    except LambdaSlimError as exc:
        notes.append(f"Could not make the stand-in /var/runtime (awslambdaric and "
                     f"{config.runtime_sdk.describe()}): {exc.message}. The removed SDK copy "
                     "stands in for the runtime's, and the handler is checked by importing it.")
        return None
