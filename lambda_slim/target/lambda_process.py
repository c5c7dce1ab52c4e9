"""The parts of the process Lambda starts that the sandbox reproduces beyond mounts.

Each is checked against a public source (LAMBDA_FACTS "The process Lambda starts"):

- the user: ``sbx_user1051`` (uid 993, gid 990) has /etc/passwd and /etc/group entries whose
  home ``/home/sbx_user1051`` does not exist, and ``HOME`` is unset, so ``getpass.getuser()``
  and ``Path.home()`` work while a write there fails (matplotlib then logs that its config dir
  is not writable and uses a /tmp folder: matplotlib#18014; without the passwd entry it
  raises instead: matplotlib#25838);
- no ``/dev/shm``: POSIX semaphores cannot be created, so ``multiprocessing.Pool``, ``Queue``,
  ``Lock`` and ``ProcessPoolExecutor`` fail while ``Pipe`` and threads work (stackoverflow
  q/34005930). The error number comes from the C library: glibc up to 2.33 looks for a tmpfs
  at /dev/shm or in /proc/mounts and without one fails with ENOSYS (glibc's Linux
  ``shm-directory.c``, e.g. 2.28), so Amazon Linux 2 (glibc 2.26: python3.10/3.11) raises
  ``OSError: [Errno 38] Function not implemented``; glibc 2.34's ``posix/shm-directory.c``
  always opens ``/dev/shm/sem.*``, so Amazon Linux 2023 (python3.12+) raises
  ``FileNotFoundError: [Errno 2]`` (pola-rs/polars#27175, 2026-04-03: on AWS Lambda "the pool
  creation fails with `OSError: [Errno 38]` or `FileNotFoundError` depending on the
  runtime"). The sandbox runs the host's glibc, so it gives [Errno 2] on every runtime
  (with glibc >= 2.34); the verdict and the cause treat every such errno alike
  (:mod:`lambda_slim.verify.causes`). bubblewrap's ``--dev`` would create a writable
  /dev/shm, so /dev is assembled here without it;
- quotas (AWS "Lambda quotas", docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html):
  "File descriptors: 1,024", "Execution processes/threads: 1,024", "/tmp directory storage:
  512 MB" by default, configurable from 512 to 10,240 MB (``EphemeralStorage``). The
  open-file and process/thread quotas are set inside the sandbox, before the interpreter
  starts (:func:`quota_prefix`); the process/thread one is enforced for an ordinary user
  only, the kernel exempts root's processes.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

SANDBOX_UID = 993
SANDBOX_GID = 990
SANDBOX_USER = "sbx_user1051"
SANDBOX_HOME = "/home/sbx_user1051"

PASSWD = (f"root:x:0:0:root:/root:/bin/bash\n"
          f"{SANDBOX_USER}:x:{SANDBOX_UID}:{SANDBOX_GID}::{SANDBOX_HOME}:/sbin/nologin\n")
GROUP = f"root:x:0:\n{SANDBOX_USER}:x:{SANDBOX_GID}:\n"

#: Device nodes a process needs (bound from this machine; no /dev/shm, no /dev/mqueue).
DEV_NODES = ("null", "zero", "full", "random", "urandom", "tty")
MIB = 1024 * 1024


def dev_args() -> list[str]:
    """bubblewrap arguments for a /dev without ``shm``."""
    a = ["--tmpfs", "/dev"]
    for node in DEV_NODES:
        a += ["--dev-bind-try", f"/dev/{node}", f"/dev/{node}"]
    a += ["--symlink", "/proc/self/fd", "/dev/fd"]
    for fd, name in enumerate(("stdin", "stdout", "stderr")):
        a += ["--symlink", f"/proc/self/fd/{fd}", f"/dev/{name}"]
    return [*a, "--remount-ro", "/dev"]


def identity_files(base: Path | None) -> Path:
    """A folder holding the sandbox's ``passwd`` and ``group`` (written once, atomically,
    world-readable so an ordinary user's bwrap can bind them)."""
    key = hashlib.sha256((PASSWD + GROUP).encode()).hexdigest()[:12]
    root = base if base is not None else (
        Path(tempfile.gettempdir()) / f"lambda-slim-sandbox-{os.getuid()}")
    folder = root / f"etc-{key}"
    for name, text in (("passwd", PASSWD), ("group", GROUP)):
        path = folder / name
        if path.is_file() and path.read_text() == text:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}-")
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    return folder


@functools.lru_cache(maxsize=8)
def sizes_tmpfs(bwrap: str) -> bool:
    """Whether this bubblewrap has ``--size`` (0.8 and later) to cap a tmpfs."""
    try:
        out = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=30,
                             check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return "--size" in out.stdout + out.stderr


def rlimit_prefix(env: Mapping[str, str], nofile: int) -> tuple[str, ...]:
    """``prlimit --nofile=N:N --``: the argv prefix that gives a sandbox without a shell of
    its own (the emulated one: its ``/usr/lib64`` holds the target's libraries) Lambda's
    open-file quota; empty when util-linux's prlimit is not installed. The process limit is
    never set here (see :func:`quota_prefix`)."""
    tool = shutil.which("prlimit", path=env.get("PATH") or os.defpath) or shutil.which(
        "prlimit", path="/usr/bin:/bin")
    if tool is None:
        return ()
    return (tool, f"--nofile={nofile}:{nofile}", "--")


#: Sets the quotas, then replaces itself with the command. dash (Debian's /bin/sh) names the
#: process limit ``ulimit -p``; bash, busybox and the other POSIX shells ``ulimit -u``. A
#: limit this machine holds lower than Lambda's (a hard limit cannot be raised without
#: privilege) stays as it is: stricter, never looser.
_QUOTA_SCRIPT = ('ulimit -n {nofile} 2>/dev/null; {{ ulimit -u {nproc} || ulimit -p {nproc}; }}'
                 ' 2>/dev/null; exec "$@"')


def quota_prefix(shell: str, nofile: int, nproc: int) -> tuple[str, ...]:
    """The argv prefix run *inside* the sandbox, before the interpreter: ``shell`` sets
    Lambda's open-file and process/thread quotas and execs the command (same pid, no extra
    process left).

    Why inside: RLIMIT_NPROC is counted per user, and since Linux 5.14 per user namespace and
    each of its parents, whose cap is the creator's limit. A limit set on bwrap from outside
    counts every process the user runs on this machine (tried with 30 host processes of uid
    65534 and a limit of 20: bwrap itself fails, "Creating new namespace failed: Resource
    temporarily unavailable"); set inside the new user namespace it counts only the sandbox's
    processes (tried: the 19th thread fails, the host's 30 processes do not count).

    As root it is set but not enforced: bubblewrap run by root maps the sandbox's uid 993 to
    host uid 0, and the kernel exempts those processes (``copy_process`` skips the check for
    INIT_USER and CAP_SYS_RESOURCE/CAP_SYS_ADMIN holders; tried: 1,100 threads start)."""
    return (shell, "-c", _QUOTA_SCRIPT.format(nofile=nofile, nproc=nproc), "sh")


def nproc_enforced() -> bool:
    """Whether the sandbox's process/thread quota is enforced here (not as root: see
    :func:`quota_prefix`)."""
    return os.geteuid() != 0
