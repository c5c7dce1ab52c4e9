"""Console objects and error rendering shared by the commands."""

from __future__ import annotations

import os
import sys

from rich.console import Console
from rich.markup import escape

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
    """Messages hold user text (paths, requirement lines, ``[tool.lambda-slim]``): escaped, so
    rich shows it literally instead of reading it as markup."""
    err_console.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)
    if exc.hint:
        err_console.print(f"[bold]hint:[/] {escape(exc.hint)}", highlight=False)


def render_internal(exc: BaseException) -> None:
    """An unexpected exception is a bug in lambda-slim: say so, and how to report it."""
    err_console.print(
        f"[bold red]internal error:[/] {escape(type(exc).__name__)}: {escape(str(exc))}\n"
        "This is a bug in lambda-slim, not in your input: please report it with the command "
        "you ran. Rerun with LAMBDA_SLIM_DEBUG=1 (or -v) to see the traceback.",
        highlight=False)
