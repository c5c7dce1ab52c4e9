"""The typed arguments object between the command line and :func:`build_config`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class BuildArgs:
    """The layer settings given on the command line; None (or empty) means "not given", so
    pyproject.toml and the environment decide. Paths are as typed (relative to the cwd)."""

    requirements: str | None = None
    runtime: str | None = None
    arch: str | None = None
    output: str | None = None
    budget: str | None = None
    json: str | None = None
    keep: tuple[str, ...] = ()
    #: rule name -> True (--RULE) / False (--no-RULE); absent: not given
    rule_flags: Mapping[str, bool] = field(default_factory=dict)
    compile: str | None = None
    smoke: tuple[str, ...] = ()
    trace: tuple[str, ...] = ()
    trace_granularity: str | None = None
    repair: bool | None = None
    require_verify: bool | None = None
    python: str | None = None
    jobs: int | None = None
    zip_level: int | None = None
    refresh: bool | None = None
    installer: str | None = None
    cache_dir: str | None = None
    result_cache: bool | None = None
    smoke_timeout: float | None = None
    memory: int | None = None
    ephemeral_storage: int | None = None
    system_libs: tuple[str, ...] = ()
    sandbox: bool | None = None
    variants: bool | None = None
    variant: tuple[str, ...] = ()
    overflow: bool | None = None
    groups: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    no_default_groups: bool | None = None
    function: str | None = None
    layer_zips: tuple[str, ...] = ()
    handler: str | None = None
    with_project: bool | None = None
    strict: bool | None = None
    allow_empty: bool | None = None
    symlinks: bool | None = None
    runtime_sdk: str | None = None
    event: str | None = None

    def given(self) -> dict[str, Any]:
        """The given settings under their pyproject names (``zip-level``, ...)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name != "rule_flags" and value is not None and value != ():
                out[f.name.replace("_", "-")] = list(value) if isinstance(value, tuple) else value
        return out
