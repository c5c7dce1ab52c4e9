"""Every bad input named in the build issue: message and exit code, for real."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.tools import cli_as_from_a_terminal
from tests.wheels import make_wheel, wheelhouse_requirements

RunCli = Callable[..., int]


def small_req(tmp_path: Path) -> Path:
    house = tmp_path / "house"
    make_wheel(house, "tiny", "1.0", {"tiny/__init__.py": "T = 1\n"})
    return wheelhouse_requirements(tmp_path / "requirements.txt", house, "tiny")


def test_missing_requirements(tmp_path: Path, run_cli: RunCli,
                              capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("build", cwd=tmp_path) == 2
    err = capsys.readouterr().err
    assert "requirements.txt" in err and "does not exist" in err


def test_malformed_line(tmp_path: Path, run_cli: RunCli,
                        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "requirements.txt").write_text("six\n\nnumpy >= = 2\n")
    assert run_cli("build", cwd=tmp_path) == 2
    assert "requirements.txt:3" in capsys.readouterr().err


def test_unknown_runtime_and_arch(tmp_path: Path, run_cli: RunCli,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("build", "--runtime", "python3.9", cwd=tmp_path) == 2
    err = capsys.readouterr().err
    assert "python3.9" in err and "python3.12" in err and "python3.10" in err
    assert run_cli("build", "--arch", "amd64", cwd=tmp_path) == 2
    assert "x86_64" in capsys.readouterr().err


def test_output_dir_missing(tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
                            capsys: pytest.CaptureFixture[str]) -> None:
    req = small_req(tmp_path)
    assert run_cli("build", str(req), "-o", str(tmp_path / "nope/layer.zip"), cwd=tmp_path) == 2
    err = capsys.readouterr().err
    assert "nope" in err and "does not exist" in err


def test_no_wheel_for_target(tmp_path: Path, run_cli: RunCli,
                             capsys: pytest.CaptureFixture[str]) -> None:
    """Real PyPI: xgboost>=3.1 ships no manylinux2014 wheel for python3.10's glibc 2.26."""
    (tmp_path / "requirements.txt").write_text("xgboost>=3.1\n")
    code = run_cli("build", "--runtime", "python3.10", "--no-strip", cwd=tmp_path)
    err = capsys.readouterr().err
    assert code == 3, err
    assert "xgboost" in err and "manylinux_2_26_x86_64" in err
    assert "3.0.5" in err  # the advice names the last release that fits


def test_strip_missing(tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
                       monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    req = small_req(tmp_path)
    empty = tmp_path / "emptybin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert run_cli("build", str(req), cwd=tmp_path) == 6
    err = capsys.readouterr().err
    assert "strip" in err and "binutils" in err and "--no-strip" in err


def test_no_interpreter_skips_verify_or_fails(tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    req = small_req(tmp_path)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    os.symlink("/usr/bin/strip", bindir / "strip")
    monkeypatch.setenv("PATH", str(bindir))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    assert run_cli("build", str(req), "--runtime", "python3.13", "--require-verify",
                   cwd=tmp_path) == 6
    assert "No Python 3.13 interpreter found" in capsys.readouterr().err
    assert run_cli("build", str(req), "--runtime", "python3.13", "-o",
                   str(tmp_path / "l.zip"), cwd=tmp_path) == 0
    captured = capsys.readouterr()
    assert "Verification and byte-compilation are skipped" in captured.err
    assert "verify: skipped" in captured.out
    assert (tmp_path / "l.zip").exists()


def test_interrupted_build_keeps_previous_zip(tmp_path: Path, tmp_cache: Path) -> None:
    req = small_req(tmp_path)
    out = tmp_path / "layer.zip"
    out.write_bytes(b"the previous, good layer")
    slow = tmp_path / "slow_smoke.py"
    slow.write_text("import time\ntime.sleep(60)\n")
    proc = subprocess.Popen(
        cli_as_from_a_terminal("build", str(req), "-o", str(out), "-q", "--smoke", str(slow)),
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    builds = tmp_cache / "builds"
    while time.monotonic() < deadline and not (builds.is_dir() and any(builds.iterdir())):
        time.sleep(0.1)
    time.sleep(2.0)  # well inside the 60 s smoke script
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Interrupted" in err
    assert out.read_bytes() == b"the previous, good layer"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    assert not any(builds.iterdir())  # staging cleaned up
