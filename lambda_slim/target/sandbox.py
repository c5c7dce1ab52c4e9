"""A Lambda-like sandbox for running layer code, on Linux namespaces with bubblewrap.

Why bubblewrap (``bwrap``): it builds a new mount, PID, IPC and UTS namespace and a user
namespace with a chosen non-root uid in one exec, as root (CI) and as an ordinary user
wherever unprivileged user namespaces are allowed (Ubuntu ships it an AppArmor profile for
that), with no daemon and no image. ``unshare`` plus a pivot_root script needs root or a
second user namespace to drop to a non-root uid; the raw kernel API would duplicate bwrap.

Inside, the child sees (everything else on the host is hidden):

- ``/usr/lib64`` (and ``/lib64``): only the runtime's system libraries this machine has, plus
  the stand-in interpreter's own closure, with an ``ld.so.cache`` made for exactly those, so
  ``ctypes.util.find_library`` and ``dlopen`` succeed or fail as they would on Lambda; the
  part of the interpreter's closure the runtime's system lacks but its Python brings
  (OpenSSL on Amazon Linux 2) at ``/var/lang/lib``, first on Lambda's ``LD_LIBRARY_PATH``;
- the interpreter and its standard library at their host paths (installed packages hidden),
  and anything else it needs from this machine (QEMU, a sysroot, stand-ins) at its host
  path, under /tmp too;
- the layer read-only at ``/opt/python`` (its sibling ``lib/`` at ``/opt/lib``), the first
  extra path read-only at ``/var/task`` (the working directory), further ones read-only at
  their host paths; ``/tmp`` (``Limits.tmp_mb``, 512 MB by default) is the only writable place;
- the environment Lambda sets for Python functions (:func:`lambda_env_vars`), no ``HOME``;
- the function's user in /etc/passwd, no /dev/shm, Lambda's open-file and process/thread
  quotas, set inside before the interpreter starts (:mod:`.lambda_process`; the kernel does
  not enforce the process one on root's processes).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import ToolMissingError
from .hostlibs import find_ldconfig, host_libraries, interpreter_files, ldd_closure
from .lambda_process import (
    MIB,
    SANDBOX_GID,
    SANDBOX_UID,
    dev_args,
    identity_files,
    pids_prefix,
    quota_prefix,
    rlimit_prefix,
    sizes_tmpfs,
)
from .python import Launch
from .syslibs import KNOWN_ABSENT, KNOWN_ABSENT_BY_FAMILY, SystemLibraries

#: Lambda's default memory setting for a function (MB), for AWS_LAMBDA_FUNCTION_MEMORY_SIZE.
DEFAULT_MEMORY_MB = 128
LIB_DIR = "/usr/lib64"
#: The runtime's own libraries (Lambda's LD_LIBRARY_PATH starts with it): where the stand-in
#: interpreter's own closure goes when the runtime's system lacks it (OpenSSL 3 on Amazon
#: Linux 2, whose Python brings its own OpenSSL: urllib3/urllib3#2168).
LANG_LIB = "/var/lang/lib"
LAYER_DIR = "/opt/python"
OPT_LIB = "/opt/lib"
TASK_DIR = "/var/task"
RUNTIME_DIR = "/var/runtime"
#: Lambda's /tmp when the function sets no ``EphemeralStorage`` (MB), and the range AWS
#: allows (AWS "Lambda quotas", docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html:
#: "/tmp directory storage: 512 MB", configurable "between 512 MB and 10,240 MB").
DEFAULT_EPHEMERAL_MB = 512
#: This machine's shell, shown at the same path inside (it sets the quotas there).
SHELL = "/bin/sh"
EPHEMERAL_RANGE = (512, 10_240)


@dataclass(frozen=True)
class Limits:
    """The function settings a sandboxed run honours, the same for every caller."""

    #: the function's memory setting (AWS_LAMBDA_FUNCTION_MEMORY_SIZE)
    memory_mb: int = DEFAULT_MEMORY_MB
    #: the size of /tmp (``--ephemeral-storage``)
    tmp_mb: int = DEFAULT_EPHEMERAL_MB
    #: AWS "Lambda quotas": "File descriptors: 1,024" and "Execution processes/threads: 1,024"
    nofile: int = 1024
    nproc: int = 1024


#: A function with Lambda's defaults.
DEFAULT_LIMITS = Limits()


#: Environment variables passed through from the caller (they steer the probe, not the host).
_PASS_THROUGH = ("PYTHONDONTWRITEBYTECODE", "PYTHONHASHSEED", "PYTHONUTF8", "PYTHONWARNINGS",
                 "PYTHONFAULTHANDLER", "PYTHONIOENCODING", "SOURCE_DATE_EPOCH")
_MACHINES = {"x86_64": "x86_64", "arm64": "aarch64"}


def lambda_env_vars(runtime: str, memory_mb: int = DEFAULT_MEMORY_MB,
                       function_name: str = "lambda-slim-verify") -> dict[str, str]:
    """The variables Lambda sets for a Python function (no credentials, no HOME).

    Sources: the runtime images' Dockerfiles (aws/aws-lambda-base-images, branch python3.12:
    LANG, TZ, PATH, LD_LIBRARY_PATH, LAMBDA_TASK_ROOT, LAMBDA_RUNTIME_DIR) and AWS's "Using
    Lambda environment variables" page (docs.aws.amazon.com/lambda/latest/dg/
    configuration-envvars.html: the reserved _HANDLER, AWS_REGION, AWS_DEFAULT_REGION,
    AWS_EXECUTION_ENV, AWS_LAMBDA_FUNCTION_*, AWS_LAMBDA_INITIALIZATION_TYPE,
    AWS_LAMBDA_LOG_*). Credentials are left out on purpose: the build has none to give.
    """
    return {
        "LANG": "en_US.UTF-8",
        "TZ": ":/etc/localtime",
        "PATH": "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin",
        "LD_LIBRARY_PATH": ("/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:"
                            "/var/task:/var/task/lib:/opt/lib"),
        "LAMBDA_TASK_ROOT": TASK_DIR,
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "_HANDLER": "lambda_function.lambda_handler",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]00000000000000000000000000000000",
    }


def find_bwrap(env: Mapping[str, str]) -> str | None:
    """``$LAMBDA_SLIM_BWRAP`` (empty: no sandbox), else ``bwrap`` on PATH."""
    if "LAMBDA_SLIM_BWRAP" in env:
        return env["LAMBDA_SLIM_BWRAP"] or None
    return shutil.which("bwrap", path=env.get("PATH") or os.defpath)


def sandbox_unavailable(env: Mapping[str, str]) -> str | None:
    """None when the sandbox can run here; otherwise one line saying why not."""
    if not Path("/proc/self/ns/user").exists():
        return "this system has no Linux user namespaces (not Linux, or a kernel without them)"
    bwrap = find_bwrap(env)
    if bwrap is None:
        if env.get("LAMBDA_SLIM_BWRAP") == "":
            return "it is turned off (LAMBDA_SLIM_BWRAP is empty)"
        return "bubblewrap (bwrap) is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    try:
        probe = subprocess.run(
            [bwrap, "--unshare-user", "--uid", str(SANDBOX_UID), "--unshare-pid",
             "--die-with-parent", "--ro-bind", "/", "/", "--proc", "/proc", "true"],
            capture_output=True, text=True, timeout=30, check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{bwrap} does not run ({exc})"
    if probe.returncode != 0:
        why = (probe.stderr.strip().splitlines() or [f"exit {probe.returncode}"])[-1]
        return f"the kernel refused a user namespace ({why})"
    return None


def _build_ld_cache(bwrap: str, libs: Mapping[str, Path], ldconfig: Path, out_dir: Path) -> Path:
    """Run ldconfig inside a sandbox holding exactly ``libs``; return the cache it wrote."""
    out_dir.mkdir(parents=True, exist_ok=True)
    argv = [bwrap, "--unshare-user", "--uid", "0", "--gid", "0", "--unshare-pid",
            "--die-with-parent", "--tmpfs", "/", "--dir", LIB_DIR, "--symlink", "usr/lib64",
            "/lib64"]
    for so, path in sorted(libs.items()):
        argv += ["--ro-bind", str(path), f"{LIB_DIR}/{so}"]
    argv += ["--ro-bind", str(ldconfig), "/sbin/ldconfig", "--bind", str(out_dir), "/etc",
             "/sbin/ldconfig", "-X", LIB_DIR]
    subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    return out_dir / "ld.so.cache"


@dataclass(frozen=True)
class Sandbox:
    """The Lambda-like isolation (an :class:`Isolation`), bound to one stand-in interpreter."""

    bwrap: str
    executable: Path
    dirs: tuple[Path, ...]
    hidden: tuple[Path, ...]
    libs: Mapping[str, Path]
    ldconfig: Path | None
    ld_cache: Path | None
    lambda_env: Mapping[str, str]
    #: the stand-in's own libraries the runtime's system lacks (soname -> file), at LANG_LIB
    own_libs: Mapping[str, Path] = field(default_factory=dict)
    #: folder with the passwd and group files naming the function's user
    etc: Path | None = None
    #: argv prefix on bwrap that sets the open-file limit (prlimit) for a sandbox without
    #: ``shell``; empty when prlimit is not installed
    rlimits: tuple[str, ...] = ()
    #: argv prefix on bwrap, run on this machine, that enforces the process/thread quota
    #: as root through a pids cgroup (:func:`~.lambda_process.pids_prefix`); empty otherwise
    pids: tuple[str, ...] = ()
    #: a POSIX shell runnable inside (this machine's /bin/sh, bound there): it sets the
    #: quotas before the interpreter starts (:func:`~.lambda_process.quota_prefix`); None
    #: for the emulated sandbox, whose /usr/lib64 holds the target's libraries
    shell: str | None = None
    #: /tmp's size in bytes; None when this bubblewrap cannot size a tmpfs (older than 0.8)
    tmp_bytes: int | None = None
    layer: Path | None = None
    paths: tuple[Path, ...] = ()
    extra_ro: tuple[Path, ...] = field(default=())
    limits: Limits = DEFAULT_LIMITS
    name: str = "sandbox"
    #: the stand-in ``/var/runtime`` (awslambdaric, the SDK, bootstrap.py), mounted read-only
    runtime_dir: Path | None = None

    def bound(self, layer: Path | None, paths: Sequence[Path] = ()) -> Sandbox:
        """A copy that maps ``layer`` and ``paths`` in :meth:`inside` by default."""
        return replace(self, layer=layer, paths=tuple(paths))

    def _mounts(self, layer: Path | None, paths: Sequence[Path]) -> list[tuple[Path, str]]:
        out: list[tuple[Path, str]] = []
        if layer is not None:
            out.append((layer, LAYER_DIR))
            if (layer.parent / "lib").is_dir():
                out.append((layer.parent / "lib", OPT_LIB))
        for i, p in enumerate(paths):
            out.append((p, TASK_DIR if i == 0 else str(p)))
        return out

    def inside(self, host_path: Path) -> str:
        """How the child sees ``host_path`` (for paths under the bound layer and paths)."""
        hp = Path(os.path.abspath(host_path))
        for src, dst in self._mounts(self.layer, self.paths):
            src = Path(os.path.abspath(src))
            if hp == src or src in hp.parents:
                return str(Path(dst) / hp.relative_to(src))
        return str(hp)

    def wrap(self, argv: Sequence[str], *, env: Mapping[str, str], layer: Path | None,
             paths: Sequence[Path], cwd: Path | None) -> Launch:
        """The bwrap command running ``argv`` (whose argv[0] is the stand-in interpreter)."""
        layer = layer if layer is not None else self.layer
        paths = list(paths) if paths else list(self.paths)
        view = self.bound(layer, paths)
        a = [self.bwrap, "--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_GID),
             "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
             "--die-with-parent", "--new-session", "--tmpfs", "/",
             # /tmp first: host paths under /tmp are bound on top of it below
             *(["--size", str(self.tmp_bytes)] if self.tmp_bytes else []), "--tmpfs", "/tmp",
             "--dir", LIB_DIR, "--symlink", "usr/lib64", "/lib64", "--dir", "/etc",
             "--dir", "/opt", "--dir", TASK_DIR, "--dir", "/var/runtime", "--dir", LANG_LIB]
        for so, path in sorted(self.libs.items()):
            a += ["--ro-bind", str(path), f"{LIB_DIR}/{so}"]
        for so, path in sorted(self.own_libs.items()):
            a += ["--ro-bind", str(path), f"{LANG_LIB}/{so}"]
        if self.ldconfig is not None:
            a += ["--ro-bind", str(self.ldconfig), "/sbin/ldconfig"]
        if self.ld_cache is not None and self.ld_cache.exists():
            a += ["--ro-bind", str(self.ld_cache), "/etc/ld.so.cache"]
        if self.etc is not None:
            a += ["--ro-bind", str(self.etc / "passwd"), "/etc/passwd",
                  "--ro-bind", str(self.etc / "group"), "/etc/group"]
        utc = Path("/usr/share/zoneinfo/UTC")
        if utc.exists():
            a += ["--ro-bind", str(utc), "/etc/localtime"]
        if Path(SHELL).exists():
            a += ["--ro-bind", os.path.realpath(SHELL), SHELL]
        a += ["--ro-bind", str(self.executable), str(self.executable)]
        for d in self.dirs:
            a += ["--ro-bind", str(d), str(d)]
        for d in self.hidden:
            a += ["--tmpfs", str(d), "--remount-ro", str(d)]
        for src, dst in view._mounts(layer, paths):  # a missing extra folder is just absent
            a += ["--ro-bind" if src == layer else "--ro-bind-try", str(src), dst]
        for p in self.extra_ro:
            a += ["--ro-bind", str(p), str(p)]
        if self.runtime_dir is not None:
            a += ["--ro-bind", str(self.runtime_dir), RUNTIME_DIR]
        a += ["--proc", "/proc", *dev_args(), "--remount-ro", "/", "--clearenv"]
        child_env = dict(self.lambda_env)
        child_env.update({k: v for k, v in env.items() if k in _PASS_THROUGH})
        for k, v in sorted(child_env.items()):
            a += ["--setenv", k, v]
        a += ["--chdir", view.inside(cwd) if cwd is not None else TASK_DIR]
        quotas = (quota_prefix(self.shell, self.limits.nofile, self.limits.nproc)
                  if self.shell is not None else ())
        a += ["--", *quotas, str(self.executable), *argv[1:]]
        return Launch([*self.pids, *self.rlimits, *a], {"LANG": "C.UTF-8", "PATH": os.defpath},
                      None)


def make_sandbox(python: Path, syslibs: SystemLibraries, env: Mapping[str, str],
                 *, limits: Limits = DEFAULT_LIMITS, cache_dir: Path | None = None) -> Sandbox:
    """Build the sandbox for ``python`` and the runtime described by ``syslibs``.

    Raises ToolMissingError when it cannot be built; call :func:`sandbox_unavailable` first
    to fall back with a one-line reason instead.
    """
    bwrap = find_bwrap(env)
    if bwrap is None:
        raise ToolMissingError("bubblewrap (bwrap) is not installed.",
                               hint="Debian/Ubuntu: apt-get install bubblewrap.")
    interp = interpreter_files(python, exclude=KNOWN_ABSENT)
    machine = _MACHINES[syslibs.arch]
    libs = dict(host_libraries(syslibs.sonames, machine))
    libs.update(ldd_closure(libs.values()))  # what the runtime's own libraries pull in
    own = own_libraries(interp.libs, syslibs)
    libs.update({so: p for so, p in interp.libs.items() if so not in own})
    ldconfig = find_ldconfig()
    if ldconfig is not None:
        libs.update(ldd_closure([ldconfig]))  # empty when it is static (it usually is)
    key = hashlib.sha256(repr(sorted((k, str(v)) for k, v in libs.items())).encode()).hexdigest()
    base = cache_dir if cache_dir is not None else Path(
        tempfile.mkdtemp(prefix="lambda-slim-sandbox-"))
    ld_cache: Path | None = None
    if ldconfig is not None:
        ld_cache = base / key[:16] / "ld.so.cache"
        if not ld_cache.exists():
            ld_cache = _build_ld_cache(bwrap, libs, ldconfig, base / key[:16])
    box = Sandbox(bwrap=bwrap, executable=interp.executable, dirs=interp.dirs,
                  hidden=interp.site_packages, libs=libs, ldconfig=ldconfig,
                  ld_cache=ld_cache, own_libs=own, lambda_env={},
                  shell=SHELL if Path(SHELL).exists() else None)
    return as_lambda_process(box, syslibs.runtime, limits, env, base)


def own_libraries(closure: Mapping[str, Path], syslibs: SystemLibraries) -> dict[str, Path]:
    """The part of the stand-in interpreter's own closure that the runtime's system lacks
    but the runtime's Python brings (OpenSSL on Amazon Linux 2): shown at LANG_LIB, so
    ``import ssl`` works on every runtime. The static closure audit still refuses a wheel
    that links them from the system."""
    lacking = KNOWN_ABSENT_BY_FAMILY.get(syslibs.family, {})
    return {so: p for so, p in closure.items() if so in lacking}


def as_lambda_process(box: Sandbox, runtime: str, limits: Limits, env: Mapping[str, str],
                      base: Path | None) -> Sandbox:
    """``box`` with the rest of the process Lambda starts (:mod:`.lambda_process`): the
    function's user in /etc/passwd, the quotas (set inside by its shell, else the open-file
    one by prlimit on bwrap), /tmp's size and the memory setting."""
    return replace(box, etc=identity_files(base), limits=limits,
                   rlimits=() if box.shell is not None else rlimit_prefix(env, limits.nofile),
                   pids=pids_prefix(SHELL, limits.nproc) if Path(SHELL).exists() else (),
                   tmp_bytes=limits.tmp_mb * MIB if sizes_tmpfs(box.bwrap) else None,
                   lambda_env=lambda_env_vars(runtime, limits.memory_mb))
