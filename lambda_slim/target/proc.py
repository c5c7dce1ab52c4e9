"""The subprocess runner the core uses; tests can pass a fake one."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

#: The return code :func:`run` reports for a command that ran past its timeout.
TIMED_OUT = 124


class Runner(Protocol):
    def __call__(
        self,
        cmd: Sequence[str],
        *,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> subprocess.CompletedProcess[str]: ...


def run(
    cmd: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` capturing output (replayed by callers on failure)."""
    try:
        return subprocess.run(
            list(cmd), cwd=cwd, env=dict(env) if env is not None else None,
            capture_output=True, text=True, timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        return subprocess.CompletedProcess(
            list(cmd), TIMED_OUT, out, err + f"\n[timed out after {timeout:.0f}s]"
        )


def tail(text: str, lines: int = 25) -> str:
    rows = [r for r in text.strip().splitlines() if "is ignored: it is neither" not in r]
    return "\n".join(rows[-lines:])
