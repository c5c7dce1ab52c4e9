"""Finding and running a real aarch64 CPython under QEMU (Debian's arm64 packages, issue 12)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from lambda_slim.target.emulation import Emulation, Missing, detect
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
