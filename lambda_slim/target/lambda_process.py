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

import contextlib
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


#: Where a root build counts the sandbox's tasks instead: the pids controller of cgroup v1
#: (its own hierarchy) or of cgroup v2 (the unified root, when it delegates ``pids``).
_CGROUP_V1, _CGROUP_V2 = Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup")
#: Runs the command in a cgroup of its own whose ``pids.max`` is the quota (the kernel's
#: pids controller limits every task, thread or process, of the group, root's included), then
#: leaves it and removes it. Whatever cannot be set up runs the command as it is, silently
#: (stderr is the verdict's input): the quota is then set but not enforced, as before.
_CGROUP_SCRIPT = ('d="{root}/lambda-slim-$$"; '
                  'if {{ mkdir "$d" && echo {max} > "$d/pids.max" && echo $$ > "$d/cgroup.procs"; }}'
                  ' 2>/dev/null; then "$@"; rc=$?; {{ echo $$ > "{root}/cgroup.procs"; rmdir "$d";'
                  ' }} 2>/dev/null; exit $rc; fi; rmdir "$d" 2>/dev/null; exec "$@"')


def pids_cgroup_root() -> Path | None:
    """The pids controller's root when this process may make groups in it (as root), else
    None."""
    if os.geteuid() != 0:
        return None
    root: Path | None = None
    if (_CGROUP_V1 / "cgroup.procs").exists():
        root = _CGROUP_V1
    else:
        try:
            delegated = (_CGROUP_V2 / "cgroup.subtree_control").read_text().split()
        except OSError:
            return None
        root = _CGROUP_V2 if "pids" in delegated else None
    # a container's /sys/fs/cgroup is often mounted read-only: no group can be made there
    return root if root is not None and os.access(root, os.W_OK) else None


def pids_prefix(shell: str, nproc: int) -> tuple[str, ...]:
    """The argv prefix, run on this machine around bwrap, that enforces the process/thread
    quota when the build runs as root, where RLIMIT_NPROC is not (:func:`quota_prefix`): a
    pids cgroup per run, made and removed by ``shell``. Empty when not root or when there is
    no pids controller to use. ``nproc`` is what the sandbox's own tasks may use; the shell
    and bwrap's outer process count too (tried: 1,023 threads start besides the main one,
    the 1,024th fails with Lambda's "can't start new thread")."""
    root = pids_cgroup_root()
    if root is None:
        return ()
    _sweep(root)
    return (shell, "-c", _CGROUP_SCRIPT.format(root=root, max=nproc + 2), "sh")


def _sweep(root: Path) -> None:
    """Remove the groups of runs that were killed before they could (empty groups only: the
    kernel refuses to remove one with tasks in it)."""
    for d in root.glob("lambda-slim-*"):
        pid = d.name.rsplit("-", 1)[1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            with contextlib.suppress(OSError):
                d.rmdir()


def nproc_enforced() -> bool:
    """Whether the sandbox's process/thread quota is enforced here: always for an ordinary
    user (:func:`quota_prefix`), as root only through a pids cgroup (:func:`pids_prefix`)."""
    return os.geteuid() != 0 or pids_cgroup_root() is not None
