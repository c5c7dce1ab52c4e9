"""The ``test-modules`` rule: test-only native modules and conftest.py files go, unless runtime
code imports them; and the ``sources`` rule's static archives (only real ``ar`` files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_slim.rules import RULES, PruneContext
from lambda_slim.rules.plan import make_plan
from lambda_slim.rules.test_modules import extension_module, is_test_module
from lambda_slim.tree.inventory import read_inventory

SO = ".cpython-312-x86_64-linux-gnu.so"


def _plan(root: Path, files: dict[str, str | bytes]) -> dict[str, str]:
    for rel, body in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(body, bytes):
            p.write_bytes(body)
        else:
            p.write_text(body)
    inv = read_inventory(root)
    plan = make_plan(PruneContext(inv, frozenset(), root.parent / "scratch"), set(RULES), ())
    return {e.rel: e.rule for e in plan}


@pytest.mark.parametrize(("rel", "dotted"), [
    (f"numpy/_core/_simd{SO}", "numpy._core._simd"),
    ("pkg/_x.abi3.so", "pkg._x"),
    ("pkg/_x.so", "pkg._x"),
    ("pkg/libfoo.so.1", None),
    ("pkg.libs/libz-1a2b.so", None),
    ("pkg/x.py", None),
    ("pkg/has-dash/_x.so", None),
])
def test_extension_module_names(rel: str, dotted: str | None) -> None:
    assert extension_module(rel) == dotted


@pytest.mark.parametrize(("dotted", "test_only"), [
    ("numpy._core._multiarray_tests", True),
    ("numpy._core._umath_tests", True),
    ("numpy._core._simd", True),
    ("scipy._lib._test_ccallback", True),
    ("scipy.ndimage._ctest", True),
    ("scipy.ndimage._cytest", True),
    ("pandas._libs.testing", False),  # public: pandas._testing imports it at runtime
    ("scipy.sparse.csgraph._shortest_path", False),
    ("pkg._latest", False),
    ("pkg._simd", False),  # only numpy's _simd is known to be test-only
])
def test_test_module_names(dotted: str, test_only: bool) -> None:
    assert is_test_module(dotted) is test_only


def test_test_modules_go_unless_runtime_code_imports_them(tmp_path: Path) -> None:
    root = tmp_path / "python"
    plan = _plan(root, {
        "demo/__init__.py": "from . import core\n",
        "demo/core.py": "def f():\n    from demo._core._used_tests import x\n    return x\n",
        f"demo/_core/_used_tests{SO}": b"\x7fELF used",
        f"demo/_core/_unused_tests{SO}": b"\x7fELF unused",
        f"demo/_core/_test_helper{SO}": b"\x7fELF helper",
        f"demo/_libs/testing{SO}": b"\x7fELF public",
        # a test folder or conftest importing one does not keep it
        "demo/conftest.py": "from demo._core import _test_helper\n",
        "demo/sub/conftest.py": "import pytest\n",
        "demo/tests/test_x.py": "from demo._core import _unused_tests\n",
    })
    assert plan[f"demo/_core/_unused_tests{SO}"] == "test-modules"
    assert plan[f"demo/_core/_test_helper{SO}"] == "test-modules"
    assert plan["demo/conftest.py"] == "test-modules"
    assert plan["demo/sub/conftest.py"] == "test-modules"
    assert f"demo/_core/_used_tests{SO}" not in plan  # demo.core imports it
    assert f"demo/_libs/testing{SO}" not in plan
    assert "demo/core.py" not in plan


def test_disabled_test_modules_rule_keeps_them(tmp_path: Path) -> None:
    root = tmp_path / "python"
    (root / "demo").mkdir(parents=True)
    (root / "demo" / f"_x_tests{SO}").write_bytes(b"\x7fELF")
    inv = read_inventory(root)
    plan = make_plan(PruneContext(inv, frozenset(), tmp_path / "scratch"),
                     set(RULES) - {"test-modules"}, ())
    assert plan == []


def test_static_archives_go_only_when_they_are_ar_files(tmp_path: Path) -> None:
    plan = _plan(tmp_path / "python", {
        "demo/__init__.py": "",
        "demo/lib/libdemo.a": b"!<arch>\n" + b"\0" * 64,
        "demo/data/table.a": b"not an archive",
    })
    assert plan["demo/lib/libdemo.a"] == "sources"
    assert "demo/data/table.a" not in plan
