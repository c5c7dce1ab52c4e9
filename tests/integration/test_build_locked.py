"""``lambda-slim build`` from real uv and Poetry projects: exactly the locked versions, hashes
enforced, markers judged for the target, groups and extras, and the errors of bad locks."""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.lockprojects import BIN, SIX_SHA, run

RunCli = Callable[..., int]


def dists(zip_path: Path) -> dict[str, str]:
    """name -> version of every distribution in the layer (from its dist-info folder)."""
    with zipfile.ZipFile(zip_path) as zf:
        found = {m.group(1).lower().replace("_", "-"): m.group(2) for n in zf.namelist()
                 if (m := re.match(r"python/([^/]+)-([^/-]+)\.dist-info/METADATA$", n))}
    return found


def locked_versions(uv_lock: Path) -> dict[str, str]:
    import tomllib

    data = tomllib.loads(uv_lock.read_text())
    return {p["name"]: p["version"] for p in data["package"]}


def test_uv_project_builds_exactly_the_locked_versions(uv_project: Path, tmp_path: Path, tmp_cache: Path,
                                                       run_cli: RunCli) -> None:
    out = tmp_path / "layer.zip"
    # the folder: its uv.lock is found; python3.12 x86_64; dev is out, the aws default group in
    assert run_cli("build", str(uv_project), "-q", "-o", str(out), "--json", str(tmp_path / "r.json"),
                   cwd=tmp_path) == 0
    locked = locked_versions(uv_project / "uv.lock")
    assert dists(out) == {"six": "1.16.0", "jmespath": locked["jmespath"]}
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["requirements"]["path"] == str(uv_project / "uv.lock")
    assert report["requirements"]["kind"] == "uv.lock" and report["requirements"]["locked"] is True
    assert report["verify"]["status"] == "passed"
    # python3.11 on arm64 with a group and an extra: the machine and version markers flip
    arm = tmp_path / "arm.zip"
    assert run_cli("build", str(uv_project / "uv.lock"), "--runtime", "python3.11", "--arch", "arm64",
                   "--group", "lint", "--extra", "fmt", "-q", "-o", str(arm), cwd=tmp_path) == 0
    assert dists(arm) == {n: locked[n] for n in
                          ("six", "idna", "attrs", "jmespath", "packaging", "iniconfig", "pyparsing")}
    assert locked["idna"] == "3.10"  # not the newest idna: the lock's version, not a re-resolution


def test_poetry_project_builds_exactly_the_locked_versions(poetry_project: Path, tmp_path: Path,
                                                           tmp_cache: Path, run_cli: RunCli) -> None:
    out = tmp_path / "layer.zip"
    assert run_cli("build", str(poetry_project / "poetry.lock"), "--runtime", "python3.11",
                   "--group", "lint", "-q", "-o", str(out), "--json", str(tmp_path / "r.json"),
                   cwd=tmp_path) == 0
    assert dists(out) == {"six": "1.16.0", "attrs": "25.3.0", "pyparsing": "3.2.3"}
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["requirements"]["kind"] == "poetry.lock"
    assert set(report["requirements"]["requested"]) == {"six", "attrs", "pyparsing"}


def test_a_tampered_hash_is_refused(uv_project: Path, tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / "pyproject.toml").write_bytes((uv_project / "pyproject.toml").read_bytes())
    (project / "uv.lock").write_text((uv_project / "uv.lock").read_text().replace(SIX_SHA, "0" * 64))
    assert run_cli("build", str(project), "--no-default-groups", "-q", "-o", str(tmp_path / "l.zip"),
                   cwd=tmp_path) == 3
    err = capsys.readouterr().err
    assert "uv.lock" in err and "hash" in err.lower()
    assert not (tmp_path / "l.zip").exists()


def test_locked_package_without_a_wheel_for_the_target(tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "winonly"\nversion = "0.1.0"\nrequires-python = ">=3.10"\n'
        'dependencies = ["pywin32==311"]\n')
    run([str(BIN / "uv"), "lock", "-q"], tmp_path)
    assert run_cli("build", "-q", "-o", str(tmp_path / "l.zip"), cwd=tmp_path) == 3
    err = capsys.readouterr().err
    assert f"No wheel of pywin32==311 (from {tmp_path / 'uv.lock'}) fits python3.12 x86_64" in err
    assert "manylinux_2_34_x86_64" in err


def test_bad_inputs_exit_2(uv_project: Path, tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
                           capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "stale"
    stale.mkdir()
    (stale / "uv.lock").write_bytes((uv_project / "uv.lock").read_bytes())
    (stale / "pyproject.toml").write_text((uv_project / "pyproject.toml").read_text().replace(
        '"idna==3.10;', '"certifi",\n    "idna==3.10;'))
    assert run_cli("build", str(stale), "-q", cwd=tmp_path) == 2
    err = capsys.readouterr().err
    assert "is out of date with" in err and "uv lock" in err
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    assert run_cli("build", "--group", "dev", "-q", cwd=tmp_path) == 2
    assert "--group/--extra/--no-default-groups select from a lock file" in capsys.readouterr().err
    assert run_cli("build", str(uv_project), "--extra", "nope", "-q", cwd=tmp_path) == 2
    assert "has no extra 'nope'" in capsys.readouterr().err
