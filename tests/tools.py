"""Command-line tools the tests drive but lambda-slim never uses, installed from PyPI into their
own virtual environment once (their pins must not fight the test environment's: aws-sam-cli
pins click==8.1.8, for one)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from filelock import FileLock


def tool_bin(name: str, spec: str) -> Path:
    """The ``bin`` folder of a cached venv holding ``spec`` (e.g. ``aws-sam-cli==1.170.0``)."""
    root = Path(os.environ.get("LAMBDA_SLIM_TEST_TOOLS",
                               Path.home() / ".cache" / "lambda-slim-test-tools")) / name
    marker = root / ".installed"
    if marker.is_file() and marker.read_text() == spec:
        return root / "bin"
    root.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root) + ".lock"):  # one install, whatever the number of workers
        if not (marker.is_file() and marker.read_text() == spec):
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(root)], check=True)
            subprocess.run([str(root / "bin" / "python"), "-m", "pip", "install", "-q", spec],
                           check=True, timeout=1800)
            marker.write_text(spec)
    return root / "bin"


#: Starts lambda-slim with Ctrl-C's default meaning, as from a terminal: a test run started in
#: the background of a shell without job control inherits SIGINT ignored (POSIX), and a
#: Python started with SIGINT ignored keeps ignoring it, so a test that sends SIGINT would
#: test the shell, not lambda-slim. exec keeps the restored disposition (unlike a
#: preexec_fn, safe in a process with threads).
_AS_FROM_A_TERMINAL = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                       "os.execv(sys.executable, [sys.executable, '-m', 'lambda_slim', "
                       "*sys.argv[1:]])")


def cli_as_from_a_terminal(*args: str) -> list[str]:
    """The argv that runs ``lambda-slim ARGS`` with SIGINT at its default (see above)."""
    return [sys.executable, "-c", _AS_FROM_A_TERMINAL, *args]
