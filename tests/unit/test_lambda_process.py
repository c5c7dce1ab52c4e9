"""The process Lambda starts, as data: the sandbox's passwd/group, /dev without shm, the
quota prefix, and the causes a smoke script's output is read as (no subprocess here; the
sandbox itself is proven in tests/integration/test_sandbox_lambda.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lambda_slim.target.lambda_process import (
    SANDBOX_HOME,
    dev_args,
    identity_files,
    quota_prefix,
    rlimit_prefix,
)
from lambda_slim.verify.causes import NO_SHM, TMP_FULL, TOO_MANY_TASKS, classify

POOL_TRACEBACK = """Traceback (most recent call last):
  File "/var/task/smoke.py", line 3, in <module>
    with multiprocessing.Pool(2) as pool:
  File "/usr/lib/python3.12/multiprocessing/context.py", line 119, in Pool
  File "/usr/lib/python3.12/multiprocessing/synchronize.py", line 57, in __init__
    sl = self._semlock = _multiprocessing.SemLock(
OSError: [Errno 38] Function not implemented"""


def test_passwd_and_group_name_the_function_user_with_a_missing_home(tmp_path: Path) -> None:
    folder = identity_files(tmp_path)
    passwd = (folder / "passwd").read_text().splitlines()
    assert f"sbx_user1051:x:993:990::{SANDBOX_HOME}:/sbin/nologin" in passwd
    assert "sbx_user1051:x:990:" in (folder / "group").read_text().splitlines()
    assert oct((folder / "passwd").stat().st_mode & 0o777) == oct(0o644)
    assert identity_files(tmp_path) == folder  # written once, reused


def test_dev_has_the_usual_nodes_but_no_shm() -> None:
    args = dev_args()
    assert args[:2] == ["--tmpfs", "/dev"]
    assert "/dev/null" in args and "/dev/urandom" in args
    assert not any("shm" in a or "mqueue" in a for a in args)


def test_quota_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    tool = tmp_path / "prlimit"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    prefix = rlimit_prefix({"PATH": str(tmp_path)}, 1024)
    assert prefix[0] == str(tool) and prefix[1] == "--nofile=1024:1024" and prefix[-1] == "--"
    # the process limit is never set on bwrap from outside (it would count the host's
    # processes of the user): it is set inside, by quota_prefix
    assert not any("nproc" in a for a in prefix)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert not any("nproc" in a for a in rlimit_prefix({"PATH": str(tmp_path)}, 1024))


def test_quotas_are_set_inside_by_the_shell_before_the_command() -> None:
    prefix = quota_prefix("/bin/sh", 1024, 1000)
    assert prefix[:2] == ("/bin/sh", "-c") and prefix[3] == "sh"
    script = prefix[2]
    assert "ulimit -n 1024" in script and "ulimit -u 1000" in script
    assert "ulimit -p 1000" in script  # dash's name for it
    assert script.endswith('exec "$@"')


THREAD_TRACEBACK = """Traceback (most recent call last):
  File "/var/task/threads.py", line 6, in <module>
    t.start()
  File "/usr/lib/python3.11/threading.py", line 957, in start
    _start_new_thread(self._bootstrap, ())
RuntimeError: can't start new thread"""
FORK_TRACEBACK = """Traceback (most recent call last):
  File "/var/task/procs.py", line 3, in <module>
    subprocess.run(["true"])
  File "/usr/lib/python3.12/subprocess.py", line 1955, in _execute_child
    self.pid = _fork_exec(
BlockingIOError: [Errno 11] Resource temporarily unavailable"""


@pytest.mark.parametrize("output", [THREAD_TRACEBACK, FORK_TRACEBACK])
def test_too_many_threads_or_processes_names_lambdas_limit(output: str) -> None:
    cause = classify(output)
    assert cause.kind == TOO_MANY_TASKS and not cause.excusable
    assert "1,024 processes/threads" in cause.describe()
    assert "Lambda quotas" in cause.describe()


def test_a_nonblocking_socket_would_block_is_an_ordinary_error() -> None:
    cause = classify("  File \"/var/task/x.py\", line 2, in <module>\n    sock.recv(1)\n"
                     "BlockingIOError: [Errno 11] Resource temporarily unavailable")
    assert cause.kind != TOO_MANY_TASKS


@pytest.mark.parametrize("errno", ["[Errno 38] Function not implemented",  # glibc <= 2.33
                                   "[Errno 2] No such file or directory",  # glibc >= 2.34
                                   "[Errno 30] Read-only file system",  # an ro tmpfs found
                                   "[Errno 13] Permission denied"])
def test_a_pool_without_dev_shm_names_the_cause_and_the_fix(errno: str) -> None:
    cause = classify(POOL_TRACEBACK.replace("[Errno 38] Function not implemented", errno))
    assert cause.kind == NO_SHM and not cause.excusable
    text = cause.describe()
    assert "/dev/shm" in text and "threads" in text and "Pipe" in text
    assert "[Errno 38]" in text and "[Errno 2]" in text  # what Lambda raises, per runtime


def test_a_full_tmp_names_the_limit_and_the_setting() -> None:
    cause = classify("Traceback (most recent call last):\n  File \"/var/task/fill.py\"\n"
                     "OSError: [Errno 28] No space left on device")
    assert cause.kind == TMP_FULL and not cause.excusable
    assert "512 MB" in cause.describe() and "--ephemeral-storage" in cause.describe()


def test_an_unrelated_file_not_found_is_an_ordinary_error() -> None:
    cause = classify("FileNotFoundError: [Errno 2] No such file or directory: 'x.json'")
    assert cause.kind not in (NO_SHM, TMP_FULL)
