"""Issue 19: mutated lock files, pyprojects and requirements files fed to ``lambda-slim build``
exit 2 (bad input) or get as far as looking for tools (valid input) — never 70 (a crash) or 1.

The tool lookup is replaced by one that stops the build (exit 6), so no example reaches pip:
whatever the reader accepted has already been validated and written for pip by then, and that
written file is checked too (every line one the writer builds itself).
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambda_slim.build import start
from lambda_slim.cli import main
from lambda_slim.errors import EXIT_TOOL_MISSING, EXIT_USAGE, ToolMissingError
from lambda_slim.inputs.pip_lines import check_lines

H = "b" * 64
URL = "https://files.example/six-1.16.0-py2.py3-none-any.whl"
IDNA = "https://files.example/idna-3.10-py3-none-any.whl"
BASES: dict[str, Any] = {
    "uv.lock": {
        "version": 1, "requires-python": ">=3.10",
        "package": [
            {"name": "app", "version": "0.1.0", "source": {"virtual": "."},
             "dependencies": [{"name": "six"}, {"name": "idna", "marker": "sys_platform == 'linux'"}]},
            {"name": "six", "version": "1.16.0", "source": {"registry": "https://pypi.org/simple"},
             "wheels": [{"url": URL, "hash": f"sha256:{H}"}]},
            {"name": "idna", "version": "3.10", "source": {"url": IDNA},
             "wheels": [{"url": IDNA, "hash": f"sha256:{H}"}]},
        ],
    },
    "poetry.lock": {
        "package": [{"name": "six", "version": "1.16.0", "description": "", "optional": False,
                     "python-versions": "*", "groups": ["main"],
                     "files": [{"file": "six-1.16.0-py2.py3-none-any.whl", "hash": f"sha256:{H}"}]}],
        "metadata": {"lock-version": "2.1", "python-versions": ">=3.10", "content-hash": H},
    },
    "Pipfile.lock": {
        "_meta": {"hash": {"sha256": H}, "pipfile-spec": 6, "requires": {},
                  "sources": [{"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": True}]},
        "default": {"six": {"hashes": [f"sha256:{H}"], "index": "pypi", "version": "==1.16.0"}},
        "develop": {},
    },
    "pylock.toml": {
        "lock-version": "1.0", "created-by": "hand",
        "packages": [{"name": "six", "version": "1.16.0",
                      "wheels": [{"url": URL, "hashes": {"sha256": H}}]}],
    },
    "pyproject.toml": {
        "project": {"name": "app", "version": "0",
                    "dependencies": ["six==1.16.0", "idna>=3; python_version >= '3.8'"],
                    "optional-dependencies": {"x": ["attrs"]}},
        "dependency-groups": {"dev": ["pytest"]},
    },
}
HOSTILE: list[Any] = [
    "", "1.0\n--index-url https://evil.example/simple", "-e .", "--hash=sha256:" + H,
    "file:///tmp/evil-src", "../evil", "/etc/passwd", "git+https://git.example/evil",
    "https://files.example/evil-1.0.tar.gz", "six @ file:///tmp/x", "x" * 5000, "é\u0000\u2028",
    0, -1, 2**63 - 1, 1.5, math.nan, math.inf, True, None, [], {}, [[[[[[]]]]]], {"a": {"b": {}}},
    ["sha256:" + "z" * 64], {"url": "file:///x"}, {"virtual": "."}, {"editable": "."},
]

def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return "nan" if isinstance(v, float) and math.isnan(v) else \
            ("inf" if v == math.inf else repr(v))
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    return '""'  # TOML has no null

def _toml(doc: dict[str, Any]) -> str:
    return "".join(f"{json.dumps(k)} = {_toml_value(v)}\n" for k, v in doc.items())

def _paths(v: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [at]
    if isinstance(v, dict):
        for k, x in v.items():
            out += _paths(x, (*at, k))
    elif isinstance(v, list):
        for i, x in enumerate(v):
            out += _paths(x, (*at, i))
    return out

def _replace(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy: Any = dict(doc) if isinstance(doc, dict) else list(doc)
    copy[path[0]] = _replace(copy[path[0]], path[1:], value)
    return copy

@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str]:
    name = draw(st.sampled_from([*BASES, "requirements.txt"]))
    if name == "requirements.txt":
        lines = ["six==1.16.0", "idna>=3 ; python_version >= '3.8'", "--index-url https://pypi.org/simple"]
        i = draw(st.integers(0, len(lines)))
        lines.insert(i, draw(st.sampled_from([h for h in HOSTILE if isinstance(h, str)])
                             | st.text(max_size=40)))
        return name, "\n".join(lines) + "\n"
    doc = BASES[name]
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(doc)))
        value = draw(st.sampled_from(HOSTILE) | st.text(max_size=30) | st.integers())
        doc = _replace(doc, path, value)
    if not isinstance(doc, dict):
        doc = {"x": doc}
    if name == "Pipfile.lock":
        return name, json.dumps(doc)
    return name, _toml(doc)

@pytest.fixture
def no_tools(monkeypatch: pytest.MonkeyPatch) -> None:
    def stop(*_a: object, **_k: object) -> None:
        raise ToolMissingError("fuzz: inputs accepted, stopping before any tool or pip runs")
    monkeypatch.setattr(start, "check_tools", stop)

def _build(folder: Path, name: str) -> int:
    return main(["build", str(folder / name), "-q", "-o", str(folder / "out.zip"),
                 "--cache-dir", str(folder / "cache")])

@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=mutated())
def test_mutated_inputs_exit_2_or_reach_the_tools_never_crash(
        case: tuple[str, str], no_tools: None, capsys: pytest.CaptureFixture[str]) -> None:
    name, text = case
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / name).write_text(text, encoding="utf-8", errors="surrogatepass")
        code = _build(folder, name)
        err = capsys.readouterr().err
        assert code in (EXIT_USAGE, EXIT_TOOL_MISSING), (code, name, text[:500], err)
        assert "internal error" not in err.lower(), err
        for written in (folder / "cache" / "inputs").glob("*.txt"):
            check_lines(written.read_text().splitlines())  # only lines the writer builds
        assert not (folder / "out.zip").exists()

def test_the_unmutated_bases_reach_the_tools(no_tools: None, tmp_path: Path) -> None:
    """The fuzz starts from inputs that are valid: a mutation is what makes them fail."""
    for name, doc in BASES.items():
        (tmp_path / name).write_text(json.dumps(doc) if name == "Pipfile.lock" else _toml(doc))
        assert _build(tmp_path, name) == EXIT_TOOL_MISSING, name
        (tmp_path / name).unlink()

Checker = Callable[[list[str]], None]
