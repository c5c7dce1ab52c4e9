from __future__ import annotations

import os
from pathlib import Path

import pytest

from lambda_slim.errors import InputError
from lambda_slim.rules import RULES, PruneContext
from lambda_slim.rules.dist_info import minimal_metadata
from lambda_slim.rules.plan import is_kept, make_plan
from lambda_slim.tree.inventory import read_inventory
from lambda_slim.tree.staging import Staging

LONG_METADATA = (
    "Metadata-Version: 2.1\nName: Demo-Pkg\nVersion: 1.2.3\nRequires-Dist: six\n"
    "Classifier: Programming Language :: Python\nLicense-File: LICENSE\n\n" + "long text\n" * 500
)


def make_tree(root: Path) -> Path:
    """A pip --target style tree with two distributions and a bit of everything."""
    files = {
        "demo/__init__.py": "from . import testing\n",
        "demo/testing.py": "X = 1\n",
        "demo/_testing/__init__.py": "",
        "demo/core.py": "import demo.sub.tests.helper\n",
        "demo/sub/__init__.py": "",
        "demo/sub/tests/__init__.py": "",
        "demo/sub/tests/helper.py": "H = 1\n",
        "demo/sub/tests/test_big.py": "x = 1\n" * 1000,
        "demo/tests/__init__.py": "",
        "demo/tests/test_a.py": "assert True\n" * 100,
        "demo/__pycache__/core.cpython-312.pyc": "junk",
        "demo/ext.c": "int x;",
        "demo/ext.pyi": "x: int",
        "demo/include/demo.h": "#define X",
        "demo/data.json": "{}",
        "bin/demo-cli": "#!/usr/bin/python\n",
        "demo_pkg-1.2.3.dist-info/METADATA": LONG_METADATA,
        "demo_pkg-1.2.3.dist-info/RECORD": "",
        "demo_pkg-1.2.3.dist-info/WHEEL": "Wheel-Version: 1.0\n",
        "demo_pkg-1.2.3.dist-info/INSTALLER": "pip\n",
        "demo_pkg-1.2.3.dist-info/entry_points.txt": "[console_scripts]\ndemo=demo:main\n",
        "demo_pkg-1.2.3.dist-info/licenses/LICENSE": "MIT\n",
        "botocore/__init__.py": "",
        "botocore/data.json": "{}" * 100,
        "botocore-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: botocore\nVersion: 1.0\n",
        "botocore-1.0.dist-info/RECORD": "",
    }
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    record = "\n".join(f"{r},," for r in files if r.startswith(("demo/", "demo_pkg")))
    (root / "demo_pkg-1.2.3.dist-info/RECORD").write_text(record + "\n")
    (root / "botocore-1.0.dist-info/RECORD").write_text(
        "botocore/__init__.py,,\nbotocore/data.json,,\nbotocore-1.0.dist-info/METADATA,,\n"
    )
    return root


def plan_for(tmp_path: Path, rules: set[str] | None = None, keep: tuple[str, ...] = (),
             requested: frozenset[str] = frozenset({"demo-pkg"})) -> dict[str, str]:
    root = make_tree(tmp_path / "python")
    inv = read_inventory(root)
    ctx = PruneContext(inv, requested, tmp_path / "scratch")
    plan = make_plan(ctx, rules or set(RULES), keep)
    return {e.rel: e.rule for e in plan}


def test_inventory_owners_and_modules(tmp_path: Path) -> None:
    inv = read_inventory(make_tree(tmp_path / "python"))
    assert inv.owner["demo/core.py"] == "demo-pkg"
    assert inv.owner["botocore/data.json"] == "botocore"
    assert "bin/demo-cli" not in inv.owner
    assert inv.dists["demo-pkg"].top_level == ("demo",)
    assert inv.dists["demo-pkg"].version == "1.2.3"


def test_rules_pick_the_right_files(tmp_path: Path) -> None:
    plan = plan_for(tmp_path)
    assert plan["demo/__pycache__/core.cpython-312.pyc"] == "bytecode"
    assert plan["demo/tests/test_a.py"] == "tests"
    assert plan["demo/sub/tests/test_big.py"] == "tests"
    assert plan["demo/ext.c"] == plan["demo/ext.pyi"] == plan["demo/include/demo.h"] == "sources"
    assert plan["botocore/data.json"] == "runtime-provided"
    assert plan["bin/demo-cli"] == "scripts"
    assert plan["demo_pkg-1.2.3.dist-info/RECORD"] == "dist-info"
    assert plan["demo_pkg-1.2.3.dist-info/METADATA"] == "dist-info"  # replaced, not removed
    # never: testing modules, runtime-imported test helpers, licenses, entry points, data
    for kept in ("demo/testing.py", "demo/_testing/__init__.py", "demo/sub/tests/helper.py",
                 "demo/sub/tests/__init__.py", "demo_pkg-1.2.3.dist-info/licenses/LICENSE",
                 "demo_pkg-1.2.3.dist-info/entry_points.txt", "demo/data.json"):
        assert kept not in plan, kept


def test_requested_runtime_package_is_kept(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, requested=frozenset({"demo-pkg", "botocore"}))
    assert "botocore/data.json" not in plan


def test_disabled_rule_and_keep_glob(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, rules=set(RULES) - {"tests"}, keep=("demo/include",))
    assert "demo/tests/test_a.py" not in plan
    assert "demo/include/demo.h" not in plan
    assert is_kept("a/b/c.py", ("a/*",)) and not is_kept("x/b.py", ("a/*",))


def test_minimal_metadata_keeps_name_version_requires() -> None:
    out = minimal_metadata(LONG_METADATA)
    assert "Name: Demo-Pkg" in out and "Version: 1.2.3" in out and "Requires-Dist: six" in out
    assert "Classifier" not in out and "long text" not in out


def test_apply_and_restore_roundtrip(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "python")
    before = {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    inv = read_inventory(root)
    plan = make_plan(PruneContext(inv, frozenset(), tmp_path / "scratch"), set(RULES), ())
    st = Staging(root, tmp_path / "trash")
    st.apply(plan)
    assert not (root / "demo/tests").exists()  # emptied folders go too
    meta = (root / "demo_pkg-1.2.3.dist-info/METADATA").read_text()
    assert "long text" not in meta and "Version: 1.2.3" in meta
    st.restore(plan)
    after = {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    assert after == before
    assert not st.applied_entries()


def test_metadata_still_readable_after_pruning(tmp_path: Path) -> None:
    import importlib.metadata as md

    root = make_tree(tmp_path / "python")
    inv = read_inventory(root)
    plan = make_plan(PruneContext(inv, frozenset(), tmp_path / "scratch"), set(RULES), ())
    Staging(root, tmp_path / "trash").apply(plan)
    dist = md.Distribution.at(root / "demo_pkg-1.2.3.dist-info")
    assert dist.version == "1.2.3"
    assert [ep.name for ep in dist.entry_points] == ["demo"]


def test_staging_refuses_paths_outside(tmp_path: Path) -> None:
    root = tmp_path / "python"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep me")
    os.symlink(outside, root / "link")
    st = Staging(root, tmp_path / "trash")
    from lambda_slim.tree.staging import PlanEntry

    for rel in ("../outside/precious.txt", "/etc/passwd", "link/precious.txt"):
        with pytest.raises(InputError):
            st.apply([PlanEntry(rel, "tests", 1)])
    assert (outside / "precious.txt").read_text() == "keep me"
    # the link itself is moved, never its target
    st.apply([PlanEntry("link", "tests", 1)])
    assert not os.path.lexists(root / "link")
    assert (outside / "precious.txt").exists()
