"""Choosing the bytecode that ships, on fake trees: which pyc belongs to which source, what
``--compile=imported`` keeps and drops, and what the report says in each mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_slim.build.bytecode import choose_bytecode
from lambda_slim.inputs.config import BuildConfig
from lambda_slim.target.runtimes import parse_target
from lambda_slim.tree.compile import Compiled, keep_imported, source_of
from lambda_slim.verify.diagnose import Judged
from lambda_slim.verify.probes import VerifyReport


@pytest.mark.parametrize(("pyc", "src"), [
    ("pkg/__pycache__/mod.cpython-312.pyc", "pkg/mod.py"),
    ("pkg/__pycache__/__init__.cpython-312.pyc", "pkg/__init__.py"),
    ("__pycache__/six.cpython-312.pyc", "six.py"),
    ("a/b/__pycache__/m.cpython-312.opt-1.pyc", "a/b/m.py"),
    ("pkg/mod.pyc", None),  # sourceless, beside its package: never compile's
    ("pkg/__pycache__/sub/m.cpython-312.pyc", None),
    ("pkg__pycache__/m.cpython-312.pyc", None),
    ("pkg/__pycache__/m.cpython-312.txt", None),
])
def test_source_of(pyc: str, src: str | None) -> None:
    assert source_of(pyc) == src


def _tree(root: Path) -> Compiled:
    added = {}
    for rel in ("pkg/__init__.py", "pkg/core.py", "pkg/lazy.py", "solo/__init__.py", "top.py"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x = 1\n")
        pyc = Path(rel).parent / "__pycache__" / f"{Path(rel).stem}.cpython-312.pyc"
        (root / pyc).parent.mkdir(exist_ok=True)
        (root / pyc).write_bytes(b"p" * (10 + len(rel)))
        added[pyc.as_posix()] = 10 + len(rel)
    (root / "pkg" / "__pycache__" / "shipped.cpython-312.pyc").write_bytes(b"wheel's own")
    return Compiled(added)


def test_keep_imported_drops_only_its_own_pycs_of_what_was_not_loaded(tmp_path: Path) -> None:
    compiled = _tree(tmp_path)
    sel = keep_imported(tmp_path, compiled, {"pkg/__init__.py", "pkg/core.py", "other.py"})
    assert (sel.kept_modules, sel.dropped_modules) == (2, 3)
    assert sel.kept_bytes + sel.dropped_bytes == compiled.bytes
    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.pyc"))
    assert left == ["pkg/__pycache__/__init__.cpython-312.pyc",
                    "pkg/__pycache__/core.cpython-312.pyc",
                    "pkg/__pycache__/shipped.cpython-312.pyc"]  # not ours: untouched
    assert not (tmp_path / "solo" / "__pycache__").exists()  # emptied folders go
    assert not (tmp_path / "__pycache__").exists()
    assert (tmp_path / "pkg" / "lazy.py").is_file()  # sources always stay


def _config(tmp_path: Path, mode: str) -> BuildConfig:
    return BuildConfig(tmp_path / "requirements.txt", parse_target("python3.12", "x86_64"),
                       tmp_path / "layer.zip", compile=mode, cache_dir=tmp_path / "cache",
                       smoke=(tmp_path / "smoke.py",))


def _judged(loaded: frozenset[str] | None) -> Judged:
    return Judged(VerifyReport("passed", "/py", environment="sandbox"), [], ["pkg", "top"],
                  None, loaded, ("app",))


def test_choose_bytecode_per_mode(tmp_path: Path) -> None:
    root = tmp_path / "t"
    root.mkdir()
    compiled = _tree(root)
    timings: dict[str, float] = {}
    for mode in ("all", "traced"):
        got = choose_bytecode(_config(tmp_path, mode), root, compiled, _judged(frozenset()),
                              timings)
        assert (got.mode, got.modules, got.bytes, got.left_as_source) == (
            mode, 5, compiled.bytes, 0)
    for judged, why in ((None, "verification did not run"),
                        (_judged(None), "did not report")):
        got = choose_bytecode(_config(tmp_path, "imported"), root, compiled, judged, timings)
        assert got.modules == 5 and why in got.why and "every module" in got.why
    none = choose_bytecode(_config(tmp_path, "none"), root, None, None, timings)
    assert (none.modules, none.bytes) == (0, 0) and "none" in none.why
    assert len(list(root.rglob("*.pyc"))) == 6  # nothing dropped so far

    got = choose_bytecode(_config(tmp_path, "imported"), root, compiled,
                          _judged(frozenset({"top.py", "pkg/__init__.py"})), timings)
    assert (got.modules, got.left_as_source) == (2, 3)
    assert got.bytes == sum(s for r, s in compiled.added.items()
                            if source_of(r) in ("top.py", "pkg/__init__.py"))
    assert "pkg, top" in got.why and "app" in got.why and "smoke.py" in got.why
    assert "in the sandbox;" in got.why and "3 modules ship as source" in got.why
    assert "compile" in timings
