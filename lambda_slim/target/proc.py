"""The subprocess runner the core uses; tests can pass a fake one."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
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


#: The children :func:`run` is waiting for, on any thread (see :func:`children_stopped`).
_live: set[subprocess.Popen[str]] = set()
_live_lock = threading.Lock()
_stopped = threading.Event()


class ChildrenStopped(Exception):
    """:func:`run` was asked to start a child while the build is being abandoned."""


def run(
    cmd: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` capturing output (replayed by callers on failure)."""
    argv = list(cmd)
    if _stopped.is_set():
        raise ChildrenStopped(f"not started (the build is being abandoned): {argv[0]}")
    with subprocess.Popen(argv, cwd=cwd, env=dict(env) if env is not None else None,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        with _live_lock:
            _live.add(proc)
            stopped = _stopped.is_set()
        try:
            if stopped:  # stopped between the check above and the start
                proc.kill()
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            return subprocess.CompletedProcess(
                argv, TIMED_OUT, out or "", (err or "") + f"\n[timed out after {timeout:.0f}s]")
        except BaseException:  # Ctrl-C, SIGTERM: the child must not outlive the build
            proc.kill()
            raise
        finally:
            with _live_lock:
                _live.discard(proc)
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


@contextmanager
def children_stopped() -> Iterator[None]:
    """While the body runs, every child :func:`run` waits for on any thread is killed and no
    new one starts: the build is being abandoned (Ctrl-C, SIGTERM, a failed stage), and work
    still running beside it (the init-time measurement, a smoke script that sleeps) must end
    now rather than be waited for; its result is never read. A SIGINT sent to this process
    alone (``kill -INT``, unlike a terminal's Ctrl-C, which reaches the whole process group)
    would otherwise leave the build waiting for them."""
    with _live_lock:
        _stopped.set()
        live = list(_live)
    for proc in live:
        proc.kill()
    try:
        yield
    finally:
        _stopped.clear()


def tail(text: str, lines: int = 25) -> str:
    rows = [r for r in text.strip().splitlines() if "is ignored: it is neither" not in r]
    return "\n".join(rows[-lines:])
