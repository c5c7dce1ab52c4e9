"""Click options shared by several commands, declared once; choices and defaults come from
the core's constants so the CLI can never disagree with the library."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

import click

from ..inputs.config import GRANULARITIES
from ..target.runtimes import ARCHES, DEFAULT_ARCH, DEFAULT_RUNTIME, RUNTIMES

F = TypeVar("F", bound=Callable[..., Any])


class Decorator(Protocol):
    def __call__(self, f: F, /) -> F: ...


def requirements_argument(f: F) -> F:
    return click.argument("requirements", metavar="[PATH]", required=False,
                          type=click.Path(path_type=Path))(f)


def runtime_option(help: str = f"Lambda runtime [default: {DEFAULT_RUNTIME}].") -> Decorator:
    return click.option("--runtime", type=click.Choice(list(RUNTIMES)), default=None, help=help)


def arch_option(help: str = f"Lambda architecture [default: {DEFAULT_ARCH}].") -> Decorator:
    return click.option("--arch", type=click.Choice(list(ARCHES)), default=None, help=help)


def trace_granularity_option(help: str) -> Decorator:
    return click.option("--trace-granularity", type=click.Choice(list(GRANULARITIES)),
                        default=None, help=help)


def keep_option(help: str) -> Decorator:
    return click.option("--keep", multiple=True, metavar="GLOB", help=help)


def json_option(help: str, dest: str = "json_path", dir_okay: bool = True) -> Decorator:
    return click.option("--json", dest, type=click.Path(path_type=Path, dir_okay=dir_okay),
                        default=None, metavar="FILE", help=help)


def layer_option(help: str) -> Decorator:
    return click.option("--layer", default=None, metavar="NAME", help=help)


def quiet_option(f: F) -> F:
    return click.option("-q", "--quiet", is_flag=True, help="No progress bars.")(f)


def system_lib_option(help: str) -> Decorator:
    return click.option("--system-lib", "system_libs", multiple=True, metavar="SONAME", help=help)
