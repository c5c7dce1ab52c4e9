"""Fast checks of the example's declarations: layers, pins, and which code needs which layer."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

from tests.example.envs import EXAMPLE

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!-]+)$")
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "jmespath"}
# import name -> distribution name, for what the handlers import
DIST_OF = {"dateutil": "python-dateutil", "xgboost": "xgboost-cpu", "pymysql": "pymysql"}


def pins(name: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for raw in (EXAMPLE / name).read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = PIN.match(line)
        assert match, f"{name}: {line!r} is not pinned with =="
        found[match.group(1).lower()] = match.group(2)
    return found


def test_pyproject_declares_both_layers() -> None:
    config = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["tool"]["lambda-slim"]
    assert config == {
        "runtime": "python3.12",
        "arch": "x86_64",
        "layers": {
            "features": {
                "requirements": "requirements-features.txt",
                "output": "build/features-layer.zip",
                "budget": "250MiB",
            },
            "scoring": {
                "requirements": "requirements-scoring.txt",
                "output": "build/scoring-layer.zip",
                "budget": "250MiB",
                "smoke": ["smoke.py"],
            },
        },
    }
    for layer in config["layers"].values():
        assert (EXAMPLE / layer["requirements"]).is_file()
        for script in layer.get("smoke", []):
            assert (EXAMPLE / script).is_file()


def test_requirements_are_pinned_and_agree() -> None:
    features, scoring = pins("requirements-features.txt"), pins("requirements-scoring.txt")
    assert scoring["xgboost-cpu"] == "3.4.1" and "xgboost" not in scoring
    assert {"pandas", "numpy", "scipy", "joblib"} <= set(scoring)
    assert {"pandas", "numpy", "pymysql"} <= set(features)
    for shared in set(features) & set(scoring):
        assert features[shared] == scoring[shared], shared
    assert not (set(features) | set(scoring)) & RUNTIME_PROVIDED
    # botocore (from the runtime) requires python-dateutil<3; the layer's copy shadows it.
    assert features["python-dateutil"].startswith("2.")


def _imports(module: Path) -> tuple[set[str], set[str]]:
    """(top-level third-party/stdlib names, sibling modules) imported by a handler module."""
    tree = ast.parse(module.read_text())
    external: set[str] = set()
    local: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            external |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                local |= {node.module} if node.module else {a.name for a in node.names}
            elif node.module:
                external.add(node.module.split(".")[0])
    return external, local


def _closure(entry: str) -> set[str]:
    package = EXAMPLE / "functions"
    seen: set[str] = set()
    todo = [entry]
    external: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        ext, local = _imports(package / f"{name}.py")
        external |= ext
        todo += sorted(local)
    return {n for n in external if n not in sys.stdlib_module_names and n != "__future__"}


def test_each_function_imports_only_its_own_layer_and_the_runtime() -> None:
    for entry, requirements in (
        ("features", "requirements-features.txt"),
        ("scoring", "requirements-scoring.txt"),
    ):
        available = set(pins(requirements)) | RUNTIME_PROVIDED
        needed = {DIST_OF.get(name, name) for name in _closure(entry)}
        assert needed <= available, (entry, needed - available)
    assert "pymysql" not in _closure("scoring")
    assert "xgboost" not in _closure("features")


def test_no_pickles_anywhere_in_the_handlers() -> None:
    for module in (EXAMPLE / "functions").glob("*.py"):
        external, _ = _imports(module)
        assert not external & {"pickle", "cloudpickle", "dill"}, module.name
        assert "joblib.load" not in module.read_text(), module.name
