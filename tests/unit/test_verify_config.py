"""Configuration of verification: system-libs, smoke-timeout, memory, sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_slim.errors import ConfigError
from lambda_slim.inputs.args import BuildArgs
from lambda_slim.inputs.config import DEFAULT_SMOKE_TIMEOUT, build_config


def _pyproject(tmp_path: Path, body: str) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.lambda-slim]\n" + body)


def test_defaults_and_pyproject_keys(tmp_path: Path) -> None:
    cfg = build_config(BuildArgs(), {}, tmp_path)
    assert (cfg.system_libs, cfg.smoke_timeout, cfg.memory_mb, cfg.sandbox) == (
        (), DEFAULT_SMOKE_TIMEOUT, None, True)
    _pyproject(tmp_path, 'system-libs = ["libgomp.so.1"]\nsmoke-timeout = 30\nmemory = 512\n'
                         "sandbox = false\n")
    cfg = build_config(BuildArgs(), {}, tmp_path)
    assert (cfg.system_libs, cfg.smoke_timeout, cfg.memory_mb, cfg.sandbox) == (
        ("libgomp.so.1",), 30.0, 512, False)
    flags = build_config(BuildArgs(system_libs=("libodbc.so.2",), smoke_timeout=5.0,
                                   sandbox=True), {}, tmp_path)
    assert (flags.system_libs, flags.smoke_timeout, flags.sandbox) == (
        ("libodbc.so.2",), 5.0, True)


@pytest.mark.parametrize(("body", "words"), [
    ('system-libs = ["gomp"]\n', "not a shared-library soname"),
    ("smoke-timeout = 0\n", "more than 0 seconds"),
    ('smoke-timeout = "soon"\n', "number of seconds"),
    ("memory = 64\n", "128-10240"),
    ('sandbox = "maybe"\n', "true or false"),
])
def test_bad_values_are_exit_2_with_the_key(tmp_path: Path, body: str, words: str) -> None:
    _pyproject(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        build_config(BuildArgs(), {}, tmp_path)
    assert info.value.exit_code == 2 and words in str(info.value)
