"""The typed arguments object between the command line and :func:`build_config`."""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike
from typing import Any

from .settings import BY_NAME


class BuildArgs:
    """The build settings given on the command line, by their names in
    :data:`~lambda_slim.inputs.settings.SETTINGS`; None (or empty) means "not given", so
    pyproject.toml and the environment decide. Paths are as typed (relative to the cwd).
    ``rule_flags`` maps a rule name to True (``--RULE``) or False (``--no-RULE``)."""

    __slots__ = ("_values", "rule_flags")

    def __init__(self, *, rule_flags: Mapping[str, bool] | None = None, **values: Any) -> None:
        unknown = sorted(set(values) - set(BY_NAME))
        if unknown:
            raise TypeError(f"BuildArgs got settings nobody declared: {', '.join(unknown)} "
                            "(declare them in lambda_slim/inputs/settings.py)")
        self._values = {k: _plain(v) for k, v in values.items()}
        self.rule_flags: Mapping[str, bool] = dict(rule_flags or {})

    def __getattr__(self, name: str) -> Any:
        if name in BY_NAME:
            return self._values.get(name)
        raise AttributeError(name)

    def __repr__(self) -> str:
        return f"BuildArgs({self._values!r}, rule_flags={self.rule_flags!r})"

    def given(self) -> dict[str, Any]:
        """The given settings under their pyproject names (``zip-level``, ...)."""
        out: dict[str, Any] = {}
        for name, value in self._values.items():
            if value is not None and value != ():
                out[name.replace("_", "-")] = list(value) if isinstance(value, tuple) else value
        return out


def _plain(value: Any) -> Any:
    """Paths as typed strings, several values as a tuple (click hands over Paths and tuples)."""
    if isinstance(value, PathLike):
        return str(value)
    if isinstance(value, (list, tuple)):
        return tuple(str(v) if isinstance(v, PathLike) else v for v in value)
    return value
