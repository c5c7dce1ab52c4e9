"""Issue 19 items 2, 3, 5: a function folder is copied, never followed; an output never replaces
an input, in any command; every output is checked writable before any work.

Each case runs the real CLI (``build`` with a tiny wheelhouse, ``report``, ``diff``) and asserts
the exit code, the message and what did (not) happen on disk.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.tools import as_an_ordinary_user

RunCli = Callable[..., int]


def _src(project: Path) -> Path:
    src = project / "src"
    src.mkdir()
    (src / "app.py").write_text("import tiny\n\ndef handler(event, context):\n    return tiny.T\n")
    return src


def _names(z: Path) -> set[str]:
    with zipfile.ZipFile(z) as zf:
        return set(zf.namelist())


def test_a_symlink_inside_the_folder_ships_as_the_file_it_names(
        project: Path, run_cli: RunCli, capsys: pytest.CaptureFixture[str]) -> None:
    src = _src(project)
    (src / "lib").mkdir()
    (src / "lib" / "real.py").write_text("X = 1\n")
    (src / "alias.py").symlink_to("lib/real.py")
    (src / "pkg").symlink_to("lib", target_is_directory=True)  # a symlinked folder: not dropped
    assert run_cli("build", "-q", "--function", "src", "--no-sandbox", "-o", "f.zip", cwd=project) == 0
    names = _names(project / "f.zip")
    assert {"app.py", "alias.py", "lib/real.py", "pkg/real.py"} <= names
    with zipfile.ZipFile(project / "f.zip") as zf:
        assert zf.read("alias.py") == b"X = 1\n" and zf.read("pkg/real.py") == b"X = 1\n"
        assert all((i.external_attr >> 16) & 0o170000 != 0o120000 for i in zf.infolist())
    capsys.readouterr()
    # --no-symlinks: the same folder is refused, naming the link
    assert run_cli("build", "-q", "--function", "src", "--no-symlinks", "-o", "g.zip", cwd=project) == 2
    err = capsys.readouterr().err
    assert "alias.py is a symlink" in err and "--no-symlinks" in err
    assert not (project / "g.zip").exists()


def test_a_symlink_out_of_the_folder_or_dangling_is_refused_before_any_work(
        project: Path, tmp_path: Path, run_cli: RunCli,
        capsys: pytest.CaptureFixture[str]) -> None:
    src = _src(project)
    secret = tmp_path / "id_rsa"
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    (src / "k").symlink_to(secret)
    assert run_cli("build", "-q", "--function", "src", cwd=project) == 2
    err = capsys.readouterr().err
    assert "src/k is a symlink to" in err and "outside the function folder" in err
    assert not (project / "function.zip").exists()
    (src / "k").unlink()
    (src / "k").symlink_to(tmp_path, target_is_directory=True)  # a folder outside: the same
    assert run_cli("build", "-q", "--function", "src", cwd=project) == 2
    assert "outside the function folder" in capsys.readouterr().err
    (src / "k").unlink()
    (src / "gone.py").symlink_to(src / "nowhere.py")
    assert run_cli("build", "-q", "--function", "src", cwd=project) == 2
    err = capsys.readouterr().err
    assert "src/gone.py is a dangling symlink" in err and "Internal error" not in err
    assert not (project / "function.zip").exists()


def test_env_files_and_this_builds_outputs_in_the_folder_are_left_out_and_listed(
        project: Path, run_cli: RunCli, capsys: pytest.CaptureFixture[str]) -> None:
    src = _src(project)
    (src / ".env").write_text("AWS_SECRET_ACCESS_KEY=x\n")
    (src / ".env.production").write_text("TOKEN=y\n")
    assert run_cli("build", "-q", "-o", "layer.zip", cwd=project) == 0
    shutil.copy(project / "layer.zip", src / "layer.zip")
    capsys.readouterr()
    assert run_cli("build", "--function", "src", "--layer-zip", "src/layer.zip", "--no-sandbox",
                   "-o", "src/function.zip", "--html", "src/report.html", "--json", "src/r.json",
                   cwd=project) == 0
    captured = capsys.readouterr()
    out = captured.out + captured.err
    names = _names(src / "function.zip")
    assert names.isdisjoint({".env", ".env.production", "layer.zip", "function.zip",
                             "report.html", "r.json", "function.manifest.json"}), names
    assert "app.py" in names
    for listed in (".env", ".env.production", "layer.zip (this build's --layer-zip)"):
        assert listed in out, out
    left = json.loads((src / "r.json").read_text())["function"]["left_out"]
    assert any(x.startswith(".env ") for x in left) and any("layer.zip" in x for x in left)
    # the next build of the same folder is byte-identical: its own outputs never ship
    first = (src / "function.zip").read_bytes()
    assert run_cli("build", "-q", "--function", "src", "--layer-zip", "src/layer.zip",
                   "--no-sandbox", "--no-result-cache", "-o", "src/function.zip",
                   "--html", "src/report.html", "--json", "src/r.json", cwd=project) == 0
    assert (src / "function.zip").read_bytes() == first


@pytest.mark.parametrize(("args", "clobbered", "what"), [
    (["--function", "src", "--layer-zip", "layer.zip", "-o", "layer.zip"], "layer.zip", "--layer-zip"),
    (["--function", "src", "-o", "src/app.py"], "src/app.py", "a file of the function folder"),
    (["--function", "src", "--json", "src/app.py"], "src/app.py", "a file of the function folder"),
    (["--html", "requirements.txt"], "requirements.txt", "REQUIREMENTS"),
    (["--json", "smoke.py", "--smoke", "smoke.py"], "smoke.py", "--smoke"),
])
def test_build_outputs_never_replace_inputs(args: list[str], clobbered: str, what: str,
                                            project: Path, run_cli: RunCli,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    _src(project)
    (project / "smoke.py").write_text("import tiny\n")
    assert run_cli("build", "-q", "-o", "layer.zip", cwd=project) == 0
    before = (project / clobbered).read_bytes()
    capsys.readouterr()
    assert run_cli("build", "-q", *args, cwd=project) == 2
    err = capsys.readouterr().err
    assert what in err and "would destroy the input" in err, err
    assert (project / clobbered).read_bytes() == before


def test_report_html_never_replaces_the_report_and_diff_checks_the_summary_first(
        project: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("build", "-q", "--json", "r.json", cwd=project) == 0
    before = (project / "r.json").read_bytes()
    assert run_cli("report", "r.json", "--html", "r.json", cwd=project) == 2
    assert "REPORT" in capsys.readouterr().err
    assert (project / "r.json").read_bytes() == before
    assert run_cli("report", "r.json", "--html", "/proc/lambda-slim/r.html", "-q", cwd=project) == 2
    assert "/proc/lambda-slim" in capsys.readouterr().err
    # diff appends to $GITHUB_STEP_SUMMARY: never one of its inputs, and writable before work
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(project / "r.json"))
    assert run_cli("diff", "r.json", "r.json", cwd=project) == 2
    assert "GITHUB_STEP_SUMMARY" in capsys.readouterr().err
    assert (project / "r.json").read_bytes() == before
    for bad in ("/proc/lambda-slim-summary.md", str(project)):
        monkeypatch.setenv("GITHUB_STEP_SUMMARY", bad)
        assert run_cli("diff", "r.json", "r.json", "--markdown", cwd=project) == 2
        captured = capsys.readouterr()
        assert "GITHUB_STEP_SUMMARY" in captured.err and "Internal error" not in captured.err
        assert captured.out == ""  # nothing printed: the problem was found before the work


def test_html_in_a_folder_that_cannot_be_written_is_found_before_the_build(
        project: Path, run_cli: RunCli, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("build", "-q", "--html", "/proc/lambda-slim/report.html", cwd=project) == 2
    assert "--html" in capsys.readouterr().err
    assert not (project / "layer.zip").exists()  # refused before the zip was written


def test_over_long_output_names_are_bad_input(project: Path, run_cli: RunCli,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    long = "a" * 300
    for args in (["-o", f"{long}.zip"], ["--json", f"{long}.json"], ["--html", f"{long}.html"]):
        assert run_cli("build", "-q", *args, cwd=project) == 2, args
        err = capsys.readouterr().err
        assert "longer than the filesystem allows" in err and "Internal error" not in err
    assert run_cli("build", f"{long}.txt", "-q", cwd=project) == 2
    assert "Internal error" not in capsys.readouterr().err


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="ls-untrusted-"))
    d.chmod(0o777)  # nobody writes the zip here
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_an_unreadable_pyenv_root_is_bad_input(shared_tmp: Path) -> None:
    pyenv = shared_tmp / "pyenv"
    (pyenv / "versions").mkdir(parents=True)
    pyenv.chmod(0)
    (shared_tmp / "requirements.txt").write_text("six==1.16.0\n")
    env = dict(os.environ, HOME=str(shared_tmp), PYENV_ROOT=str(pyenv), PATH="/usr/bin:/bin",
               PYTHONPATH=str(Path(__file__).parents[2]))
    argv = as_an_ordinary_user(
        [sys.executable, "-m", "lambda_slim", "build", "-q", "--cache-dir", str(shared_tmp / "c")],
        env=env, cwd=shared_tmp)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env, cwd=shared_tmp)
    pyenv.chmod(0o755)
    assert proc.returncode == 2, proc.stderr
    assert "PYENV_ROOT" in proc.stderr and "Traceback" not in proc.stderr
