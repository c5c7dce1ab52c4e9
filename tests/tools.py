"""Command-line tools the tests drive but lambda-slim never uses, installed from PyPI into their
own virtual environment once (their pins must not fight the test environment's: aws-sam-cli
pins click==8.1.8, for one)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
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


#: Drops root for a test that needs a file to be unreadable (root reads anything).
NOBODY = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")


def as_an_ordinary_user(argv: list[str], *, env: Mapping[str, str], cwd: Path) -> list[str]:
    """``argv`` run as `nobody` when this is root, as a CI user would run it; else as is.
    Skips the test, saying why, when `nobody` cannot run this checkout's lambda-slim at all
    (a checkout inside a folder only its owner may enter, as ``mktemp -d`` makes): what the
    test asserts about unreadable files could not be told apart from that."""
    if os.geteuid() != 0:
        return argv
    if shutil.which("setpriv") is None:
        pytest.skip("needs setpriv (util-linux) to drop root")
    probe = subprocess.run([*NOBODY, sys.executable, "-c", "import lambda_slim"], env=dict(env),
                           cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        pytest.skip(f"`nobody` cannot run this checkout's lambda-slim ({last}): is the checkout "
                    "inside a folder only its owner may enter, as `mktemp -d` makes?")
    return [*NOBODY, *argv]
