"""One marker environment: pip's bootstrap, the lock readers, the dependency graph (variants,
over-budget options, ``why``) all judge a marker with ``Target.marker_environment()``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from packaging.markers import Marker, default_environment
from packaging.requirements import Requirement

import lambda_slim
from lambda_slim.inputs.lock_model import LockTarget, judge
from lambda_slim.inputs.locks import lock_target
from lambda_slim.resolve.depgraph import applicable
from lambda_slim.resolve.markers import pip_command
from lambda_slim.target.runtimes import RUNTIMES, Target, parse_target

TARGETS = [parse_target(rt, arch) for rt in RUNTIMES for arch in ("x86_64", "arm64")]
MARKERS = [
    'platform_machine == "aarch64"', 'platform_machine == "x86_64"',
    'python_full_version >= "3.12.1"', 'python_full_version < "3.12.1"',
    'python_version >= "3.12"', 'implementation_version == "3.11.0"',
    'platform_release == ""', 'platform_version != ""', 'sys_platform == "linux"',
    'os_name == "nt"', 'platform_system == "Darwin"', 'implementation_name == "pypy"',
    'platform_python_implementation == "CPython" and python_version < "3.11"',
]


def bootstrap_environment(target: Target) -> dict[str, str]:
    """The environment pip's bootstrap is handed (argv[1] of ``python -c BOOTSTRAP``)."""
    cmd = pip_command("python3", target.marker_environment())
    assert cmd[1] == "-c"
    return dict(json.loads(cmd[3]))


def test_every_pep508_variable_is_set_so_nothing_falls_back_to_the_build_machine() -> None:
    for target in TARGETS:
        env = target.marker_environment()
        assert set(default_environment()) - {"extra"} <= set(env)
        major, minor = target.runtime.python
        assert env["python_version"] == f"{major}.{minor}"
        assert env["python_full_version"] == env["implementation_version"] == f"{major}.{minor}.0"
        assert env["platform_machine"] == target.machine
        assert (env["sys_platform"], env["platform_system"], env["os_name"]) == ("linux", "Linux", "posix")
        assert env["platform_release"] == env["platform_version"] == ""
        assert bootstrap_environment(target) == env


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: f"{t.runtime.name}-{t.arch}")
def test_the_three_former_environments_judge_every_marker_alike(target: Target) -> None:
    """The lock reader (``judge``), the dependency graph (variants, options, ``why``) and
    pip's bootstrap environment give the same answer for every marker."""
    lock = lock_target(target)
    boot = bootstrap_environment(target)
    for marker in MARKERS:
        by_lock = judge(marker, lock, "test")
        by_graph = applicable(Requirement(f"x; {marker}"), target.marker_environment(), ())
        by_pip = Marker(marker).evaluate(boot)
        assert by_lock == by_graph == by_pip, (marker, by_lock, by_graph, by_pip)


def test_lock_target_and_runtime_target_share_one_environment() -> None:
    lock = LockTarget((3, 12), "aarch64")
    assert lock.target.marker_environment() == parse_target("python3.12", "arm64").marker_environment()
    assert lock.python_full_version == "3.12.0" and lock.python_version == "3.12"
    # a Python Lambda does not run (a lock's requires-python check) still has markers
    assert LockTarget((3, 9), "x86_64").target.marker_environment()["python_version"] == "3.9"


def test_one_definition_computes_the_marker_environment() -> None:
    """``grep -rn "def marker_environment\\|def .*environment" lambda_slim`` finds one line."""
    root = Path(lambda_slim.__file__).parent
    pattern = re.compile(r"def marker_environment|def .*environment")
    defs = [f"{p.relative_to(root)}:{line.strip()[:40]}" for p in sorted(root.rglob("*.py"))
            for line in p.read_text().splitlines() if pattern.search(line)]
    assert defs == ["target/runtimes.py:def marker_environment(self) -> dict[str"], defs
