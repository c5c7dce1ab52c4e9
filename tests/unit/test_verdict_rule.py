"""The verdict rule with fake probe results: what a function uses is refused, optional parts
are warnings (errors with strict), and pruning never gets excused.

The child interpreter is a fake runner that answers the real import-check protocol from
what the staged tree holds, so the real Prober, differential diagnosis and verdict run.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

from lambda_slim.errors import EXIT_NATIVE, EXIT_VERIFY, LambdaSlimError
from lambda_slim.native.closure import ClosureResult, ElfDeps, Miss, audit_closure
from lambda_slim.progress import NullProgress
from lambda_slim.target.measure import MARK
from lambda_slim.target.python import Interpreter, TargetPython
from lambda_slim.target.syslibs import runtime_syslibs
from lambda_slim.tree.inventory import read_inventory
from lambda_slim.tree.staging import PlanEntry, Staging
from lambda_slim.verify import probes
from lambda_slim.verify.diagnose import verify_tree
from lambda_slim.verify.verdict import judge_closure, own_imports, signature, split_failures

#: module -> error given the layer root (None: it imports)
Behaviour = Callable[[Path, str], "str | None"]


def _tp(behaviour: Behaviour, loaded: Sequence[str] = ()) -> TargetPython:
    def runner(cmd: Sequence[str], *, cwd: Path | None = None,
               env: Mapping[str, str] | None = None,
               timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        code = cmd[cmd.index("-c") + 1]
        if code != probes._IMPORT_CHECK:  # the init-time measurement
            out = "\n" + MARK + json.dumps({"init_s": 0.1, "rss": 2**20}) + "\n"
            return subprocess.CompletedProcess(list(cmd), 0, out, "")
        arg = json.loads(cmd[-1])
        root = Path(arg["paths"][0])
        mods = list(arg["modules"])
        if arg["deep"]:  # public submodules of each package, as the real check finds them
            mods += [f"{m}.{f.stem}" for m in arg["modules"] if (root / m).is_dir()
                     for f in sorted((root / m).glob("*.py")) if not f.stem.startswith("_")]
        res = {m: behaviour(root, m) for m in mods}
        out = "\n@@LAMBDA_SLIM@@" + json.dumps(res) + "\n"
        if arg.get("cold") is not None:  # what the cold imports loaded, as the child saw it
            out += "\n" + probes.LOADED_MARK + json.dumps([f"{root}/{f}" for f in loaded])
        return subprocess.CompletedProcess(list(cmd), 0, out, "")
    return TargetPython(Interpreter(Path("/usr/bin/python3.12"), (3, 12)), {}, runner)


def _tree(tmp_path: Path, dists: Mapping[str, Sequence[str]]) -> Staging:
    """A pip --target tree: distribution -> its files."""
    root = tmp_path / "python"
    for name, files in dists.items():
        di = root / f"{name}-1.0.dist-info"
        di.mkdir(parents=True)
        (di / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        for rel in files:
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text("x")
        (di / "RECORD").write_text("".join(f"{r},,\n" for r in files))
    return Staging(root, tmp_path / "trash")


def _verify(tmp_path: Path, staging: Staging, behaviour: Behaviour, *, plan: Sequence[str] = (),
            strict: bool = False, misses: Sequence[Miss] = (),
            loaded: Sequence[str] = ()) -> probes.VerifyReport:
    inv = read_inventory(staging.root)
    staging.apply([PlanEntry(rel, "tests", 1) for rel in plan])
    return verify_tree(_tp(behaviour, loaded), staging, inv, NullProgress(),
                       requested={"pillow", "foo"}, strict=strict, misses=misses)


PILLOW = {"pillow": ["PIL/__init__.py", "PIL/ImageTk.py", "PIL/_helper.py", "PIL/_unused.py"]}
LIBTK = ("ImportError: libtk8.6.so: cannot open shared object file: No such file or directory")


def _imagetk_needs_libtk(root: Path, mod: str) -> str | None:
    if mod == "PIL.ImageTk":
        return LIBTK if (root / "PIL/_helper.py").exists() else \
            "ModuleNotFoundError: No module named 'PIL._helper'"
    return None


def test_optional_submodule_failing_with_nothing_pruned_is_a_warning(tmp_path: Path) -> None:
    staging = _tree(tmp_path, PILLOW)
    report = _verify(tmp_path, staging, _imagetk_needs_libtk)
    assert report.status == "passed"
    assert [(o.item, o.reason.split(":")[0]) for o in report.optional_failures] == \
        [("PIL.ImageTk", "missing system library libtk8.6.so")]
    assert not report.warnings


def test_strict_refuses_the_optional_part(tmp_path: Path) -> None:
    staging = _tree(tmp_path, PILLOW)
    with pytest.raises(LambdaSlimError) as info:
        _verify(tmp_path, staging, _imagetk_needs_libtk, strict=True)
    assert info.value.exit_code == EXIT_NATIVE  # a missing library: exit 4
    assert "PIL.ImageTk: missing system library libtk8.6.so" in info.value.message


def _imagetk_needs_helper(root: Path, mod: str) -> str | None:
    ok = mod != "PIL.ImageTk" or (root / "PIL/_helper.py").exists()
    return None if ok else "ModuleNotFoundError: No module named 'PIL._helper'"


@pytest.mark.parametrize("behaviour", [_imagetk_needs_libtk, _imagetk_needs_helper])
def test_a_failure_pruning_caused_or_changed_is_never_excused(
        tmp_path: Path, behaviour: Behaviour) -> None:
    """ImageTk fails once pruning removed a file it imports: whether it imports with nothing
    pruned or fails there too but differently (libtk), the differential verdict blames the
    rule and names the file."""
    staging = _tree(tmp_path, PILLOW)
    with pytest.raises(LambdaSlimError) as info:
        _verify(tmp_path, staging, behaviour, plan=["PIL/_unused.py", "PIL/_helper.py"])
    assert info.value.exit_code == EXIT_VERIFY
    assert "rule `tests` removed PIL/_helper.py, imported by PIL.ImageTk" in info.value.message
    assert "_unused" not in info.value.message  # failing as with nothing pruned is no culprit


def test_the_requested_distributions_own_import_is_refused(tmp_path: Path) -> None:
    staging = _tree(tmp_path, PILLOW)
    with pytest.raises(LambdaSlimError) as info:
        _verify(tmp_path, staging, lambda _r, m: "RuntimeError: boom" if m == "PIL" else None)
    assert info.value.exit_code == EXIT_VERIFY
    assert "requested package PIL: RuntimeError: boom" in info.value.message


def test_a_missing_library_of_a_requested_import_is_exit_4_naming_the_file(
        tmp_path: Path) -> None:
    staging = _tree(tmp_path, PILLOW)
    miss = Miss("/opt/python/PIL/_imaging.so", "libtk8.6.so", "pillow", ("provide it",))
    with pytest.raises(LambdaSlimError) as info:
        _verify(tmp_path, staging, lambda _r, m: LIBTK if m == "PIL" else None, misses=[miss])
    assert info.value.exit_code == EXIT_NATIVE
    assert "/opt/python/PIL/_imaging.so (from pillow) needs libtk8.6.so" in info.value.message


def test_extra_top_level_package_and_dependencies_are_optional(tmp_path: Path) -> None:
    staging = _tree(tmp_path, {"foo": ["foo/__init__.py", "foo_contrib/__init__.py"],
                               "olefile": ["olefile.py"]})

    def behaviour(_root: Path, mod: str) -> str | None:
        return "ModuleNotFoundError: No module named 'dask'" if mod in (
            "foo_contrib", "olefile") else None
    report = _verify(tmp_path, staging, behaviour)
    assert sorted(o.item for o in report.optional_failures) == ["foo_contrib", "olefile"]


def test_split_failures_smoke_is_always_essential() -> None:
    fatal, optional = split_failures({"smoke:/x/s.py": "AssertionError", "pkg.opt": "E: x",
                                      "pkg": "E: y"}, {"pkg"})
    assert [i for i, _c in fatal] == ["pkg", "smoke:/x/s.py"]
    assert [i for i, _c in optional] == ["pkg.opt"]
    assert signature("E at 0x7f00aa") == signature("E at 0x55bb01")
    assert signature("OSError: '/tmp/tmpab12_xyz/x' pid 12345") == \
        signature("OSError: '/tmp/tmpq9w8e7r6/x' pid 23456")
    assert signature("E: No module named 'a'") != signature("E: No module named 'b'")


@pytest.mark.parametrize(("dist", "tops", "own"), [
    ("pillow", ["PIL"], ("PIL",)),
    ("PyYAML", ["_yaml", "yaml"], ("yaml",)),
    ("python-dateutil", ["dateutil", "dateutil_extra"], ("dateutil",)),
    ("foo", ["foo", "foo_contrib"], ("foo",)),
    ("Foo-Bar", ["foo_bar", "tools"], ("foo_bar",)),
    ("scikit-learn", ["sklearn", "_distributor_init"], ("sklearn",)),
    ("bundle", ["alpha", "beta", "_native"], ("alpha", "beta")),
    ("bundle", ["_a", "_b"], ("_a", "_b")),
])
def test_own_imports(dist: str, tops: list[str], own: tuple[str, ...]) -> None:
    assert own_imports(dist, tops) == own


SYSLIBS = runtime_syslibs("python3.12", "x86_64")


def _elf(needed: tuple[str, ...] = (), soname: str | None = None,
         rpath: tuple[str, ...] = ()) -> ElfDeps:
    return ElfDeps("x86_64", soname, needed, rpath, ())


def test_closure_unloadable_files_and_the_verdict_by_loadability() -> None:
    elfs = {
        "/opt/python/numba/np/ufunc/omppool.cpython-312-x86_64-linux-gnu.so":
            _elf(("libgomp.so.1", "libc.so.6")),
        "/opt/python/numba/np/ufunc/workqueue.cpython-312-x86_64-linux-gnu.so":
            _elf(("libc.so.6",)),
        # a library that misses its dependency alone but finds it through the RPATH
        # of the extension that loads it: not unloadable
        "/opt/python/pkg/_ext.cpython-312-x86_64-linux-gnu.so":
            _elf(("libinner.so",), rpath=("$ORIGIN", "$ORIGIN/deps")),
        "/opt/python/pkg/libinner.so": _elf(("libdep.so",), soname="libinner.so"),
        "/opt/python/pkg/deps/libdep.so": _elf(soname="libdep.so"),
    }
    result = audit_closure(elfs, SYSLIBS, {k: "numba" for k in elfs})
    omp = "/opt/python/numba/np/ufunc/omppool.cpython-312-x86_64-linux-gnu.so"
    assert result.unloadable == (omp,)
    found = judge_closure(result, set(), SYSLIBS, verified=True, dropped={omp: 2048})
    assert [f.item for f in found] == [omp]
    assert "needs libgomp.so.1" in found[0].reason and "unloadable" in found[0].reason
    with pytest.raises(LambdaSlimError) as info:
        judge_closure(result, {omp}, SYSLIBS, verified=True)
    assert info.value.exit_code == EXIT_NATIVE and "needs libgomp.so.1" in info.value.message
    with pytest.raises(LambdaSlimError):  # nothing verified: nothing shows what loads
        judge_closure(result, set(), SYSLIBS, verified=False)
    assert judge_closure(ClosureResult(3, ()), set(), SYSLIBS, verified=False) == []
