from __future__ import annotations

from pathlib import Path

import pytest

from lambda_slim.errors import ConfigError, InputError
from lambda_slim.inputs.args import BuildArgs
from lambda_slim.inputs.config import build_config
from lambda_slim.sizes import parse_size
from lambda_slim.target.python import find_interpreter
from lambda_slim.target.runtimes import RUNTIMES, parse_target


def test_platform_tags_follow_glibc() -> None:
    al2 = parse_target("python3.11", "x86_64").platform_tags()
    assert al2[0] == "manylinux_2_26_x86_64"
    assert "manylinux2014_x86_64" in al2 and "manylinux1_x86_64" in al2
    assert not any("_2_28_" in t for t in al2)
    al2023 = parse_target("python3.12", "arm64").platform_tags()
    assert al2023[0] == "manylinux_2_34_aarch64"
    assert al2023[-1] == "manylinux2014_aarch64"
    assert not any("manylinux1" in t or "x86_64" in t for t in al2023)


def test_runtimes_know_their_glibc() -> None:
    assert RUNTIMES["python3.10"].glibc == (2, 26)
    assert RUNTIMES["python3.13"].glibc == (2, 34)


def test_unknown_runtime_and_arch_list_valid_ones() -> None:
    with pytest.raises(InputError) as e:
        parse_target("python3.9", "x86_64")
    assert "python3.12" in str(e.value) and "python3.9" in str(e.value)
    with pytest.raises(InputError) as e:
        parse_target("python3.12", "aarch64")
    assert "arm64" in str(e.value)


@pytest.mark.parametrize(
    ("text", "value"),
    [("262144000", 262144000), ("250MiB", 262144000), ("262.144MB", 262144000),
     ("1GiB", 1 << 30), ("10k", 10000), (5, 5)],
)
def test_parse_size(text: str | int, value: int) -> None:
    assert parse_size(text) == value


@pytest.mark.parametrize("bad", ["", "abc", "12 parsecs", "-5", "0"])
def test_parse_size_rejects(bad: str) -> None:
    with pytest.raises(InputError):
        parse_size(bad)


def _write(p: Path, text: str) -> Path:
    p.write_text(text)
    return p


def test_config_layers_pyproject_env_cli(tmp_path: Path) -> None:
    _write(tmp_path / "pyproject.toml", """
[tool.lambda-slim]
runtime = "python3.11"
budget = "100MiB"
disable = ["tests"]
keep = ["foo/*"]

[tool.lambda-slim.layers.scoring]
requirements = "req-scoring.txt"
output = "build/scoring.zip"
arch = "arm64"
""")
    cfg = build_config(BuildArgs(), {}, tmp_path)
    assert cfg.target.runtime.name == "python3.11"
    assert cfg.budget == 100 * 2**20
    assert "tests" not in cfg.rules and "strip" in cfg.rules
    assert cfg.requirements == tmp_path / "requirements.txt"
    layer = build_config(BuildArgs(), {}, tmp_path, layer="scoring")
    assert layer.target.arch == "arm64"
    assert layer.requirements == tmp_path / "req-scoring.txt"
    assert layer.output == tmp_path / "build/scoring.zip"
    env = build_config(BuildArgs(), {"LAMBDA_SLIM_RUNTIME": "python3.13"}, tmp_path)
    assert env.target.runtime.name == "python3.13"
    cli = build_config(BuildArgs(runtime="python3.10", rule_flags={"tests": True, "strip": False}),
                       {"LAMBDA_SLIM_RUNTIME": "python3.13"}, tmp_path)
    assert cli.target.runtime.name == "python3.10"
    assert "tests" in cli.rules and "strip" not in cli.rules


def test_config_unknown_key_suggests(tmp_path: Path) -> None:
    _write(tmp_path / "pyproject.toml", '[tool.lambda-slim]\nruntme = "python3.12"\n')
    with pytest.raises(ConfigError) as e:
        build_config(BuildArgs(), {}, tmp_path)
    assert "runtme" in e.value.message and "runtime" in e.value.message
    assert e.value.exit_code == 2


def test_config_unknown_layer_and_rule(tmp_path: Path) -> None:
    _write(tmp_path / "pyproject.toml",
           '[tool.lambda-slim]\ndisable=["test"]\n[tool.lambda-slim.layers.a]\n')
    with pytest.raises(InputError) as e:
        build_config(BuildArgs(), {}, tmp_path)
    assert "'tests'" in e.value.message
    with pytest.raises(ConfigError):
        build_config(BuildArgs(), {}, tmp_path, layer="b")


def test_config_bad_toml(tmp_path: Path) -> None:
    _write(tmp_path / "pyproject.toml", "[tool.lambda-slim\n")
    with pytest.raises(ConfigError) as e:
        build_config(BuildArgs(), {}, tmp_path)
    assert "pyproject.toml" in e.value.message


def test_explicit_interpreter_of_wrong_version(tmp_path: Path) -> None:
    import sys

    with pytest.raises(InputError) as e:
        find_interpreter((2, 7), {}, explicit=sys.executable)
    assert "needs Python 2.7" in e.value.message


def test_no_interpreter_found(tmp_path: Path) -> None:
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path), "PYENV_ROOT": str(tmp_path)}
    assert find_interpreter((3, 12), env) is None
