"""The native audit and cross-architecture builds, with real binaries and real pip."""

from __future__ import annotations

import json
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from lambda_slim.native.elf import inspect_elf
from tests.wheels import make_wheel, wheelhouse_requirements

RunCli = Callable[..., int]


def compile_so(tmp_path: Path) -> bytes:
    """A real shared object that needs GLIBC_2.34 (pthread_create moved into libc then)."""
    src = tmp_path / "x.c"
    src.write_text("#include <pthread.h>\nstatic void *f(void *a) { return a; }\n"
                   "int start(void) { pthread_t t; return pthread_create(&t, 0, f, 0); }\n")
    out = tmp_path / "libx.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-o", str(out), str(src)], check=True)
    info = inspect_elf(out)
    assert info.max_glibc is not None and info.max_glibc >= (2, 34), info
    return out.read_bytes()


def test_binary_needing_newer_glibc_fails_the_build(tmp_path: Path, tmp_cache: Path,
                                                    run_cli: RunCli,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    so = compile_so(tmp_path)
    house = tmp_path / "house"
    # mislabelled: claims manylinux2014 (glibc 2.17) but links against GLIBC_2.34
    make_wheel(house, "badnative", "1.0", {"badnative/__init__.py": "", "badnative/libx.so": so},
               tag="py3-none-manylinux2014_x86_64")
    req = wheelhouse_requirements(tmp_path / "requirements.txt", house, "badnative")
    code = run_cli("build", str(req), "--runtime", "python3.11", "-o", str(tmp_path / "l.zip"),
                   cwd=tmp_path)
    err = capsys.readouterr().err
    assert code == 4, err
    assert "badnative/libx.so (from badnative)" in err
    assert "GLIBC_2.34" in err and "glibc 2.26" in err
    assert not (tmp_path / "l.zip").exists()
    # the same wheel is fine on python3.12 (Amazon Linux 2023, glibc 2.34)
    assert run_cli("build", str(req), "--runtime", "python3.12", "-o", str(tmp_path / "l.zip"),
                   "-q", cwd=tmp_path) == 0


def test_wrong_architecture_fails_the_build(tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    so = bytearray(compile_so(tmp_path))
    so[18] = 0xB7  # e_machine = EM_AARCH64 in an x86_64-tagged wheel
    house = tmp_path / "house"
    make_wheel(house, "wrongarch", "1.0", {"wrongarch/__init__.py": "",
                                           "wrongarch/_x.so": bytes(so)},
               tag="py3-none-manylinux2014_x86_64")
    req = wheelhouse_requirements(tmp_path / "requirements.txt", house, "wrongarch")
    assert run_cli("build", str(req), "--no-strip", "-o", str(tmp_path / "l.zip"),
                   cwd=tmp_path) == 4
    assert "built for aarch64, but x86_64 Lambda needs x86_64" in capsys.readouterr().err


def test_arm64_build_from_pypi(tmp_path: Path, run_cli: RunCli,
                               capsys: pytest.CaptureFixture[str]) -> None:
    """Real aarch64 wheels resolved on an x86_64 machine, stripped with a cross strip
    (.ci/run installs binutils-aarch64-linux-gnu)."""
    (tmp_path / "requirements.txt").write_text("numpy\nsix\n")
    code = run_cli("build", "--arch", "arm64", "-o", str(tmp_path / "l.zip"), "--json",
                   str(tmp_path / "r.json"), "-q", cwd=tmp_path)
    assert code == 0
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["target"]["arch"] == "arm64"
    assert all("aarch64" in w["filename"] or "none-any" in w["filename"]
               for w in rep["resolved"])
    assert {r["name"]: r for r in rep["rules"]}["strip"]["files"] > 0
    import os

    if os.uname().machine != "aarch64":
        # no aarch64 python3.12 here (the emulation tests bring a 3.11): skipped, and said why
        assert rep["verify"]["status"] == "skipped"
        assert "verified under QEMU user-mode emulation, but" in capsys.readouterr().err
    with zipfile.ZipFile(tmp_path / "l.zip") as zf:
        sos = [n for n in zf.namelist() if n.endswith(".so")]
        data = zf.read(sos[0])
    assert data[:4] == b"\x7fELF" and data[18] == 0xB7  # EM_AARCH64


def test_resolves_for_the_target_interpreter_not_the_host(tmp_path: Path, run_cli: RunCli) -> None:
    """numpy ≥ 2.3 requires Python ≥ 3.11: a python3.10 layer must get 2.2.x, judged by a
    real python3.10 (the host running lambda-slim here is 3.11), and verify with it."""
    (tmp_path / "requirements.txt").write_text("numpy\n")
    code = run_cli("build", "--runtime", "python3.10", "-o", str(tmp_path / "l.zip"), "--json",
                   str(tmp_path / "r.json"), "-q", "--no-compile", cwd=tmp_path)
    assert code == 0
    rep = json.loads((tmp_path / "r.json").read_text())
    (numpy,) = [w for w in rep["resolved"] if w["name"] == "numpy"]
    assert numpy["version"].startswith("2.2."), numpy
    assert "cp310" in numpy["filename"] and "manylinux2014_x86_64" in numpy["filename"]
    assert rep["verify"]["status"] == "passed"
    assert "python3.10" in rep["verify"]["interpreter"]
