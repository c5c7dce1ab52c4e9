"""An aarch64 CPython 3.11 for the emulation tests, assembled from Debian's arm64 packages.

``apt-get download`` fetches the interpreter and the libraries it and the wheels under test
link (glibc, libstdc++, zlib, OpenSSL, ...) for arm64 with a private apt configuration (its own
package lists and cache, ``APT::Architecture "arm64"``), so the machine's apt setup is never
changed and nothing is installed. ``dpkg -x`` unpacks them into one folder, the sysroot, and
``qemu-aarch64-static -L SYSROOT SYSROOT/usr/bin/python3.11`` runs it. The result is cached
under ``~/.cache/lambda-slim/test-aarch64-python/`` so reruns take no time; concurrent test
sessions share it (built in a temporary folder, renamed into place under a lock).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: Debian bookworm's python3.11 and every library its stdlib modules and common manylinux
#: wheels (numpy, pandas) link from the system. Recommends (perl, mailcap, ...) are left out.
PACKAGES: tuple[str, ...] = (
    "python3.11-minimal", "libpython3.11-minimal", "libpython3.11-stdlib",
    "libc6", "libgcc-s1", "libstdc++6", "zlib1g", "libexpat1", "libssl3", "libffi8",
    "libbz2-1.0", "liblzma5", "libsqlite3-0", "libncursesw6", "libtinfo6", "libreadline8",
    "libuuid1", "libcrypt1", "libdb5.3", "libnsl2", "libtirpc3", "libgssapi-krb5-2",
    "libkrb5-3", "libk5crypto3", "libkrb5support0", "libcom-err2", "libkeyutils1",
)

EMULATOR = "qemu-aarch64-static"


@dataclass(frozen=True)
class Aarch64Python:
    """The pieces of the assembled interpreter."""

    sysroot: Path  # the folder the packages were unpacked into (qemu's -L)
    python: Path  # sysroot/usr/bin/python3.11, an aarch64 ELF executable
    wrapper: Path  # a shell script that runs it under qemu; works as `--python WRAPPER`


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lambda-slim" / "test-aarch64-python"


def _key() -> str:
    return hashlib.sha256("\n".join(("bookworm", *PACKAGES)).encode()).hexdigest()[:12]


def _run(cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd[:3])} … failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )


def _apt_config(state: Path) -> Path:
    for sub in ("lists/partial", "cache/archives/partial"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    (state / "status").touch()
    conf = state / "apt.conf"
    conf.write_text(
        'APT::Architecture "arm64";\n'
        'APT::Architectures { "arm64"; };\n'
        f'Dir::State::Lists "{state}/lists";\n'
        f'Dir::State::status "{state}/status";\n'
        f'Dir::Cache "{state}/cache";\n'
    )
    return conf


def _wrapper_text(sysroot: Path) -> str:
    return (
        "#!/bin/sh\n"
        "# aarch64 CPython 3.11 from Debian's arm64 packages, under QEMU user-mode emulation\n"
        f'exec {EMULATOR} -L "{sysroot}" "{sysroot}/usr/bin/python3.11" "$@"\n'
    )


def _assemble(dest: Path) -> None:
    """Download, unpack and smoke-test into ``dest`` (a fresh folder)."""
    apt_get = shutil.which("apt-get")
    if apt_get is None or shutil.which("dpkg") is None:
        raise RuntimeError("assembling an aarch64 Python needs apt-get and dpkg (Debian/Ubuntu)")
    conf = _apt_config(dest / "apt")
    env = dict(os.environ, APT_CONFIG=str(conf), DEBIAN_FRONTEND="noninteractive")
    _run([apt_get, "-qq", "update"], env=env)
    debs = dest / "debs"
    debs.mkdir()
    _run([apt_get, "-qq", "download", *[f"{p}:arm64" for p in PACKAGES]], env=env, cwd=debs)
    sysroot = dest / "sysroot"
    for deb in sorted(debs.glob("*.deb")):
        _run(["dpkg", "-x", str(deb), str(sysroot)])
    shutil.rmtree(dest / "apt")
    shutil.rmtree(debs)
    python = sysroot / "usr" / "bin" / "python3.11"
    if not python.is_file():
        raise RuntimeError(f"the arm64 packages did not provide {python}")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def aarch64_python311(root: Path | None = None) -> Aarch64Python:
    """The cached interpreter, assembled on first use (~15 s, 12 MB of downloads)."""
    if shutil.which(EMULATOR) is None:
        raise RuntimeError(
            f"{EMULATOR} is not installed: `apt-get install qemu-user-static` (.ci/run does)"
        )
    root = root or cache_root()
    final = root / _key()
    if not (final / "ready").exists():
        with _locked(root / ".lock"):
            if not (final / "ready").exists():
                if final.exists():
                    shutil.rmtree(final)
                tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
                try:
                    work = tmp / _key()
                    work.mkdir()
                    _assemble_at(work, final)
                    os.replace(work, final)
                finally:
                    shutil.rmtree(tmp, ignore_errors=True)
    return Aarch64Python(final / "sysroot", final / "sysroot" / "usr" / "bin" / "python3.11",
                         final / "python3.11-aarch64")


def _assemble_at(work: Path, final: Path) -> None:
    """Assemble in ``work``; the wrapper already names the sysroot's ``final`` place."""
    _assemble(work)
    wrapper = work / "python3.11-aarch64"
    wrapper.write_text(_wrapper_text(final / "sysroot"))
    wrapper.chmod(0o755)
    probe = subprocess.run(
        [EMULATOR, "-L", str(work / "sysroot"), str(work / "sysroot/usr/bin/python3.11"), "-c",
         "import platform, sys, ssl, ctypes, lzma, sqlite3; "
         "print(platform.machine(), '%d.%d' % sys.version_info[:2])"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    if probe.stdout.split() != ["aarch64", "3.11"]:
        raise RuntimeError(f"the assembled aarch64 Python does not run:\n{probe.stdout}"
                           f"\n{probe.stderr}")
    (work / "ready").write_text("ok\n")
