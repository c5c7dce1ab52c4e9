from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from lambda_slim.cli import main
from lambda_slim.target.python import find_interpreter
from tests.lockprojects import POETRY_PYPROJECT, UV_PYPROJECT, locked_project
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
def tmp_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
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


@pytest.fixture(scope="session")
def uv_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return locked_project(tmp_path_factory.mktemp("uvdemo"), UV_PYPROJECT, "uv")


@pytest.fixture(scope="session")
def poetry_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return locked_project(tmp_path_factory.mktemp("pdemo"), POETRY_PYPROJECT, "poetry")
