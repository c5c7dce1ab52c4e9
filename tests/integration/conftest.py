from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lambda_slim.cli import main
from lambda_slim.inputs.config import manifest_path_for as manifest_path
from lambda_slim.target.python import find_interpreter
from tests.lockprojects import POETRY_PYPROJECT, UV_PYPROJECT, locked_project
from tests.seed import SeedBuild, build_seed
from tests.shared import PRIVATE_CACHE_SHARES, Frozen, once_per_run, shared_cache_root, warm_cache
from tests.wheels import make_wheel, wheelhouse_requirements


@pytest.fixture(scope="session")
def py312() -> Path:
    """A real python3.12, discovered the way the tool discovers it; fails if there is none."""
    import os

    interp = find_interpreter((3, 12), dict(os.environ))
    assert interp is not None, "the integration tests need a Python 3.12 (pyenv install 3.12)"
    return interp.path


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch) -> Callable[..., int]:
    """Run ``lambda-slim ARGS`` in-process from a folder; returns the exit code."""

    def run(*args: str, cwd: Path | None = None) -> int:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        return main(list(args))

    return run


@pytest.fixture
def tmp_cache(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own cache: empty wheel store, resolutions, results and build folders, sharing
    only the sandbox's loader caches (tests/shared.py says why), or wholly empty for a test
    marked ``cold_cache`` (one about caching)."""
    cache = tmp_path / "cache"
    if request.node.get_closest_marker("cold_cache") is None:
        warm_cache(cache, shared_cache_root(), PRIVATE_CACHE_SHARES)
    monkeypatch.setenv("LAMBDA_SLIM_CACHE_DIR", str(cache))
    return cache


@pytest.fixture
def project(tmp_path: Path, tmp_cache: Path) -> Path:
    """A folder with requirements.txt resolving ``tiny`` from a local wheelhouse."""
    house = tmp_path / "house"
    make_wheel(house, "tiny", "1.0", {"tiny/__init__.py": "T = 1\n"})
    proj = tmp_path / "proj"
    proj.mkdir()
    wheelhouse_requirements(proj / "requirements.txt", house, "tiny")
    return proj


def have_strip() -> bool:
    return shutil.which("strip") is not None


def _frozen_project(factory: pytest.TempPathFactory, name: str, pyproject: str, tool: str) -> Iterator[Path]:
    """A project locked once per run by the real tool, shared read-only by every worker."""
    folder = once_per_run(factory, name, lambda f: locked_project_in(f, pyproject, tool))
    frozen = Frozen.of(folder)
    yield folder
    frozen.check()


def locked_project_in(folder: Path, pyproject: str, tool: str) -> None:
    made = locked_project(folder, pyproject, tool)
    assert made == folder, (made, folder)


@pytest.fixture(scope="session")
def uv_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Read-only: copy it (shutil.copytree) before writing into it."""
    yield from _frozen_project(tmp_path_factory, "uvdemo", UV_PYPROJECT, "uv")


@pytest.fixture(scope="session")
def poetry_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Read-only: copy it (shutil.copytree) before writing into it."""
    yield from _frozen_project(tmp_path_factory, "pdemo", POETRY_PYPROJECT, "poetry")


@pytest.fixture(scope="session")
def seed_build(tmp_path_factory: pytest.TempPathFactory, py312: Path) -> Iterator[SeedBuild]:
    folder = once_per_run(tmp_path_factory, "seed", build_seed)
    frozen = Frozen.of(folder)
    yield SeedBuild(folder, folder / "layer.zip", folder / "r.json", folder / "report.html",
                    manifest_path(folder / "layer.zip"), (folder / "printed.txt").read_text())
    frozen.check()
