"""Builds verified in the Lambda-like sandbox: verdicts that cannot be fooled, named causes,
measurement, and the fallback to the host when the sandbox is unavailable."""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from lambda_slim.target.sandbox import sandbox_unavailable
from tests.wheels import make_wheel, wheelhouse_requirements

RunCli = Callable[..., int]
REASON = sandbox_unavailable(os.environ)
needs_sandbox = pytest.mark.skipif(REASON is not None, reason=f"no sandbox here: {REASON}")


def _demo(tmp_path: Path, init: str = "VALUE = 42\n") -> Path:
    house = tmp_path / "house"
    make_wheel(house, "demo", "1.0", {"demo/__init__.py": init,
                                      "demo/extra.py": "import not_installed_anywhere\n"})
    return wheelhouse_requirements(tmp_path / "requirements.txt", house, "demo")


def _report(path: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(path.read_text())
    return data


@needs_sandbox
def test_verified_in_the_sandbox_with_init_time_and_peak_rss(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    req = _demo(tmp_path)
    code = run_cli("build", str(req), "-o", str(tmp_path / "l.zip"), "--json",
                   str(tmp_path / "r.json"), cwd=tmp_path)
    out = capsys.readouterr().out
    assert code == 0
    verify = _report(tmp_path / "r.json")["verify"]
    assert isinstance(verify, dict)
    assert verify["environment"] == "sandbox" and verify["status"] == "passed"
    assert 0 < float(verify["init_ms"]) < 10_000
    assert 1024 * 1024 < int(verify["max_rss_bytes"]) < 512 * 1024 * 1024
    # an optional submodule failing before pruning too is only a warning, under its heading
    assert [o["item"] for o in verify["optional_failures"]] == ["demo.extra"]
    assert "optional parts that will not import on Lambda" in out
    assert "in the sandbox" in out and "peak RSS" in out and "init" in out


@needs_sandbox
def test_requested_package_whose_import_raises_is_exit_5(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    req = _demo(tmp_path, init="raise RuntimeError('demo needs a config file')\n")
    code = run_cli("build", str(req), "-o", str(tmp_path / "l.zip"), cwd=tmp_path)
    err = capsys.readouterr().err
    assert code == 5, err
    assert "requested package demo: RuntimeError: demo needs a config file" in err
    assert "even with nothing pruned" in err
    assert not (tmp_path / "l.zip").exists()


@needs_sandbox
def test_smoke_writing_into_the_layer_fails_with_the_path_and_nothing_leaks(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    req = _demo(tmp_path)
    writer = tmp_path / "writer.py"
    writer.write_text("import os, demo\n"
                      "open(os.path.join(os.path.dirname(demo.__file__), 'cache.json'), 'w')\n")
    code = run_cli("build", str(req), "--smoke", str(writer), "-o", str(tmp_path / "l.zip"),
                   cwd=tmp_path)
    err = capsys.readouterr().err
    assert code == 5, err
    assert "write to the read-only layer: /opt/python/demo/cache.json" in err
    # a careful script (falls back to /tmp) passes; nothing it wrote is in the zip, and the
    # build is reproducible
    careful = tmp_path / "careful.py"
    careful.write_text("import os, demo, tempfile\n"
                       "try:\n    open(os.path.join(os.path.dirname(demo.__file__), 'c'), 'w')\n"
                       "except OSError:\n    pass\n"
                       "open(os.path.join(tempfile.gettempdir(), 'c'), 'w').write('x')\n"
                       "assert tempfile.gettempdir() == '/tmp'\n")
    shas = []
    for n in (1, 2):
        out = tmp_path / f"l{n}.zip"
        assert run_cli("build", str(req), "--smoke", str(careful), "-o", str(out), "--json",
                       str(tmp_path / f"r{n}.json"), "--no-result-cache", cwd=tmp_path) == 0
        with zipfile.ZipFile(out) as zf:
            assert not [n for n in zf.namelist() if n.endswith(("/c", "cache.json"))]
        shas.append(_report(tmp_path / f"r{n}.json")["zip_sha256"])
    assert shas[0] == shas[1]


@needs_sandbox
def test_smoke_timeout_and_memory_limit_are_named(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    req = _demo(tmp_path)
    slow = tmp_path / "slow.py"
    slow.write_text("import time\ntime.sleep(60)\n")
    code = run_cli("build", str(req), "--smoke", str(slow), "--smoke-timeout", "2", "-o",
                   str(tmp_path / "l.zip"), cwd=tmp_path)
    err = capsys.readouterr().err
    assert code == 5, err
    assert "slow.py: timeout: still running after 2 s" in err and "--smoke-timeout" in err
    hungry = tmp_path / "hungry.py"
    hungry.write_text("block = b'x' * (200 * 1024 * 1024)\n")
    code = run_cli("build", str(req), "--smoke", str(hungry), "--memory", "128", "-o",
                   str(tmp_path / "l.zip"), cwd=tmp_path)
    err = capsys.readouterr().err
    assert code == 5, err
    assert "does not fit a function of --memory 128 MB" in err
    assert run_cli("build", str(req), "--smoke", str(hungry), "--memory", "512", "-o",
                   str(tmp_path / "l.zip"), "-q", cwd=tmp_path) == 0


def test_without_a_sandbox_one_line_note_and_host_or_exit_6(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    req = _demo(tmp_path)
    refusing = tmp_path / "bwrap"
    refusing.write_text("#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\n"
                        "exit 1\n")
    refusing.chmod(0o755)
    monkeypatch.setenv("LAMBDA_SLIM_BWRAP", str(refusing))
    code = run_cli("build", str(req), "-o", str(tmp_path / "l.zip"), "--json",
                   str(tmp_path / "r.json"), cwd=tmp_path)
    err = capsys.readouterr().err
    assert code == 0, err
    notes = [ln for ln in err.splitlines() if "sandbox is unavailable" in ln]
    assert len(notes) == 1
    assert "the kernel refused a user namespace (bwrap: setting up uid map: Permission " \
           "denied)" in err
    verify = _report(tmp_path / "r.json")["verify"]
    assert isinstance(verify, dict) and verify["environment"] == "host"
    assert verify["init_ms"] is not None
    code = run_cli("build", str(req), "--require-verify", "-o", str(tmp_path / "l2.zip"),
                   cwd=tmp_path)
    err = capsys.readouterr().err
    assert code == 6, err
    assert "sandbox is unavailable" in err and "--require-verify" in err
    assert not (tmp_path / "l2.zip").exists()
