"""The SAM recipe for real: ``sam build`` on examples/sam (``BuildMethod: makefile``, which
needs no Docker) produces exactly lambda-slim's layer and function, file for file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.tools import tool_bin

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sam"
BIN = Path(sys.executable).parent
SAM_CLI = "aws-sam-cli==1.170.0"


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def zip_tree(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist() if not n.endswith("/")}


def test_sam_build_uses_lambda_slim_for_layer_and_function(tmp_path: Path, tmp_cache: Path) -> None:
    sam = tool_bin("aws-sam-cli", SAM_CLI) / "sam"
    project = tmp_path / "sam"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".aws-sam", ".lambda-slim"))
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", SAM_CLI_TELEMETRY="0",
               LAMBDA_SLIM_CACHE_DIR=str(tmp_cache))
    proc = subprocess.run([str(sam), "build"], cwd=project, env=env, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "handler: app.handler imports as Lambda would" in proc.stdout + proc.stderr
    built = project / ".aws-sam" / "build"

    # The same two builds run by hand: SAM's artifacts are these zips, unpacked.
    def lambda_slim(*args: str) -> None:
        done = subprocess.run([str(BIN / "lambda-slim"), "build", "uv.lock", "-q", *args], cwd=project,
                              env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

    lambda_slim("-o", str(tmp_path / "layer.zip"))
    lambda_slim("--function", "src", "--layer-zip", str(tmp_path / "layer.zip"), "--handler",
                "app.handler", "-o", str(tmp_path / "function.zip"))
    layer, function = tree(built / "DepsLayer"), tree(built / "HelloFunction")
    assert layer == zip_tree(tmp_path / "layer.zip")
    assert function == zip_tree(tmp_path / "function.zip")
    # what makes them lambda-slim's: pruned, byte-compiled for the target, deps in the layer only
    assert "python/requests/__init__.py" in layer
    assert "python/requests/__pycache__/__init__.cpython-312.pyc" in layer
    assert not any("/tests/" in n for n in layer)
    assert set(function) == {"app.py", "__pycache__/app.cpython-312.pyc"}
    template = (built / "template.yaml").read_text()
    assert "CodeUri: HelloFunction" in template and "ContentUri: DepsLayer" in template
