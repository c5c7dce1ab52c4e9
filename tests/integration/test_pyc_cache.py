"""The bytecode cache: a second compile of the same sources by the same interpreter links
the pycs the first one wrote, byte for byte, and a damaged entry is compiled again (real
python3.12, real compileall)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from lambda_slim.target.proc import run
from lambda_slim.target.python import HOST, Interpreter, TargetPython
from lambda_slim.tree.compile import compile_files

SOURCES = {
    "pkg/__init__.py": "from .core import f\n",
    "pkg/core.py": "def f(x):\n    return x * 2\n" * 50,
    "pkg/sub/__init__.py": "",
    "pkg/bad.py": "def broken(:\n",  # a syntax error: reported, never cached
}


def _tree(base: Path, name: str) -> Path:
    root = base / name / "python"
    for rel, text in SOURCES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def _pycs(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.pyc")}


def test_a_second_compile_links_the_same_pycs(tmp_path: Path, py312: Path) -> None:
    tp = TargetPython(Interpreter(py312, (3, 12)), {}, run, HOST)
    cache = tmp_path / "cache" / "bytecode"
    plain = _tree(tmp_path, "plain")
    ref = compile_files(tp, plain, workers=1)  # no cache: the reference bytes
    first_root, second_root = _tree(tmp_path, "first"), _tree(tmp_path, "second")
    first = compile_files(tp, first_root, workers=2, cache=cache)
    second = compile_files(tp, second_root, workers=2, cache=cache)
    assert _pycs(first_root) == _pycs(second_root) == _pycs(plain) and len(_pycs(plain)) == 3
    assert set(first.added) == set(second.added) == set(ref.added)
    for got in (ref, first, second):  # the broken file is reported every time
        assert len(got.errors) == 1 and "bad.py" in got.errors[0]
    core = second_root / "pkg/__pycache__/core.cpython-312.pyc"
    assert os.stat(core).st_nlink >= 2  # linked from the cache, not compiled
    blobs = {p.stat().st_ino for p in (cache / "blobs").rglob("*") if p.is_file()}
    assert os.stat(core).st_ino in blobs


def test_a_damaged_entry_is_compiled_again(tmp_path: Path, py312: Path) -> None:
    tp = TargetPython(Interpreter(py312, (3, 12)), {}, run, HOST)
    cache = tmp_path / "cache" / "bytecode"
    first_root = _tree(tmp_path, "first")
    compile_files(tp, first_root, workers=1, cache=cache)
    want = _pycs(first_root)
    shutil.rmtree(first_root.parent)  # (its links would keep the blobs' inodes busy)
    for blob in (cache / "blobs").rglob("*"):
        if blob.is_file():
            blob.write_bytes(blob.read_bytes()[:-1] + b"!")
    again = _tree(tmp_path, "again")
    compile_files(tp, again, workers=1, cache=cache)
    assert _pycs(again) == want
    assert os.stat(again / "pkg/__pycache__/core.cpython-312.pyc").st_nlink == 1


def test_the_recorded_path_is_part_of_the_key(tmp_path: Path, py312: Path) -> None:
    """The same source at another path records another co_filename: never shared."""
    tp = TargetPython(Interpreter(py312, (3, 12)), {}, run, HOST)
    cache = tmp_path / "cache" / "bytecode"
    a = tmp_path / "a" / "python"
    b = tmp_path / "b" / "python"
    for root, rel in ((a, "one/m.py"), (b, "two/m.py")):
        (root / rel).parent.mkdir(parents=True)
        (root / rel).write_text("X = 1\n")
    compile_files(tp, a, workers=1, cache=cache)
    compile_files(tp, b, workers=1, cache=cache)
    pa = (a / "one/__pycache__/m.cpython-312.pyc").read_bytes()
    pb = (b / "two/__pycache__/m.cpython-312.pyc").read_bytes()
    assert b"/opt/python/one/m.py" in pa and b"/opt/python/two/m.py" in pb


def test_refresh_compiles_again(tmp_path: Path, py312: Path) -> None:
    tp = TargetPython(Interpreter(py312, (3, 12)), {}, run, HOST)
    cache = tmp_path / "cache" / "bytecode"
    compile_files(tp, _tree(tmp_path, "first"), workers=1, cache=cache)
    root = _tree(tmp_path, "again")
    compile_files(tp, root, workers=1, cache=cache, refresh=True)
    assert os.stat(root / "pkg/__pycache__/core.cpython-312.pyc").st_nlink == 1
