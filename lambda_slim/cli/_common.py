"""Console objects and error rendering shared by the commands."""

from __future__ import annotations

import os
import sys

from rich.console import Console

from ..errors import LambdaSlimError


def _width(stream: object) -> int | None:
    """Logs and CI are not terminals: give tables room instead of rich's 80 columns."""
    isatty = getattr(stream, "isatty", None)
    if (isatty and isatty()) or os.environ.get("COLUMNS"):
        return None
    return 120


console = Console(highlight=False, width=_width(sys.stdout))
# Messages are never wrapped mid-path: long lines stay whole so they can be copied.
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def render_error(exc: LambdaSlimError) -> None:
    err_console.print(f"[bold red]error:[/] {exc.message}", markup=True, highlight=False)
    if exc.hint:
        err_console.print(f"[bold]hint:[/] {exc.hint}", highlight=False)
