"""Issue 11, build: bad inputs, outputs over inputs, and settings that must be refused early.

Each test runs ``lambda-slim build`` for real (real pip, a wheelhouse of tiny wheels built in
the test) and asserts the message and the exit code.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.wheels import make_wheel, wheelhouse_requirements

RunCli = Callable[..., int]


def _nothing_resolved(cache: Path) -> bool:
    return not (cache / "wheels").exists() or not any((cache / "wheels").iterdir())


# --- case 5: inputs that would build an empty layer, or run code on the build machine ------


def test_local_source_folder_is_refused_before_pip_runs_it(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
        capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "src"
    src.mkdir()
    marker = tmp_path / "setup-ran"
    (src / "setup.py").write_text(
        f"open({str(marker)!r}, 'w').write('x')\n"
        "from setuptools import setup\nsetup(name='pkg', version='1.0')\n")
    proj = tmp_path / "proj"
    proj.mkdir()
    for line in (f"pkg @ file://{src}", str(src), "./../src"):
        (proj / "requirements.txt").write_text(line + "\n")
        assert run_cli("build", "-q", cwd=proj) == 2, line
        err = capsys.readouterr().err
        assert "source folder" in err and "pip wheel" in err, err
        assert "requirements.txt:1" in err
        assert not marker.exists(), "pip ran the folder's setup.py"


@pytest.mark.parametrize("text", ["", "# only a comment\n\n", "--no-index\n# nothing\n"])
def test_empty_requirements_are_refused(text: str, tmp_path: Path, tmp_cache: Path,
                                        run_cli: RunCli,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "requirements.txt").write_text(text)
    assert run_cli("build", "-q", cwd=tmp_path) == 2
    err = capsys.readouterr().err
    assert "lists no packages" in err and "empty layer" in err
    assert not (tmp_path / "layer.zip").exists()


# --- case 6, 7, 12: outputs never over inputs, checked before any work --------------------


@pytest.mark.parametrize(("args", "words"), [
    (["-o", "requirements.txt"], "requirements.txt is the REQUIREMENTS"),
    (["-o", "./requirements.txt"], "is the REQUIREMENTS"),
    (["--json", "requirements.txt"], "requirements.txt is the REQUIREMENTS"),
    (["-o", "layer.zip", "--json", "layer.zip"], "--json and -o both name"),
    (["--html", "requirements.txt"], "requirements.txt is the REQUIREMENTS"),
    (["--html", "layer.zip"], "--html and -o both name"),
    (["-o", "x.zip", "--json", "x.manifest.json"], "both name"),
])
def test_outputs_never_overwrite_inputs_or_each_other(
        args: list[str], words: str, project: Path, tmp_cache: Path, run_cli: RunCli,
        capsys: pytest.CaptureFixture[str]) -> None:
    before = (project / "requirements.txt").read_bytes()
    assert run_cli("build", "requirements.txt", "-q", *args, cwd=project) == 2
    err = capsys.readouterr().err
    assert words in err and f"error: {args[-2]}" in err, err
    assert (project / "requirements.txt").read_bytes() == before
    assert _nothing_resolved(tmp_cache)


def test_output_symlinked_to_the_requirements_is_refused(
        project: Path, tmp_cache: Path, run_cli: RunCli,
        capsys: pytest.CaptureFixture[str]) -> None:
    (project / "link.zip").symlink_to(project / "requirements.txt")
    assert run_cli("build", "-q", "-o", "link.zip", cwd=project) == 2
    assert "is the REQUIREMENTS" in capsys.readouterr().err


def test_pyproject_output_must_be_a_string(project: Path, tmp_cache: Path, run_cli: RunCli,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    (project / "pyproject.toml").write_text('[tool.lambda-slim]\noutput = ["a.zip"]\n')
    assert run_cli("build", "-q", cwd=project) == 2
    err = capsys.readouterr().err
    assert "`output` must be a string" in err and "['a.zip']" in err
    assert not list(project.glob("[[]*"))


@pytest.mark.parametrize(("args", "words"), [
    (["-o", "."], "is a folder"),
    (["-o", "/proc/layer.zip"], "not writable"),
    (["--json", "/proc/r.json"], "not writable"),
    (["--json", "requirements.txt/r.json"], "is a file, not a folder"),
    (["-o", "missing/layer.zip"], "does not exist"),
    (["--cache-dir", "requirements.txt"], "is a file, not a folder"),
    (["--cache-dir", "/proc/lambda-slim-cache"], "not writable"),
])
def test_unwritable_outputs_fail_before_any_work(
        args: list[str], words: str, project: Path, tmp_cache: Path, run_cli: RunCli,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("build", "-q", *args, cwd=project) == 2
    err = capsys.readouterr().err
    assert words in err, err
    assert _nothing_resolved(tmp_cache)


def test_trace_json_over_requirements_is_refused(project: Path, tmp_cache: Path,
                                                 run_cli: RunCli,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    (project / "smoke.py").write_text("import tiny\n")
    before = (project / "requirements.txt").read_bytes()
    assert run_cli("trace", "--smoke", "smoke.py", "--json", "requirements.txt", "-q",
                   cwd=project) == 2
    assert "is the REQUIREMENTS" in capsys.readouterr().err
    assert (project / "requirements.txt").read_bytes() == before
    assert run_cli("trace", "--smoke", "smoke.py", "--json", "smoke.py", "-q",
                   cwd=project) == 2
    assert "smoke.py" in capsys.readouterr().err


# --- case 11: numbers --------------------------------------------------------------------


@pytest.mark.parametrize(("args", "env", "pyproject", "words"), [
    (["-j", "-1"], {}, None, "--jobs"),
    (["-j", "0"], {}, None, "--jobs"),
    ([], {"LAMBDA_SLIM_JOBS": "-2"}, None, "jobs"),
    ([], {}, "jobs = -3", "`jobs` must be"),
    (["--budget", "1" + "0" * 400], {}, None, "too large"),
    (["--budget", "1e400"], {}, None, "Cannot read the size"),
    (["--budget", "inf"], {}, None, "Cannot read the size"),
    ([], {"LAMBDA_SLIM_BUDGET": "nan"}, None, "Cannot read the size"),
    ([], {}, "budget = true", "`budget` must be"),
    ([], {}, "budget = 1.5", "`budget` must be"),
    ([], {"SOURCE_DATE_EPOCH": "99999999999999999999"}, None, "SOURCE_DATE_EPOCH"),
    ([], {"SOURCE_DATE_EPOCH": "4354819200"}, None, "2107"),
    ([], {}, "zip-level = true", "`zip-level`"),
])
def test_bad_numbers_are_refused(args: list[str], env: dict[str, str], pyproject: str | None,
                                 words: str, project: Path, tmp_cache: Path, run_cli: RunCli,
                                 monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    if pyproject:
        (project / "pyproject.toml").write_text(f"[tool.lambda-slim]\n{pyproject}\n")
    assert run_cli("build", "-q", *args, cwd=project) == 2
    err = capsys.readouterr().err
    assert words in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize("toml", [
    "tool = 5\n", "[tool]\nlambda-slim = 5\n", "[tool.lambda-slim]\nlayers = 3\n",
])
def test_malformed_pyproject_tables(toml: str, project: Path, tmp_cache: Path, run_cli: RunCli,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    (project / "pyproject.toml").write_text(toml)
    assert run_cli("build", "-q", cwd=project) == 2
    err = capsys.readouterr().err
    assert "must be a table" in err or "must hold one table" in err, err
    assert "Traceback" not in err


# --- case 13: odd but valid wheels -------------------------------------------------------


def test_wheel_with_file_and_folder_of_the_same_name(tmp_path: Path, tmp_cache: Path,
                                                     run_cli: RunCli,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    house = tmp_path / "house"
    make_wheel(house, "clash", "1.0", {"clash/__init__.py": "", "clash/a": "file",
                                       "clash/a/b": "nested"})
    wheelhouse_requirements(tmp_path / "requirements.txt", house, "clash")
    assert run_cli("build", "-q", cwd=tmp_path) == 3
    err = capsys.readouterr().err
    assert "clash/a" in err and "both a file and a folder" in err


def test_wheel_with_a_251_byte_file_name(tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    long = "d" * 248 + ".py"
    assert len(long) == 251
    house = tmp_path / "house"
    make_wheel(house, "longname", "1.0", {"longname/__init__.py": "", f"longname/{long}": "X=1\n"})
    wheelhouse_requirements(tmp_path / "requirements.txt", house, "longname")
    code = run_cli("build", "-q", "--no-compile", cwd=tmp_path)
    err = capsys.readouterr().err
    assert code == 0, err
    with zipfile.ZipFile(tmp_path / "layer.zip") as zf:
        assert f"python/longname/{long}" in zf.namelist()


# --- smaller -----------------------------------------------------------------------------


def test_include_loop_is_refused_before_pip(tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "requirements.txt").write_text("six\n-r b.txt\n")
    (tmp_path / "b.txt").write_text("-r requirements.txt\n")
    assert run_cli("build", "-q", cwd=tmp_path) == 2
    err = capsys.readouterr().err
    assert "include loop" in err and "b.txt:1" in err and "RecursionError" not in err
    assert _nothing_resolved(tmp_cache)


def test_diamond_includes_are_not_a_loop(tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    house = tmp_path / "house"
    make_wheel(house, "tiny", "1.0", {"tiny/__init__.py": "T = 1\n"})
    (tmp_path / "common.txt").write_text(f"--no-index\n--find-links {house}\n")
    (tmp_path / "a.txt").write_text("-r common.txt\n")
    (tmp_path / "requirements.txt").write_text("-r a.txt\n-r common.txt\ntiny\n")
    assert run_cli("build", "-q", "--no-compile", cwd=tmp_path) == 0, capsys.readouterr().err


@pytest.mark.parametrize("form", ["path", "file-url"])
def test_wheel_file_lines_are_accepted(form: str, tmp_path: Path, tmp_cache: Path,
                                       run_cli: RunCli,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    whl = make_wheel(tmp_path / "dist", "tiny", "1.0", {"tiny/__init__.py": "T = 1\n"})
    line = f"./dist/{whl.name}" if form == "path" else whl.as_uri()
    (tmp_path / "requirements.txt").write_text(f"--no-index\n{line}\n")
    code = run_cli("build", "-q", "--no-compile", cwd=tmp_path)
    assert code == 0, capsys.readouterr().err
    with zipfile.ZipFile(tmp_path / "layer.zip") as zf:
        assert "python/tiny/__init__.py" in zf.namelist()


def test_missing_package_and_unsatisfiable_pin_say_different_things(
        project: Path, tmp_cache: Path, run_cli: RunCli,
        capsys: pytest.CaptureFixture[str]) -> None:
    reqs = (project / "requirements.txt").read_text()
    (project / "requirements.txt").write_text(reqs.replace("tiny", "tinyy"))
    assert run_cli("build", "-q", cwd=project) == 3
    err = capsys.readouterr().err
    assert "no package named tinyy was found. Did you mean 'tiny'?" in err, err
    assert "Amazon Linux" not in err
    (project / "requirements.txt").write_text(reqs.replace("tiny", "tiny==9.9"))
    assert run_cli("build", "-q", cwd=project) == 3
    err = capsys.readouterr().err
    assert "no version of tiny matching it" in err and "fitting wheel: 1.0" in err, err
    assert "Did you mean" not in err


def test_keep_glob_matching_nothing_warns(project: Path, tmp_cache: Path, run_cli: RunCli,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("build", "-q", "--keep", "tiny/*", "--keep", "nosuch/*", cwd=project) == 0
    err = capsys.readouterr().err
    assert "--keep 'nosuch/*' matched nothing" in err
    assert "'tiny/*'" not in err


def test_env_jobs_are_checked_too(project: Path, tmp_cache: Path, run_cli: RunCli,
                                  monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LAMBDA_SLIM_JOBS", "lots")
    assert run_cli("build", "-q", cwd=project) == 2
    assert "`jobs` must be a whole number" in capsys.readouterr().err


def test_sigterm_removes_staging_and_temp_zips(project: Path, tmp_cache: Path) -> None:
    """A cancelled CI job sends SIGTERM: exit 143, no staging folder, no temp zip left."""
    import signal
    import subprocess
    import sys
    import time

    (project / "slow.py").write_text("import time, tiny\ntime.sleep(60)\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "lambda_slim", "build", "-q", "--smoke", "slow.py"],
        cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def smoke_running() -> bool:  # the sandbox hides the script's folder from writes
        for cmd in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                argv = cmd.read_bytes().split(b"\0")
                # the smoke's interpreter, not the build itself (`python -m lambda_slim build`)
                if any(b"slow.py" in a for a in argv) and b"lambda_slim" not in argv:
                    return True
            except OSError:
                continue
        return False

    deadline = time.monotonic() + 90
    while not smoke_running() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert smoke_running(), proc.communicate()[1]
    assert any((tmp_cache / "builds").iterdir())  # staging exists now
    proc.send_signal(signal.SIGTERM)
    try:
        _out, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("SIGTERM did not stop the build") from None
    assert proc.returncode == 143, err
    assert "Terminated" in err
    assert not any((tmp_cache / "builds").iterdir())
    assert not list(project.glob(".layer.zip.*")) and not (project / "layer.zip").exists()
