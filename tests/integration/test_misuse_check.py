"""Issue 11, check: outputs over inputs, odd files, GitHub Actions output that never turns a
pass into a failure, and the annotation escaping."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambda_slim.cli import main
from tests.regressions.zipcraft import make_zip
from tests.tools import as_an_ordinary_user


def _good_zip(folder: Path, name: str = "good.zip") -> Path:
    z = folder / name
    z.write_bytes(make_zip([("python/pkg/__init__.py", b"x = 1\n")]))
    return z


@pytest.mark.parametrize("target", ["same", "dot-slash", "function"])
def test_check_json_over_a_checked_zip_is_refused(target: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    z = _good_zip(tmp_path)
    fn = tmp_path / "fn.zip"
    fn.write_bytes(make_zip([("handler.py", b"def h(e, c): pass\n")]))
    before = z.read_bytes(), fn.read_bytes()
    json_to = {"same": "good.zip", "dot-slash": "./good.zip", "function": "fn.zip"}[target]
    assert main(["check", "good.zip", "--function", "fn.zip", "--json", json_to]) == 2
    err = capsys.readouterr().err
    assert "--json" in err and "destroy" in err
    assert (z.read_bytes(), fn.read_bytes()) == before


def test_check_json_in_a_folder_that_is_a_file(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    z = _good_zip(tmp_path)
    assert main(["check", str(z), "--json", str(z / "out.json")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def _check_subprocess(*paths: Path) -> subprocess.CompletedProcess[str]:
    """A hang must fail the test, not the suite: run in a child with a deadline."""
    try:
        return subprocess.run([sys.executable, "-m", "lambda_slim", "check", *map(str, paths)],
                              capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"check {paths} hung") from None


def test_check_on_a_fifo_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.zip"
    os.mkfifo(fifo)
    proc = _check_subprocess(fifo)
    assert proc.returncode == 2, proc.stderr
    assert "pipe.zip" in proc.stderr and "not a regular file" in proc.stderr
    layer = tmp_path / "layer"
    (layer / "python").mkdir(parents=True)
    (layer / "python" / "m.py").write_text("x = 1\n")
    os.mkfifo(layer / "python" / "fifo")
    out = tmp_path / "out.json"
    proc = _check_subprocess(layer, Path("--json"), out)  # a FIFO is no file a layer can hold
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text())["total"]["files"] == 1


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A folder another user may enter (pytest's tmp_path is private to root)."""
    d = Path(tempfile.mkdtemp(prefix="ls-misuse-"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_check_on_a_folder_with_an_unreadable_file(shared_tmp: Path) -> None:
    layer = shared_tmp / "layer"
    (layer / "python").mkdir(parents=True)
    (layer / "python" / "ok.py").write_text("x = 1\n")
    secret = layer / "python" / "secret.so"
    secret.write_bytes(b"\x7fELF" + bytes(4096))
    secret.chmod(0)
    for d in (layer, layer / "python"):
        d.chmod(0o755)
    env = dict(os.environ, HOME=str(shared_tmp))
    repo = Path(__file__).parents[2]
    argv = as_an_ordinary_user([sys.executable, "-m", "lambda_slim", "check", str(layer)],
                               env=env, cwd=repo)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env,
                          cwd=str(repo))
    assert proc.returncode == 2, proc.stderr
    assert "secret.so" in proc.stderr and "not readable" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("where", ["missing-folder", "a-folder", "unwritable"])
def test_unwritable_step_summary_warns_and_keeps_the_verdict(
        where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    z = _good_zip(tmp_path)
    summary = {"missing-folder": tmp_path / "nope" / "summary.md",
               "a-folder": tmp_path,
               "unwritable": Path("/proc/lambda-slim-summary.md")}[where]
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["check", str(z)]) == 0
    captured = capsys.readouterr()
    assert "GITHUB_STEP_SUMMARY" in captured.err and "warning" in captured.err
    assert "::warning title=lambda-slim check%3A step-summary::" in captured.out


def test_step_summary_is_appended(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    z = _good_zip(tmp_path)
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["check", str(z)]) == 0
    text = summary.read_text()
    assert text.startswith("earlier step\n") and "### lambda-slim check: pass" in text


def test_warning_annotation_escapes_file_and_message(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    odd = tmp_path / "lay,er:1%"
    odd.mkdir()
    z = odd / "layer.zip"
    z.write_bytes(make_zip([("python/a.py", b"x = 1\n"), ("stray,1.txt", b"x")]))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    assert main(["check", str(z), "--function", str(_good_zip(tmp_path, "fn.zip"))]) == 0
    out = capsys.readouterr().out
    esc = str(z).replace("%", "%25").replace(":", "%3A").replace(",", "%2C")
    line = next(ln for ln in out.splitlines() if ln.startswith("::warning "))
    assert line.startswith(f"::warning file={esc},title=lambda-slim check%3A outside-python::")
    assert "stray,1.txt" in line  # message text keeps commas; only % and newlines escaped
    assert ",1%" not in line.split("::")[1]


def test_error_annotation_for_over_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    z = _good_zip(tmp_path)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    assert main(["check", str(z), "--budget", "1"]) == 1
    out = capsys.readouterr().out
    assert "::error title=lambda-slim check%3A over-budget::" in out


def test_unreadable_mode_bits_are_not_needed_for_zips(tmp_path: Path) -> None:
    z = _good_zip(tmp_path)
    z.chmod(stat.S_IRUSR)
    assert main(["check", str(z)]) == 0
