"""Environment markers are judged for the target, with real pip against PyPI (issue 12)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from lambda_slim.inputs.lock_model import judge
from lambda_slim.inputs.locks import lock_target
from lambda_slim.inputs.requirements import read_requirements
from lambda_slim.resolve.install import resolve
from lambda_slim.resolve.markers import pip_command
from lambda_slim.target.proc import run
from lambda_slim.target.python import Interpreter
from lambda_slim.target.runtimes import parse_target
from tests.wheels import make_wheel

RunCli = Callable[..., int]
MACHINE_MARKERS = 'idna; platform_machine == "aarch64"\nattrs; platform_machine == "x86_64"\n'


def _resolved(req: Path, runtime: str, arch: str, cache: Path,
              interp: Interpreter | None = None) -> set[str]:
    target = parse_target(runtime, arch)
    interp = interp or Interpreter(Path(sys.executable), sys.version_info[:2])
    res = resolve(read_requirements(req), target, interp, cache, run, dict(os.environ))
    return {w.name for w in res.wheels}


@pytest.mark.parametrize(("arch", "want", "not_want"),
                         [("arm64", "idna", "attrs"), ("x86_64", "attrs", "idna")])
def test_requirement_lines_are_judged_for_the_target_arch(
    tmp_path: Path, tmp_cache: Path, run_cli: RunCli, arch: str, want: str, not_want: str
) -> None:
    """The issue's case, through the CLI: an arm64 layer gets idna and not attrs, and the
    x86_64 layer the reverse, whatever machine builds it."""
    (tmp_path / "requirements.txt").write_text(MACHINE_MARKERS)
    code = run_cli("build", "--runtime", "python3.11", "--arch", arch, "-o",
                   str(tmp_path / "l.zip"), "--json", str(tmp_path / "r.json"), "-q",
                   "--no-strip", cwd=tmp_path)
    assert code == 0
    names = {w["name"] for w in json.loads((tmp_path / "r.json").read_text())["resolved"]}
    assert want in names and not_want not in names, names


@pytest.mark.parametrize(("arch", "want", "not_want"),
                         [("arm64", "idna", "attrs"), ("x86_64", "attrs", "idna")])
def test_dependency_markers_are_judged_for_the_target_arch(
    tmp_path: Path, arch: str, want: str, not_want: str
) -> None:
    """A transitive Requires-Dist with a machine marker (a real wheel from --find-links)."""
    house = tmp_path / "house"
    make_wheel(house, "machdep", "1.0", {"machdep/__init__.py": ""},
               requires=('idna; platform_machine == "aarch64"',
                         'attrs; platform_machine == "x86_64"'))
    req = tmp_path / "requirements.txt"
    req.write_text(f"--find-links {house}\nmachdep\n")
    names = _resolved(req, "python3.11", arch, tmp_path / "cache")
    assert "machdep" in names and want in names and not_want not in names, names


def test_python_version_markers_follow_the_target_not_the_running_python(tmp_path: Path) -> None:
    """pip running under this Python (3.11) for a python3.12 target: `python_version` is 3.12
    for the lines and for the dependencies."""
    assert sys.version_info[:2] != (3, 12)
    house = tmp_path / "house"
    make_wheel(house, "verdep", "1.0", {"verdep/__init__.py": ""},
               requires=('idna; python_version >= "3.12"', 'attrs; python_version < "3.12"'))
    req = tmp_path / "requirements.txt"
    req.write_text(f"--find-links {house}\nverdep\nsix; python_version == '3.12'\n")
    names = _resolved(req, "python3.12", "x86_64", tmp_path / "cache")
    assert {"verdep", "idna", "six"} <= names and "attrs" not in names, names


def test_bootstrap_sets_every_target_marker() -> None:
    """What pip itself reports as its marker environment (`pip inspect`) under the bootstrap:
    the target's, also for the running interpreter's own X.Y (no patch release or kernel of
    this machine leaks in)."""
    for target in (parse_target("python3.12", "arm64"),
                   parse_target(f"python{sys.version_info[0]}.{sys.version_info[1]}", "x86_64")):
        env = target.marker_environment()
        out = subprocess.run([*pip_command(sys.executable, env), "inspect", "--local"],
                             capture_output=True, text=True, check=True)
        seen = json.loads(out.stdout)["environment"]
        assert {k: seen[k] for k in env} == env
        assert seen["python_full_version"] == seen["implementation_version"] == (
            env["python_version"] + ".0")


def test_pip_and_the_lock_reader_judge_markers_alike(tmp_path: Path) -> None:
    """Real pip resolving a wheel whose dependencies carry machine, patch-release and kernel
    markers installs exactly the ones the lock reader judges true for the same target, for
    the running interpreter's own X.Y (where pip's host values used to leak in) and another."""
    deps = {"idna": 'platform_machine == "aarch64"', "attrs": 'platform_machine == "x86_64"',
            "six": 'python_full_version >= "{v}.1"', "packaging": 'python_full_version < "{v}.1"',
            "tomli": 'platform_release == ""', "iniconfig": 'platform_release != ""'}
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    for runtime, arch in ((f"python{here}", "arm64"), ("python3.12", "x86_64")):
        target = parse_target(runtime, arch)
        v = target.runtime.python_str
        house = tmp_path / runtime / arch
        reqs = tuple(f"{n}; {m.format(v=v)}" for n, m in deps.items())
        make_wheel(house, "markdep", "1.0", {"markdep/__init__.py": ""}, requires=reqs)
        req = house / "requirements.txt"
        req.write_text(f"--find-links {house}\nmarkdep\n")
        by_pip = _resolved(req, runtime, arch, tmp_path / "cache") - {"markdep"}
        lock = lock_target(target)
        by_lock = {n for n, m in deps.items() if judge(m.format(v=v), lock, "test")}
        assert by_pip == by_lock, (runtime, arch, by_pip, by_lock)
        assert ("idna" in by_pip) == (arch == "arm64") and "packaging" in by_pip
        assert "tomli" in by_pip and not {"six", "iniconfig"} & by_pip
