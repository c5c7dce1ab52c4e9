"""Click options made from the declarations in :mod:`lambda_slim.inputs.settings`, so a flag's
spelling, type, limits, default and help are written once and the CLI can never disagree with
the config reader."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

import click

from ..inputs.settings import SETTINGS, Setting, setting

F = TypeVar("F", bound=Callable[..., Any])


class Decorator(Protocol):
    def __call__(self, f: F, /) -> F: ...


def _click_type(s: Setting, dir_okay: bool) -> Any:
    if s.kind in ("path", "paths"):
        return click.Path(path_type=Path, dir_okay=dir_okay)
    if s.kind == "choice":
        return click.Choice(list(s.choices))
    if s.kind == "int":
        lo, hi = s.limits or (None, None)
        return click.IntRange(lo, hi) if s.limits else int
    if s.kind == "float":
        return float
    return None


def setting_option(name: str, help: str | None = None, *, dest: str | None = None,
                   dir_okay: bool = True) -> Decorator:
    """The click option of setting ``name`` (its flags, type, limits and help; ``help`` and
    ``dest`` override them for a command that uses it differently)."""
    s = setting(name)
    kwargs: dict[str, Any] = {"default": None, "help": s.help if help is None else help}
    if s.metavar:
        kwargs["metavar"] = s.metavar
    if s.kind == "flag":
        kwargs.update(is_flag=True, flag_value=s.flag_value)
    elif s.kind != "switch":
        kwargs["type"] = _click_type(s, dir_okay)
        if s.multiple:
            kwargs.update(multiple=True, default=())
        elif s.flag_value is not True:  # --compile alone means --compile=all
            kwargs.update(is_flag=False, flag_value=s.flag_value)
    return click.option(*s.flags, dest or s.name, **kwargs)


def build_setting_options(f: F) -> F:
    """Every build setting that has a flag, in the order they are declared."""
    for s in reversed(SETTINGS):
        if s.flags:
            f = setting_option(s.name)(f)
    return f


def requirements_argument(f: F) -> F:
    return click.argument("requirements", metavar="[PATH]", required=False,
                          type=click.Path(path_type=Path))(f)


def runtime_option(help: str | None = None) -> Decorator:
    return setting_option("runtime", help)


def arch_option(help: str | None = None) -> Decorator:
    return setting_option("arch", help)


def trace_granularity_option(help: str | None = None) -> Decorator:
    return setting_option("trace_granularity", help)


def keep_option(help: str | None = None) -> Decorator:
    return setting_option("keep", help)


def json_option(help: str, dest: str = "json_path", dir_okay: bool = True) -> Decorator:
    return setting_option("json", help, dest=dest, dir_okay=dir_okay)


def layer_option(help: str) -> Decorator:
    return click.option("--layer", default=None, metavar="NAME", help=help)


def quiet_option(f: F) -> F:
    return click.option("-q", "--quiet", is_flag=True, help="No progress bars.")(f)


def system_lib_option(help: str | None = None) -> Decorator:
    return setting_option("system_libs", help)
