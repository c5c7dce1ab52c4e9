"""Small real projects locked by the real uv and Poetry (test-only tools, never used by
lambda-slim): groups, extras, a marker that differs between x86_64 and aarch64, one Python
version marker and a hash-pinned wheel URL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent
SIX_URL = ("https://files.pythonhosted.org/packages/d9/5a/e7c31adbe875f2abbb91bd84cf2dc52d792b5a01506781dbcf25c91daf11/"
           "six-1.16.0-py2.py3-none-any.whl")
SIX_SHA = "8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254"
DEPS = f"""dependencies = [
    "six @ {SIX_URL}#sha256={SIX_SHA}",
    "idna==3.10; platform_machine == 'aarch64'",
    "attrs==25.3.0; python_version < '3.12'",
]
[project.optional-dependencies]
fmt = ["packaging==25.0"]
"""
UV_PYPROJECT = f"""[project]
name = "uvdemo"
version = "0.1.0"
requires-python = ">=3.10"
{DEPS}
[dependency-groups]
dev = ["iniconfig==2.1.0"]
aws = ["jmespath==1.0.1"]
lint = [{{include-group = "dev"}}, "pyparsing==3.2.3"]

[tool.uv]
default-groups = ["dev", "aws"]
"""
POETRY_PYPROJECT = f"""[project]
name = "pdemo"
version = "0.1.0"
requires-python = ">=3.10"
{DEPS}
[tool.poetry]
package-mode = false

[tool.poetry.group.dev.dependencies]
iniconfig = "2.1.0"

[tool.poetry.group.lint.dependencies]
pyparsing = "3.2.3"

# pypi.org's JSON API is not served on every network; its simple index always is
[[tool.poetry.source]]
name = "pypi-simple"
url = "https://pypi.org/simple/"
priority = "primary"
"""
def run(argv: list[str], cwd: Path) -> str:
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{argv}: {proc.stdout}\n{proc.stderr}"
    return proc.stdout


def locked_project(root: Path, pyproject: str, tool: str) -> Path:
    """``root`` with ``pyproject`` locked by the real ``uv lock`` or ``poetry lock``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(pyproject)
    run([str(BIN / "uv"), "lock", "-q"] if tool == "uv" else [str(BIN / "poetry"), "lock", "-n"], root)
    return root
