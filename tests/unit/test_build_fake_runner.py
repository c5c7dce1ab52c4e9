"""The whole build job (``lambda_slim.build.build``) with a fake runner (tests/fakes.py) in place
of pip and the target interpreter: resolve, unpack, the rules' plan, the differential verdict,
repair, the result cache and the report, in a fraction of a second. The integration tests prove
the same wiring against real pip, interpreters and the sandbox."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from lambda_slim.build import build, plan_build
from lambda_slim.errors import ResolveError, VerifyError
from lambda_slim.inputs.args import BuildArgs
from lambda_slim.inputs.config import BuildConfig, build_config
from lambda_slim.report.model import BuildResult, CachedBuild
from tests.fakes import FakeTarget
from tests.wheels import make_wheel

#: app imports its own code, its data file and tests/fixtures.py (a test helper runtime code
#: uses: the `tests` rule removes it, verification must notice); dep is a plain dependency.
NEEDS = {"app": ["app/__init__.py", "app/data/model.json"], "dep": ["dep/__init__.py"]}


@pytest.fixture
def index(tmp_path: Path) -> dict[str, Path]:
    house = tmp_path / "house"
    app = make_wheel(house, "app", "1.0", {"app/__init__.py": "", "app/data/model.json": "{}",
                                           "app/tests/__init__.py": "", "app/tests/fixtures.py": "",
                                           "app/tests/test_app.py": "x = 1\n" * 500},
                     requires=("dep",))
    dep = make_wheel(house, "dep", "2.0", {"dep/__init__.py": "", "dep/tests/test_dep.py": "y\n" * 800})
    return {"app": app, "dep": dep}


def _env(tmp_path: Path) -> dict[str, str]:
    return {"LAMBDA_SLIM_CACHE_DIR": str(tmp_path / "cache"), "PATH": os.environ.get("PATH", "")}


def _config(tmp_path: Path, **kw: object) -> BuildConfig:
    python = tmp_path / "bin" / "python3"
    python.parent.mkdir(exist_ok=True)
    python.write_text("#!/bin/false\n")  # never run: the fake answers for it
    python.chmod(0o755)
    (tmp_path / "requirements.txt").write_text("app==1.0\ndep==2.0\n")
    args = BuildArgs(requirements=str(tmp_path / "requirements.txt"), output=str(tmp_path / "layer.zip"),
                     python=str(python), sandbox=False, compile="none", **kw)  # type: ignore[arg-type]
    return build_config(args, _env(tmp_path), tmp_path)


def test_a_build_resolves_prunes_verifies_and_zips(tmp_path: Path, index: dict[str, Path]) -> None:
    fake = FakeTarget(NEEDS, index=index)
    config = _config(tmp_path)
    result = build(config, _env(tmp_path), runner=fake)
    assert isinstance(result, BuildResult)
    rep = result.report
    assert rep.verify.status == "passed" and rep.verify.environment == "host"
    assert fake.calls[:2] == ["version", "pip download"] and "imports" in fake.calls
    with zipfile.ZipFile(config.output) as zf:
        names = sorted(n for n in zf.namelist() if not n.endswith("/") and ".dist-info/" not in n)
    assert names == ["python/app/__init__.py", "python/app/data/model.json", "python/dep/__init__.py"]
    rules = {r.name: r for r in rep.rules}
    assert rules["tests"].files == 4 and rules["tests"].bytes > 2000


def test_a_file_runtime_code_needs_is_found_and_repaired(tmp_path: Path, index: dict[str, Path]) -> None:
    needs = {**NEEDS, "app": [*NEEDS["app"], "app/tests/fixtures.py"]}
    with pytest.raises(VerifyError) as info:
        build(_config(tmp_path), _env(tmp_path), runner=FakeTarget(needs, index=index))
    assert "rule `tests` removed app/tests/fixtures.py" in info.value.message
    config = _config(tmp_path, repair=True)
    result = build(config, _env(tmp_path), runner=FakeTarget(needs, index=index))
    assert isinstance(result, BuildResult) and result.report.verify.status == "repaired"
    with zipfile.ZipFile(config.output) as zf:
        assert "python/app/tests/fixtures.py" in zf.namelist()
        assert "python/app/tests/test_app.py" not in zf.namelist()


def test_a_requested_package_that_never_imports_is_refused(tmp_path: Path, index: dict[str, Path]) -> None:
    fake = FakeTarget(NEEDS, index=index, broken={"app": "Traceback:\nImportError: boom"})
    with pytest.raises(VerifyError, match="requested package app"):
        build(_config(tmp_path), _env(tmp_path), runner=fake)
    assert not (tmp_path / "layer.zip").exists()


def test_an_identical_rebuild_is_served_from_the_result_cache_but_not_for_another_target(
        tmp_path: Path, index: dict[str, Path]) -> None:
    first = build(_config(tmp_path), _env(tmp_path), runner=FakeTarget(NEEDS, index=index))
    assert isinstance(first, BuildResult)
    again = FakeTarget(NEEDS, index=index)
    second = build(_config(tmp_path), _env(tmp_path), runner=again)
    assert isinstance(second, CachedBuild) and "pip download" not in again.calls
    other = FakeTarget(NEEDS, index=index, version=(3, 13))
    third = build(_config(tmp_path, runtime="python3.13"), _env(tmp_path), runner=other)
    assert isinstance(third, BuildResult) and "pip download" in other.calls


def test_a_name_the_index_lacks_is_a_resolve_error(tmp_path: Path, index: dict[str, Path]) -> None:
    del index["dep"]
    with pytest.raises(ResolveError) as info:
        build(_config(tmp_path), _env(tmp_path), runner=FakeTarget(NEEDS, index=index))
    assert "dep" in info.value.message


def test_dry_run_plans_without_verifying_or_writing(tmp_path: Path, index: dict[str, Path]) -> None:
    fake = FakeTarget(NEEDS, index=index)
    plan = plan_build(_config(tmp_path), _env(tmp_path), runner=fake)
    assert "imports" not in fake.calls and not (tmp_path / "layer.zip").exists()
    assert plan.mode == "dry-run" and {e.rule for e in plan.entries} >= {"tests"}
    tests = {e.rel for e in plan.entries if e.rule == "tests"}
    assert tests >= {"app/tests/test_app.py", "dep/tests/test_dep.py"}
