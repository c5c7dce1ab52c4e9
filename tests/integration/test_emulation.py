"""Finding and running a real aarch64 CPython under QEMU (Debian's arm64 packages, issue 12)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from lambda_slim.target.emulated_sandbox import make_emulated_sandbox
from lambda_slim.target.emulation import Emulation, Missing, detect
from lambda_slim.target.sandbox import sandbox_unavailable
from lambda_slim.target.syslibs import runtime_syslibs
from tests.arm64_python import Aarch64Python


def _run(emu: Emulation, code: str, env: dict[str, str] | None = None) -> str:
    launch = emu.isolation().wrap(["python3.11", "-I", "-S", "-c", code],
                                  env=env or dict(os.environ), layer=None, paths=[], cwd=None)
    out = subprocess.run(launch.argv, env=launch.env, cwd=launch.cwd, capture_output=True,
                         text=True, timeout=300, check=True)
    return out.stdout.strip()


def test_the_interpreter_from_python_elf_wrapper_and_env(aarch64_python: Aarch64Python) -> None:
    env = dict(os.environ)
    by_elf = detect("aarch64", (3, 11), env, str(aarch64_python.python))
    assert isinstance(by_elf, Emulation), by_elf
    assert by_elf.python.sysroot == aarch64_python.sysroot and not by_elf.python.wrapper
    assert by_elf.isolation().name == "host+qemu-aarch64"
    assert _run(by_elf, "import platform, ssl, ctypes, sqlite3; print(platform.machine())") \
        == "aarch64"
    # a wrapper script is looked through to the ELF it starts (a sandbox must see the sysroot)
    by_wrapper = detect("aarch64", (3, 11), env, str(aarch64_python.wrapper))
    assert isinstance(by_wrapper, Emulation) and by_wrapper.python == by_elf.python
    env["LAMBDA_SLIM_PYTHON_3_11_AARCH64"] = str(aarch64_python.wrapper)
    by_env = detect("aarch64", (3, 11), env)
    assert isinstance(by_env, Emulation)
    assert by_env.python.source == "$LAMBDA_SLIM_PYTHON_3_11_AARCH64"


def test_a_uv_style_install_with_qemu_ld_prefix(aarch64_python: Aarch64Python,
                                                tmp_path: Path) -> None:
    """uv's layout (HOME/.local/share/uv/python/cpython-3.11.*-linux-aarch64-gnu/bin) with its
    C library elsewhere, found through $QEMU_LD_PREFIX."""
    inst = tmp_path / ".local/share/uv/python/cpython-3.11.2-linux-aarch64-gnu"
    (inst / "bin").mkdir(parents=True)
    (inst / "lib").mkdir()
    exe = inst / "bin" / "python3.11"
    exe.write_bytes(aarch64_python.python.read_bytes())
    exe.chmod(0o755)
    (inst / "lib" / "python3.11").symlink_to(aarch64_python.sysroot / "usr/lib/python3.11")
    env = dict(os.environ, HOME=str(tmp_path), QEMU_LD_PREFIX=str(aarch64_python.sysroot))
    env.pop("LAMBDA_SLIM_PYTHON_3_11_AARCH64", None)
    env.pop("UV_PYTHON_INSTALL_DIR", None)
    env.pop("XDG_DATA_HOME", None)
    got = detect("aarch64", (3, 11), env)
    assert isinstance(got, Emulation), got
    assert got.python.source == "uv" and got.python.path == exe
    assert got.python.sysroot == aarch64_python.sysroot
    assert _run(got, "import sys; print(sys.prefix)", env) == str(inst)


def test_wrong_version_is_passed_over_with_the_reason(aarch64_python: Aarch64Python) -> None:
    env = dict(os.environ, LAMBDA_SLIM_PYTHON_3_12_AARCH64=str(aarch64_python.wrapper),
               HOME="/nonexistent")
    got = detect("aarch64", (3, 12), env)
    assert isinstance(got, Missing)
    assert "No aarch64 Python 3.12 interpreter" in got.what
    assert "is Python 3.11 for aarch64" in got.what


_PROBE = r"""
import ctypes, json, os, sys
out = {"uid": os.getuid(), "machine": os.uname().machine}
for so in ("libstdc++.so.6", "libssl.so.3"):
    try:
        ctypes.CDLL(so)
        out[so] = True
    except OSError:
        out[so] = False
for where in ("/opt/python/x", "/tmp/x"):
    try:
        open(where, "w").close()
        out[where] = True
    except OSError:
        out[where] = False
out["layer"] = sorted(os.listdir("/opt/python")) if os.path.isdir("/opt/python") else None
out["system_ssl"] = os.path.exists("/usr/lib64/libssl.so.3")
print(json.dumps(out))
"""


def test_sandbox_around_the_emulated_interpreter(aarch64_python: Aarch64Python,
                                                 tmp_path: Path) -> None:
    """sandbox+qemu-aarch64: non-root, layer read-only at /opt/python, /tmp writable, and
    only the runtime's libraries (python3.11 = Amazon Linux 2 has no libssl.so.3 in its system
    folder; the interpreter's own copy is at /var/lang/lib, as the runtime's Python brings its
    own OpenSSL)."""
    env = dict(os.environ)
    if (why := sandbox_unavailable(env)) is not None:
        pytest.skip(f"no sandbox here: {why}")
    emu = detect("aarch64", (3, 11), env, str(aarch64_python.wrapper))
    assert isinstance(emu, Emulation)
    layer = tmp_path / "python"
    layer.mkdir()
    (layer / "mod.py").write_text("")
    boxed = emu.isolation(make_emulated_sandbox(emu, runtime_syslibs("python3.11", "arm64"),
                                                env))
    assert boxed.name == "sandbox+qemu-aarch64"
    launch = boxed.wrap(["python3.11", "-I", "-S", "-B", "-c", _PROBE], env={}, layer=layer,
                        paths=[], cwd=None)
    got = json.loads(subprocess.run(launch.argv, env=launch.env, capture_output=True,
                                    text=True, timeout=300, check=True).stdout)
    assert got["machine"] == "aarch64" and got["uid"] == 993
    assert got["libstdc++.so.6"] is True and got["system_ssl"] is False
    assert got["libssl.so.3"] is True  # the interpreter's own, at /var/lang/lib
    assert got["/opt/python/x"] is False and got["/tmp/x"] is True
    assert got["layer"] == ["mod.py"]
    on_host = json.loads(_run(emu, _PROBE))
    assert on_host["libssl.so.3"] is True and on_host["uid"] == os.getuid()
