"""The command line: a thin click layer over the core.

This package is the only place that prints (with rich), maps :class:`LambdaSlimError` to
exit codes, and calls ``sys.exit``. Each command lives in its own module and registers on
:data:`main_group`.
"""

from __future__ import annotations

import errno
import os
import signal
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType

import click

from .. import __version__
from ..errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    EXIT_USAGE,
    InputError,
    LambdaSlimError,
    Terminated,
)
from .exits import exit_code_help
from .render import console, err_console, render_error, render_internal


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=exit_code_help(),
)
@click.version_option(__version__, prog_name="lambda-slim")
def main_group() -> None:
    """Build the smallest AWS Lambda layer that still works, prove it, gate it, publish it.

    \b
    Typical use:
      lambda-slim build requirements.txt --runtime python3.12 --arch x86_64 -o layer.zip
      lambda-slim check layer.zip --budget 250MiB
      lambda-slim publish layer.zip --name my-deps --region eu-west-1
    """


def _register() -> None:
    import importlib

    for mod in ("build", "check", "publish", "invoke", "trace", "report", "diff", "why"):
        try:
            importlib.import_module(f"{__name__}.{mod}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{mod}":
                raise



def _debug(argv: Sequence[str]) -> bool:
    return bool(os.environ.get("LAMBDA_SLIM_DEBUG", "").strip() not in ("", "0")
                or "-v" in argv or "--verbose" in argv)


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated()


@contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """SIGTERM unwinds the stack like Ctrl-C (finally blocks remove temp files and staging)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return the exit code (callable from tests)."""
    args = list(argv) if argv is not None else sys.argv[1:]
    try:
        with _sigterm_unwinds():
            # Commands return their exit code; standalone_mode=False hands it back here.
            code = main_group.main(args=args, standalone_mode=False)
    except LambdaSlimError as exc:
        render_error(exc)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show(file=sys.stderr)
        return exc.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):
        err_console.print("[red]Interrupted.[/] Previous outputs were left untouched.")
        return EXIT_INTERRUPTED
    except Terminated:
        err_console.print("[red]Terminated[/] (SIGTERM). Temporary files were removed; previous "
                          "outputs were left untouched.")
        return EXIT_TERMINATED
    except OSError as exc:
        if exc.errno != errno.ENAMETOOLONG:
            return _internal(exc, args)
        # a path the user gave that no filesystem can hold: bad input, wherever it surfaced
        render_error(InputError(f"{str(exc.filename)[:120]}...: the name is longer than the "
                                "filesystem allows.", hint="Use a shorter path."))
        return EXIT_USAGE
    except Exception as exc:  # a bug: never exit 1, which means "over budget"
        return _internal(exc, args)
    return code if isinstance(code, int) else 0


def _internal(exc: BaseException, args: list[str]) -> int:
    """A bug: never exit 1, which means "over budget"."""
    if _debug(args):
        err_console.print(traceback.format_exc(), markup=False, highlight=False)
    render_internal(exc)
    return EXIT_INTERNAL


def entrypoint() -> None:
    sys.exit(main())


_register()


__all__ = ["console", "entrypoint", "main", "main_group"]
