"""Each build option is declared once (``inputs/settings.py``); the click options, BuildArgs,
the config reader, BuildConfig and the result-cache key follow from that declaration, and a
new option or config field cannot miss the cache key."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import click
import pytest

from lambda_slim.build.cache import BY_CONTENT, NOT_KEYED, result_key, unkeyed_fields
from lambda_slim.cli import main_group
from lambda_slim.errors import ConfigError
from lambda_slim.inputs.args import BuildArgs
from lambda_slim.inputs.config import BuildConfig, build_config
from lambda_slim.inputs.requirements import read_requirements
from lambda_slim.inputs.settings import BY_NAME, CONFIG_KEYS, SETTINGS, Setting

#: BuildConfig fields made from several settings, or from no setting, by the reader.
COMPOSED = {"target": ("runtime", "arch"), "rules": ("disable",),
            "selection": ("groups", "extras", "no_default_groups"), "epoch": (), "layer": (),
            "create_output_dir": (), "limit": (), "html_path": (),
            "runtime_sdk": ("runtime_sdk",)}
#: Options of `lambda-slim build` that are no build setting (they steer the command itself).
COMMAND_ONLY = {"requirements", "html_out", "dry_run", "no_compile", "layer", "all_layers",
                "verbose", "quiet"}
FIELDS = {f.name: f for f in dataclasses.fields(BuildConfig)}


def _project(tmp_path: Path) -> Path:
    (tmp_path / "requirements.txt").write_text("six\n")
    for name in ("smoke.py", "trace.py", "other.txt", "event.json"):
        (tmp_path / name).write_text("pass\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("def handler(e, c):\n    return 1\n")
    (tmp_path / "l.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    return tmp_path


#: A value for each setting that differs from its default, as the command line gives it.
SAMPLES: dict[str, Any] = {
    "requirements": "other.txt", "function": "src", "layer_zips": ("l.zip",),
    "output": "o.zip", "json": "r.json", "cache_dir": "/nonexistent/lambda-slim-cache",
    "smoke": ("smoke.py",), "trace": ("trace.py",), "budget": "100MB", "system_libs": ("libfoo.so.1",),
    "variant": ("a=b",), "python": "/usr/bin/python3", "handler": "app.handler",
    "runtime_sdk": "botocore==1.35.10", "memory": 512, "ephemeral_storage": 1024,
    "jobs": 3, "zip_level": 9,
    "smoke_timeout": 5.0, "disable": ("strip",), "event": "event.json",
}


def sample(s: Setting) -> Any:
    if s.name in SAMPLES:
        return SAMPLES[s.name]
    if s.kind == "flag":
        return s.flag_value
    if s.kind == "switch":
        return not FIELDS[s.name].default
    if s.kind == "choice":
        default = FIELDS[s.config_field].default if s.config_field else s.default_text
        return next(c for c in s.choices if c != default)
    if s.kind == "texts":
        return ("x",)
    raise AssertionError(f"no sample value for {s.name}; add one to SAMPLES")


def test_every_config_field_comes_from_a_declared_setting_or_is_composed_on_purpose() -> None:
    from_settings = {s.config_field for s in SETTINGS if s.config_field}
    assert from_settings <= set(FIELDS), from_settings - set(FIELDS)
    unexplained = set(FIELDS) - from_settings - set(COMPOSED)
    assert not unexplained, (f"BuildConfig fields {sorted(unexplained)} come from no setting: "
                             "declare them in lambda_slim/inputs/settings.py")
    folded = {n for names in COMPOSED.values() for n in names}
    assert {s.name for s in SETTINGS if s.config_field is None} == folded


def test_the_build_command_has_exactly_the_declared_options() -> None:
    params = {p.name for p in main_group.commands["build"].params}
    rule_flags = {p for p in params if p and p.startswith("rule_")}
    declared = {s.name for s in SETTINGS if s.flags}
    assert params - rule_flags - COMMAND_ONLY == declared
    ctx = click.Context(main_group.commands["build"])
    text = main_group.commands["build"].get_help(ctx)
    for s in SETTINGS:
        for flag in s.flags:
            assert flag.split("/")[0] in text, flag


def test_build_args_accept_only_declared_settings() -> None:
    assert BuildArgs(zip_level=9).given() == {"zip-level": 9}
    assert BuildArgs(keep=("a/*",), smoke=(Path("s.py"),)).given() == {
        "keep": ["a/*"], "smoke": ["s.py"]}
    with pytest.raises(TypeError, match="zip_levle"):
        BuildArgs(zip_levle=9)


def test_config_keys_and_variables_are_the_declared_ones() -> None:
    assert {s.key for s in SETTINGS if s.in_config} == CONFIG_KEYS
    assert all(s.key == s.name.replace("_", "-") for s in SETTINGS if s.in_config)


@pytest.mark.parametrize("s", [s for s in SETTINGS if s.config_field], ids=lambda s: s.name)
def test_each_setting_given_as_a_flag_reaches_its_config_field(s: Setting, tmp_path: Path) -> None:
    project = _project(tmp_path)
    default = build_config(BuildArgs(), {}, project)
    given = build_config(BuildArgs(**{s.name: sample(s)}), {}, project)
    field = s.config_field
    assert field is not None
    assert getattr(given, field) != getattr(default, field)


@pytest.mark.parametrize("s", [s for s in SETTINGS if s.key and s.config_field],
                         ids=lambda s: s.name)
def test_each_config_key_reads_like_its_flag(s: Setting, tmp_path: Path) -> None:
    project = _project(tmp_path)
    value = sample(s)
    toml = list(value) if isinstance(value, tuple) else value
    literal = repr(toml).replace("'", '"').replace("True", "true").replace("False", "false")
    (project / "pyproject.toml").write_text(f"[tool.lambda-slim]\n{s.key} = {literal}\n")
    field = s.config_field
    assert field is not None
    from_file = build_config(BuildArgs(), {}, project)
    from_flag = build_config(BuildArgs(**{s.name: value}), {}, project)
    assert getattr(from_file, field) == getattr(from_flag, field)


@pytest.mark.parametrize("s", [s for s in SETTINGS if s.env], ids=lambda s: s.name)
def test_each_environment_variable_sets_its_setting(s: Setting, tmp_path: Path) -> None:
    project = _project(tmp_path)
    value = sample(s)
    from_env = build_config(BuildArgs(), {s.env or "": str(value)}, project)
    from_flag = build_config(BuildArgs(**{s.name: value}), {}, project)
    assert from_env == from_flag


def test_limits_and_choices_are_checked_from_the_declaration(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / "pyproject.toml").write_text("[tool.lambda-slim]\nzip-level = 12\n")
    with pytest.raises(ConfigError, match="`zip-level` must be 0-9"):
        build_config(BuildArgs(), {}, project)
    (project / "pyproject.toml").write_text('[tool.lambda-slim]\ninstaller = "conda"\n')
    with pytest.raises(ConfigError, match="`installer` must be one of unpack, pip"):
        build_config(BuildArgs(), {}, project)
    (project / "pyproject.toml").write_text("[tool.lambda-slim]\nmemory = 64\n")
    with pytest.raises(ConfigError, match="128-10240"):
        build_config(BuildArgs(), {}, project)


def _key(config: BuildConfig, project: Path) -> str:
    return result_key(config, read_requirements(project / "requirements.txt"), None, None)


@pytest.mark.parametrize("s", [s for s in SETTINGS if s.name not in BY_CONTENT],
                         ids=lambda s: s.name)
def test_a_setting_is_in_the_result_cache_key_exactly_when_declared_so(s: Setting,
                                                                       tmp_path: Path) -> None:
    project = _project(tmp_path)
    default = _key(build_config(BuildArgs(), {}, project), project)
    given = _key(build_config(BuildArgs(**{s.name: sample(s)}), {}, project), project)
    assert (given != default) is s.cached


def test_a_new_config_field_is_part_of_the_key_without_touching_the_key_code(
        tmp_path: Path) -> None:
    project = _project(tmp_path)
    base = build_config(BuildArgs(), {}, project)
    grown = dataclasses.make_dataclass("GrownConfig", [("new_option", int, 0)],
                                       bases=(BuildConfig,), frozen=True)
    values = {f.name: getattr(base, f.name) for f in dataclasses.fields(BuildConfig)}
    assert _key(grown(**values, new_option=0), project) != _key(
        grown(**values, new_option=1), project)


def test_the_key_leaves_out_only_what_is_listed(tmp_path: Path) -> None:
    unkeyed = unkeyed_fields()
    assert set(NOT_KEYED) <= set(FIELDS) and set(BY_CONTENT) <= set(FIELDS)
    assert unkeyed - set(NOT_KEYED) - set(BY_CONTENT) == {
        s.config_field for s in SETTINGS if not s.cached}
    assert BY_NAME["output"].cached is False and BY_NAME["budget"].cached is True


def test_the_key_does_not_depend_on_set_order(tmp_path: Path) -> None:
    project = _project(tmp_path)
    config = build_config(BuildArgs(), {}, project)
    again = dataclasses.replace(config, rules=frozenset(sorted(config.rules, reverse=True)))
    assert _key(config, project) == _key(again, project)
