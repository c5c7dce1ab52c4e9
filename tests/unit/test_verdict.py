"""The verdict rules and the measurement step, with a fake runner standing in for the child."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from lambda_slim.errors import VerifyError
from lambda_slim.progress import NullProgress
from lambda_slim.target.measure import MARK
from lambda_slim.target.python import Interpreter, TargetPython
from lambda_slim.verify.probes import VerifyReport
from lambda_slim.verify.verdict import broken_layer, measure, split_failures


def test_essential_failures_are_fatal_and_each_cause_is_named() -> None:
    failed = {
        "pkg.optional": "ModuleNotFoundError: No module named 'dask'",
        "pkg.gui": "ImportError: libGL.so.1: cannot open shared object file: No such file",
        "pkg": "RuntimeError: boom",
        "smoke:/x/smoke.py": "AssertionError",
    }
    fatal, optional = split_failures(failed, {"pkg"})
    assert {i for i, _c in fatal} == {"pkg", "smoke:/x/smoke.py"}
    assert {i for i, _c in optional} == {"pkg.gui", "pkg.optional"}
    err = broken_layer(fatal + optional, "sandbox", ["pkg"])
    assert err.exit_code == 5  # not only missing libraries
    assert "requested package pkg: RuntimeError: boom" in err.message
    assert "pkg.gui: missing system library libGL.so.1" in err.message
    assert "smoke script /x/smoke.py" in err.message and "--system-lib" in (err.hint or "")
    strict_fatal, none = split_failures(failed, {"pkg"}, strict=True)
    assert len(strict_fatal) == 4 and not none


def _fake(init_s: float, rss: int) -> TargetPython:
    def runner(cmd: Sequence[str], *, cwd: Path | None = None,
               env: Mapping[str, str] | None = None,
               timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        out = "\n" + MARK + json.dumps({"init_s": init_s, "rss": rss}) + "\n"
        return subprocess.CompletedProcess(list(cmd), 0, out, "")
    return TargetPython(Interpreter(Path("/usr/bin/python3.12"), (3, 12)), {}, runner)


def test_slow_init_warns_and_memory_limit_fails(tmp_path: Path) -> None:
    report = VerifyReport("passed", "python3.12")
    measure(_fake(12.5, 300 * 2**20), [tmp_path], ["heavy"], report, NullProgress(),
            smoke_rss=100 * 2**20, memory_mb=None)
    assert report.init_ms == 12500.0 and report.max_rss_bytes == 300 * 2**20
    assert any("over Lambda's 10 s init limit" in w for w in report.warnings)
    with pytest.raises(VerifyError) as info:
        measure(_fake(0.2, 300 * 2**20), [tmp_path], ["heavy"], VerifyReport("passed", None),
                NullProgress(), smoke_rss=None, memory_mb=256)
    assert "does not fit a function of --memory 256 MB" in info.value.message
    fits = VerifyReport("passed", None)
    measure(_fake(0.2, 300 * 2**20), [tmp_path], ["heavy"], fits, NullProgress(),
            smoke_rss=400 * 2**20, memory_mb=512)
    assert fits.max_rss_bytes == 400 * 2**20 and not fits.warnings
