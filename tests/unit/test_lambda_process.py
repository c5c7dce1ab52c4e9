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
    rlimit_prefix,
)
from lambda_slim.verify.causes import NO_SHM, TMP_FULL, classify

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
    prefix = rlimit_prefix({"PATH": str(tmp_path)}, 1024, 1024)
    assert prefix[0] == str(tool) and prefix[1] == "--nofile=1024:1024" and prefix[-1] == "--"
    assert ("--nproc=1024:1024" in prefix) == (os.geteuid() == 0)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert "--nproc=1024:1024" not in rlimit_prefix({"PATH": str(tmp_path)}, 1024, 1024)


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
