"""``diff`` of two real builds (a pin bump and an added package) and ``why`` on real builds."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lambda_slim.errors import EXIT_GROWTH, EXIT_USAGE
from tests.seed import SeedBuild
from tests.shared import Frozen, once_per_run

RunCli = Callable[..., int]


def build(run_cli: RunCli, folder: Path, requirements: str) -> dict[str, Any]:
    folder.mkdir()
    (folder / "requirements.txt").write_text(requirements)
    assert run_cli("build", "-o", str(folder / "layer.zip"), "--json", str(folder / "r.json"),
                   "-q", cwd=folder) == 0
    return dict(json.loads((folder / "r.json").read_text()))


def _two_builds_in(base: Path) -> None:
    from lambda_slim.cli import main

    for name, reqs in (("old", "six==1.16.0\n"), ("new", "six==1.17.0\nidna==3.10\n")):
        (base / name).mkdir()
        (base / name / "requirements.txt").write_text(reqs)
        assert main(["build", str(base / name / "requirements.txt"), "-o",
                     str(base / name / "layer.zip"), "--json", str(base / name / "r.json"),
                     "-q"]) == 0


@pytest.fixture(scope="session")
def two_builds(tmp_path_factory: pytest.TempPathFactory, py312: Path) -> Iterator[tuple[Path, Path]]:
    """OLD: six 1.16.0. NEW: six 1.17.0 (a pin bump) and idna (an added package). Built once
    per run (every xdist worker reads the same two builds); read-only."""
    base = once_per_run(tmp_path_factory, "diff-two-builds", _two_builds_in)
    frozen = Frozen.of(base)
    yield base / "old", base / "new"
    frozen.check()


def rows(rep: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in rep["packages"]}


def test_diff_reports_exact_byte_deltas(two_builds: tuple[Path, Path], run_cli: RunCli,
                                        tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    old, new = two_builds
    a, b = (json.loads((d / "r.json").read_text()) for d in (old, new))
    six_d = rows(b)["six"]["final_bytes"] - rows(a)["six"]["final_bytes"]
    six_z = rows(b)["six"]["zip_bytes"] - rows(a)["six"]["zip_bytes"]
    idna = rows(b)["idna"]
    assert six_d != 0 and idna["final_bytes"] > 0
    assert run_cli("diff", str(old / "r.json"), str(new / "r.json"), "--markdown") == 0
    md = capsys.readouterr().out
    total = b["final_bytes"] - a["final_bytes"]
    assert f"**{total:+,} bytes unzipped" in md
    assert f"{b['zip_bytes'] - a['zip_bytes']:+,} bytes zipped" in md
    assert "| six | 1.16.0 → 1.17.0 | " in md and f"| {six_d:+,} | {six_z:+,} |" in md
    assert "| idna | added 3.10 | " in md
    assert f"| {idna['final_bytes']:+,} | {idna['zip_bytes']:+,} |" in md
    assert total == six_d + idna["final_bytes"]
    # the same numbers from the zips (with their manifests beside them) and the manifests
    for kind in ("layer.zip", "layer.manifest.json"):
        assert run_cli("diff", str(old / kind), str(new / kind), "--markdown") == 0
        other = capsys.readouterr().out
        assert f"**{total:+,} bytes unzipped" in other
        assert f"| {six_d:+,} | {six_z:+,} |" in other, kind
    # a bare zip (no manifest beside it) is measured by top-level folder: same totals
    bare = tmp_path / "bare"  # (the two builds are shared: read-only)
    bare.mkdir()
    for side in (old, new):
        shutil.copy(side / "layer.zip", bare / f"{side.name}.zip")
    assert run_cli("diff", str(bare / "old.zip"), str(bare / "new.zip"), "--markdown") == 0
    other = capsys.readouterr().out
    assert f"**{total:+,} bytes unzipped" in other and "| idna | added 3.10 |" in other


def test_fail_on_growth_and_job_summary(two_builds: tuple[Path, Path], run_cli: RunCli,
                                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    old, new = (str(d / "r.json") for d in two_builds)
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert run_cli("diff", old, new, "--fail-on-growth", "0") == EXIT_GROWTH
    assert "more than --fail-on-growth 0" in capsys.readouterr().err
    text = summary.read_text()
    assert text.startswith("earlier step\n") and "| idna | added 3.10 |" in text
    assert run_cli("diff", old, new, "--fail-on-growth", "10MiB") == 0
    assert run_cli("diff", old, new, "--fail-on-growth", "1000%") == 0
    assert run_cli("diff", old, new, "--fail-on-growth", "0.001%") == EXIT_GROWTH
    assert run_cli("diff", new, old, "--fail-on-growth", "0") == 0  # it shrank
    assert summary.read_text().count("### lambda-slim size diff") == 5


@pytest.mark.parametrize(("args", "needle"), [
    (("missing.json", "r.json"), "does not exist"),
    (("check.json", "r.json"), "neither a build report nor a build manifest"),
    (("r.json", "r.json", "--fail-on-growth", "lots"), "neither a size nor a percentage"),
])
def test_diff_bad_input(two_builds: tuple[Path, Path], run_cli: RunCli, tmp_path: Path,
                        capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
                        needle: str) -> None:
    shutil.copy(two_builds[0] / "r.json", tmp_path / "r.json")
    (tmp_path / "check.json").write_text(json.dumps({"paths": [], "verdict": "pass"}))
    assert run_cli("diff", *args, cwd=tmp_path) == EXIT_USAGE
    assert needle in capsys.readouterr().err


def test_why_from_a_requirements_file_names_the_chain(tmp_path: Path, run_cli: RunCli,
                                                      capsys: pytest.CaptureFixture[str],
                                                      py312: Path) -> None:
    (tmp_path / "requirements.txt").write_text("python-dateutil==2.9.0.post0\n")
    assert run_cli("why", "six", cwd=tmp_path) == 0
    out = capsys.readouterr().out
    assert "six 1.17.0" in out and "python-dateutil → six" in out
    assert "starts at `python-dateutil==2.9.0.post0`" in out
    assert not list(tmp_path.glob("*.zip"))  # the build went to a temporary folder
    assert run_cli("why", "sx", cwd=tmp_path) == EXIT_USAGE
    assert "Did you mean 'six'?" in capsys.readouterr().err


def test_why_on_the_seed_stack(run_cli: RunCli, capsys: pytest.CaptureFixture[str],
                               seed_build: SeedBuild) -> None:
    rep = seed_build.json()
    dateutil = rows(rep)["python-dateutil"]
    dep = next(d for d in ("six", "tzdata") if d in rows(rep))  # dateutil 2.x: six; 4.x: tzdata
    assert run_cli("why", dep, str(seed_build.report)) == 0
    out = capsys.readouterr().out
    assert f"pandas → python-dateutil → {dep}" in out
    assert f"{rows(rep)[dep]['final_bytes']:,} bytes" in out
    assert run_cli("why", "python-dateutil", str(seed_build.report)) == 0
    out = capsys.readouterr().out
    assert f"python-dateutil {dateutil['version']}" in out and f"only it brings: {dep}" in out
