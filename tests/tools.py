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
