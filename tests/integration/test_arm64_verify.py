"""arm64 layers built on x86_64 and verified for real under QEMU (issue 12).

The interpreter is Debian's aarch64 python3.11 (tests/arm64_python.py), passed as a wrapper
script with ``--python`` as a user would. Skipped on an aarch64 machine, where arm64 layers
verify natively.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.arm64_python import Aarch64Python
from tests.wheels import make_wheel, wheelhouse_requirements

RunCli = Callable[..., int]
pytestmark = pytest.mark.skipif(os.uname().machine == "aarch64",
                                reason="arm64 layers verify natively on this machine")
EXT = "audioop.cpython-311-aarch64-linux-gnu.so"
TAG = "cp311-cp311-manylinux2014_aarch64"


def test_numpy_pandas_arm64_layer_verifies_under_emulation(
    tmp_path: Path, run_cli: RunCli, aarch64_python: Aarch64Python,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The issue's end-to-end case: real aarch64 numpy and pandas wheels, resolved here,
    stripped with a cross strip, imported (with their public submodules) and smoke-tested by
    an aarch64 CPython 3.11 under QEMU."""
    (tmp_path / "requirements.txt").write_text("numpy\npandas\n")
    smoke = tmp_path / "smoke.py"
    smoke.write_text("import platform, numpy, pandas\nassert platform.machine() == 'aarch64'\n"
                     "df = pandas.DataFrame({'a': numpy.arange(10)})\n"
                     "assert int(df.a.sum()) == 45, df\n")
    code = run_cli("build", "--runtime", "python3.11", "--arch", "arm64", "--python",
                   str(aarch64_python.wrapper), "--require-verify", "--smoke", str(smoke),
                   "--no-result-cache", "-o", str(tmp_path / "l.zip"), "--json",
                   str(tmp_path / "r.json"), cwd=tmp_path)
    out = capsys.readouterr()
    assert code == 0, out.err
    rep = json.loads((tmp_path / "r.json").read_text())
    verify = rep["verify"]
    assert verify["status"] == "passed", verify
    assert verify["environment"] in ("host+qemu-aarch64", "sandbox+qemu-aarch64"), verify
    assert verify["modules_checked"] > 20 and verify["smoke"][0]["ok"] is True
    assert rep["timings"]["verify"] > 0
    assert {w["name"] for w in rep["resolved"]} >= {"numpy", "pandas"}
    assert all("aarch64" in w["filename"] or "none-any" in w["filename"]
               for w in rep["resolved"])
    assert "verify: passed" in out.out + out.err


def _misaligned(so: bytes) -> bytes:
    """The last PT_LOAD's address moved by one byte: the ELF still parses, but the loader
    refuses it ("ELF load command address/offset not page-aligned")."""
    b = bytearray(so)
    phoff = struct.unpack_from("<Q", b, 0x20)[0]
    size, count = struct.unpack_from("<HH", b, 0x36)
    loads = [phoff + i * size for i in range(count)
             if struct.unpack_from("<I", b, phoff + i * size)[0] == 1]
    vaddr = struct.unpack_from("<Q", b, loads[-1] + 0x10)[0]
    struct.pack_into("<QQ", b, loads[-1] + 0x10, vaddr + 1, vaddr + 1)
    return bytes(b)


def _house(tmp_path: Path, aarch64_python: Aarch64Python, broken: bool) -> Path:
    """A wheel with a real aarch64 extension module (Debian's audioop, which links only libc
    and libm with GLIBC_2.17 symbols), intact or misaligned."""
    so = (aarch64_python.sysroot / "usr/lib/python3.11/lib-dynload" / EXT).read_bytes()
    house = tmp_path / "house"
    make_wheel(house, "armext", "1.0",
               {"armext/__init__.py": "from . import audioop\n",
                f"armext/{EXT}": _misaligned(so) if broken else so}, tag=TAG)
    return wheelhouse_requirements(tmp_path / "requirements.txt", house, "armext")


def test_broken_aarch64_so_fails_verification_naming_the_file(
    tmp_path: Path, tmp_cache: Path, run_cli: RunCli, aarch64_python: Aarch64Python,
    capsys: pytest.CaptureFixture[str],
) -> None:
    smoke = tmp_path / "smoke.py"
    smoke.write_text("import armext\nassert armext.audioop.max(b'\\x01\\x05', 1) == 5\n")
    req = _house(tmp_path / "good", aarch64_python, broken=False)
    args = ("build", "--runtime", "python3.11", "--arch", "arm64", "--python",
            str(aarch64_python.python), "--no-strip", "--smoke", str(smoke))
    assert run_cli(*args, str(req), "-o", str(tmp_path / "good.zip"), "--json",
                   str(tmp_path / "good.json"), cwd=tmp_path) == 0, capsys.readouterr().err
    assert json.loads((tmp_path / "good.json").read_text())["verify"]["status"] == "passed"
    req = _house(tmp_path / "bad", aarch64_python, broken=True)
    code = run_cli(*args, str(req), "-o", str(tmp_path / "bad.zip"), cwd=tmp_path)
    err = capsys.readouterr().err
    assert code == 5, err
    assert f"armext/{EXT}" in err and "not page-aligned" in err
    assert not (tmp_path / "bad.zip").exists()
    with zipfile.ZipFile(tmp_path / "good.zip") as zf:
        assert f"python/armext/{EXT}" in zf.namelist()


def test_missing_emulator_or_interpreter_is_named(
    tmp_path: Path, tmp_cache: Path, run_cli: RunCli, aarch64_python: Aarch64Python,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    req = _house(tmp_path, aarch64_python, broken=False)
    for var in [v for v in os.environ if v.startswith("LAMBDA_SLIM_PYTHON_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("HOME", str(tmp_path))  # no uv-managed aarch64 interpreters
    args = ("build", str(req), "--runtime", "python3.11", "--arch", "arm64", "--no-strip",
            "-o", str(tmp_path / "l.zip"))
    assert run_cli(*args, "--require-verify", cwd=tmp_path) == 6
    err = capsys.readouterr().err
    assert "No aarch64 Python 3.11 interpreter" in err
    assert "LAMBDA_SLIM_PYTHON_3_11_AARCH64" in err and "uv python install" in err
    assert run_cli(*args, "--json", str(tmp_path / "r.json"), cwd=tmp_path) == 0
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["verify"]["status"] == "skipped"
    assert "No aarch64 Python 3.11 interpreter" in capsys.readouterr().err
    # an interpreter but no emulator (PATH without qemu, no binfmt handler registered here)
    monkeypatch.setenv("PATH", "/nonexistent")
    code = run_cli(*args, "--require-verify", "--python", str(aarch64_python.wrapper),
                   cwd=tmp_path)
    err = capsys.readouterr().err
    if Path("/proc/sys/fs/binfmt_misc/qemu-aarch64").exists():
        pytest.skip("a binfmt handler for aarch64 is registered here")
    assert code == 6, err
    assert "No QEMU emulator for aarch64" in err and "qemu-user-static" in err


def test_native_python_flag_and_aarch64_interpreter_from_the_environment(
    tmp_path: Path, tmp_cache: Path, run_cli: RunCli, aarch64_python: Aarch64Python,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """`--python` naming this machine's python3.11 runs pip and byte-compilation; the
    aarch64 interpreter comes from $LAMBDA_SLIM_PYTHON_3_11_AARCH64."""
    assert sys.version_info[:2] == (3, 11)
    monkeypatch.setenv("LAMBDA_SLIM_PYTHON_3_11_AARCH64", str(aarch64_python.wrapper))
    req = _house(tmp_path, aarch64_python, broken=False)
    code = run_cli("build", str(req), "--runtime", "python3.11", "--arch", "arm64",
                   "--python", sys.executable, "--no-strip", "--require-verify", "-o",
                   str(tmp_path / "l.zip"), "--json", str(tmp_path / "r.json"), cwd=tmp_path)
    assert code == 0, capsys.readouterr().err
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["verify"]["status"] == "passed"
    assert rep["verify"]["environment"] in ("host+qemu-aarch64", "sandbox+qemu-aarch64")
    assert rep["verify"]["interpreter"] == str(aarch64_python.python)
    assert rep["verify"]["modules_checked"] >= 1
    with zipfile.ZipFile(tmp_path / "l.zip") as zf:  # compiled natively for 3.11
        assert "python/armext/__pycache__/__init__.cpython-311.pyc" in zf.namelist()


def _emulated(environment: object) -> bool:
    return environment in ("host+qemu-aarch64", "sandbox+qemu-aarch64")


def test_arm64_function_handler_is_imported_under_emulation(
    tmp_path: Path, tmp_cache: Path, run_cli: RunCli, aarch64_python: Aarch64Python,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 18 item 5: the --handler check runs under QEMU like the import check (it was
    skipped for cross builds: exit 0 with ``function.handler: null``); a broken handler is
    exit 5."""
    req = _house(tmp_path, aarch64_python, broken=False)
    src = tmp_path / "src"
    src.mkdir()
    (src / "app.py").write_text(
        "import platform, armext\n"
        "def handler(event, context):\n    return platform.machine()\n")
    args = ("build", str(req), "--function", str(src), "--handler", "app.handler",
            "--runtime", "python3.11", "--arch", "arm64", "--python",
            str(aarch64_python.python), "--no-strip", "--require-verify")
    code = run_cli(*args, "-o", str(tmp_path / "f.zip"), "--json", str(tmp_path / "r.json"),
                   cwd=tmp_path)
    assert code == 0, capsys.readouterr().err
    handler = json.loads((tmp_path / "r.json").read_text())["function"]["handler"]
    assert handler["ok"] is True and _emulated(handler["environment"]), handler
    (src / "app.py").write_text("import armext\nraise RuntimeError('config missing')\n"
                                "def handler(event, context):\n    return 1\n")
    code = run_cli(*args, "-o", str(tmp_path / "bad.zip"), cwd=tmp_path)
    err = capsys.readouterr().err
    assert code == 5, err
    assert "app.handler does not load as Lambda would load it" in err
    assert "qemu-aarch64" in err and "RuntimeError: config missing" in err
    assert not (tmp_path / "bad.zip").exists()


def test_arm64_borrowed_library_is_loaded_under_emulation(
    tmp_path: Path, tmp_cache: Path, run_cli: RunCli, aarch64_python: Aarch64Python,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A soname Amazon Linux 2 lacks (libbz2.so.1.0) served from another wheel's vendored
    copy is loaded by the aarch64 loader under QEMU, not just planned (item 5)."""
    dyn = aarch64_python.sysroot / "usr/lib/python3.11/lib-dynload"
    ext = "_bz2.cpython-311-aarch64-linux-gnu.so"
    house = tmp_path / "house"
    make_wheel(house, "user", "1.0", {"user/__init__.py": "", f"user/{ext}":
                                      (dyn / ext).read_bytes()}, tag=TAG)
    lib = aarch64_python.sysroot / "lib/aarch64-linux-gnu/libbz2.so.1.0.4"  # GLIBC_2.17
    make_wheel(house, "vendor", "1.0", {"vendor/__init__.py": "",
                                        "vendor.libs/libbz2-1a2b3c4d.so.1.0.4":
                                        lib.read_bytes()}, tag=TAG)
    req = wheelhouse_requirements(tmp_path / "requirements.txt", house, "user", "vendor")
    code = run_cli("build", str(req), "--runtime", "python3.11", "--arch", "arm64", "--python",
                   str(aarch64_python.python), "--no-strip", "--no-compile", "--require-verify",
                   "-o", str(tmp_path / "l.zip"), "--json", str(tmp_path / "r.json"),
                   cwd=tmp_path)
    assert code == 0, capsys.readouterr().err
    (b,) = json.loads((tmp_path / "r.json").read_text())["borrowed"]
    assert b["soname"] == "libbz2.so.1.0" and b["to"] == "lib/libbz2.so.1.0"
    assert _emulated(b["verified"]), b


def test_arm64_overflow_layer_is_started_under_emulation(
    tmp_path: Path, tmp_cache: Path, run_cli: RunCli, aarch64_python: Aarch64Python,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The packed layer starts as Lambda would start it, under QEMU (item 5)."""
    house = tmp_path / "house"
    blob = (os.urandom(2048) + b"overflow " * 4000) * 60  # ~2.3 MB, compresses well
    make_wheel(house, "heavy", "1.0", {"heavy/__init__.py": "import platform\n"
                                       "MACHINE = platform.machine()\n",
                                       "heavy/blob.bin": blob})
    req = wheelhouse_requirements(tmp_path / "requirements.txt", house, "heavy")
    code = run_cli("build", str(req), "--runtime", "python3.11", "--arch", "arm64", "--python",
                   str(aarch64_python.python), "--require-verify", "--budget", "1MB",
                   "--overflow", "-o", str(tmp_path / "l.zip"), "--json",
                   str(tmp_path / "r.json"), cwd=tmp_path)
    assert code == 0, capsys.readouterr().err
    ov = json.loads((tmp_path / "r.json").read_text())["overflow"]
    assert [p["name"] for p in ov["packed"]] == ["heavy"]
    assert ov["verified"] and _emulated(ov["environment"]), ov
    assert ov["init_ms_with"] > 0


def test_arm64_checks_that_cannot_run_are_named(
    tmp_path: Path, tmp_cache: Path, run_cli: RunCli, aarch64_python: Aarch64Python,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """No aarch64 interpreter: the handler check is named as not run (never a silent pass),
    and --require-verify makes it exit 6."""
    req = _house(tmp_path, aarch64_python, broken=False)
    for var in [v for v in os.environ if v.startswith("LAMBDA_SLIM_PYTHON_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("HOME", str(tmp_path))  # no uv-managed aarch64 interpreters
    src = tmp_path / "src"
    src.mkdir()
    (src / "app.py").write_text("def handler(event, context):\n    return 1\n")
    args = ("build", str(req), "--function", str(src), "--handler", "app.handler", "--runtime",
            "python3.11", "--arch", "arm64", "--no-strip", "-o", str(tmp_path / "f.zip"))
    assert run_cli(*args, "--json", str(tmp_path / "r.json"), cwd=tmp_path) == 0
    printed = capsys.readouterr()
    assert "app.handler was NOT imported" in printed.out + printed.err
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["verify"]["status"] == "skipped" and rep["function"]["handler"] is None
    assert run_cli(*args, "--require-verify", cwd=tmp_path) == 6


def test_a_sysroot_under_tmp_is_visible_in_the_sandbox(
    tmp_path: Path, tmp_cache: Path, run_cli: RunCli, aarch64_python: Aarch64Python,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """docs/verification.md's wrapper-script recipe with its sysroot under /tmp (the
    sandbox's own /tmp used to hide it: "interpreter died" with no reason)."""
    assert str(tmp_path).startswith("/tmp/")
    sysroot = tmp_path / "arm64py" / "sysroot"
    shutil.copytree(aarch64_python.sysroot, sysroot, symlinks=True,
                    copy_function=os.link)  # hard links: same data, no copying
    wrapper = tmp_path / "arm64py" / "python3.11"
    wrapper.write_text(f'#!/bin/sh\nexec qemu-aarch64-static -L "{sysroot}" '
                       f'"{sysroot}/usr/bin/python3.11" "$@"\n')
    wrapper.chmod(0o755)
    req = _house(tmp_path, aarch64_python, broken=False)
    code = run_cli("build", str(req), "--runtime", "python3.11", "--arch", "arm64", "--python",
                   str(wrapper), "--no-strip", "--require-verify", "-o", str(tmp_path / "l.zip"),
                   "--json", str(tmp_path / "r.json"), cwd=tmp_path)
    assert code == 0, capsys.readouterr().err
    verify = json.loads((tmp_path / "r.json").read_text())["verify"]
    assert verify["status"] == "passed" and verify["environment"] == "sandbox+qemu-aarch64"
    assert verify["interpreter"] == str(sysroot / "usr/bin/python3.11")
