"""The TargetPython seam: every child run of the target interpreter goes through one object,
and an Isolation sees (and may rewrite) each run. Real interpreters, real subprocesses."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lambda_slim.target.proc import run
from lambda_slim.target.python import (
    HOST,
    Interpreter,
    Launch,
    TargetPython,
    find_interpreter,
)
from lambda_slim.tree.compile import compile_tree
from lambda_slim.verify.probes import check_imports, check_loadable, run_smoke
from lambda_slim.verify.trace import run_trace

HERE = Interpreter(Path(sys.executable), (sys.version_info[0], sys.version_info[1]))


@dataclass
class Recording:
    """Runs like HOST, but records every run, and shows the layer to the child at a
    different (symlinked) path, so a probe that was handed a host path would miss it."""

    alias: Path
    name: str = "recording"
    calls: list[tuple[list[str], Path | None, tuple[Path, ...]]] = field(default_factory=list)

    def wrap(self, argv: Sequence[str], *, env: Mapping[str, str], layer: Path | None,
             paths: Sequence[Path], cwd: Path | None) -> Launch:
        self.calls.append((list(argv), layer, tuple(paths)))
        return Launch(list(argv), dict(env), cwd)

    def inside(self, host_path: Path) -> str:
        return str(host_path).replace(str(self.alias.resolve()), str(self.alias))


def _layer(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "python"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("VALUE = 42\n")
    alias = tmp_path / "opt-python"
    alias.symlink_to(root)
    return root, alias


def test_host_runs_argv_unchanged_without_the_build_machines_python_settings(
        tmp_path: Path) -> None:
    tp = TargetPython(HERE, {"PATH": "/usr/bin:/bin", "PYTHONPATH": "/nowhere", "KEEP": "1"},
                      run)
    out = tp.run(["-c", "import os, sys; print(sys.executable, os.environ.get('PYTHONPATH'),"
                  " os.environ['KEEP'], os.environ['PYTHONDONTWRITEBYTECODE'])"], cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [sys.executable, "None", "1", "1"]
    assert HOST.name == "host" and HOST.inside(tmp_path) == str(tmp_path)


def test_probes_smoke_and_trace_go_through_the_isolation_with_in_child_paths(
        tmp_path: Path) -> None:
    root, alias = _layer(tmp_path)
    iso = Recording(alias)
    tp = TargetPython(HERE, {"PATH": "/usr/bin:/bin"}, run, iso)

    res = check_imports(tp, [root], ["pkg"])
    assert res.passed == ("pkg",) and not res.failed
    argv, layer, _ = iso.calls[-1]
    assert layer == root
    assert str(alias) in argv[-1] and str(root) not in argv[-1]  # the child got its own path

    script = tmp_path / "work" / "smoke.py"
    script.parent.mkdir()
    script.write_text("import pkg\nassert pkg.VALUE == 42\n")
    assert run_smoke(tp, [root], script).ok
    assert iso.calls[-1][1] == root and script.parent in iso.calls[-1][2]

    traced = run_trace(tp, root, [], [script])
    assert traced.ok and "pkg/__init__.py" in traced.touched and "pkg" in traced.modules
    assert len(iso.calls) == 3


def test_load_checks_map_in_child_paths_back_to_host_paths(tmp_path: Path) -> None:
    root, alias = _layer(tmp_path)
    (root / "not-a-library.so").write_bytes(b"not ELF")
    tp = TargetPython(HERE, {"PATH": "/usr/bin:/bin"}, run, Recording(alias))
    res = check_loadable(tp, [root / "not-a-library.so"], layer=root)
    assert list(res) == [str(root / "not-a-library.so")]
    assert res[str(root / "not-a-library.so")]  # dlopen failed, with its reason


def test_compile_runs_on_the_host_even_when_probes_are_isolated(tmp_path: Path) -> None:
    root, alias = _layer(tmp_path)
    iso = Recording(alias)
    added, errors = compile_tree(TargetPython(HERE, {}, run, iso), root, workers=1)
    assert added > 0 and not errors
    assert not iso.calls  # compilation writes into the tree: never inside the isolation
    assert list((root / "pkg" / "__pycache__").iterdir())


def test_interpreter_discovery_probes_through_the_injected_runner() -> None:
    seen: list[list[str]] = []

    def recording_runner(cmd: Sequence[str], *, cwd: Path | None = None,
                         env: Mapping[str, str] | None = None,
                         timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        seen.append(list(cmd))
        return run(cmd, cwd=cwd, env=env, timeout=timeout)

    got = find_interpreter(HERE.version, {"PATH": "/usr/bin:/bin"}, sys.executable,
                           recording_runner)
    assert got == HERE
    assert seen and seen[0][0] == sys.executable
