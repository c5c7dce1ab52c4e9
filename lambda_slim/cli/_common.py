"""Console objects and error rendering shared by the commands."""

from __future__ import annotations

from rich.console import Console

from ..errors import LambdaSlimError

console = Console(highlight=False, soft_wrap=False)
err_console = Console(stderr=True, highlight=False)


def render_error(exc: LambdaSlimError) -> None:
    err_console.print(f"[bold red]error:[/] {exc.message}", markup=True, highlight=False)
    if exc.hint:
        err_console.print(f"[bold]hint:[/] {exc.hint}", highlight=False)
