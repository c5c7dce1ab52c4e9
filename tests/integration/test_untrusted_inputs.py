"""Issue 19 items 1, 5, 7: what a lock file, pyproject or requirements file says never runs
code on the build machine, never adds a line of its own to what pip reads, and never builds an
empty layer by accident.

Each case runs ``lambda-slim build`` for real. A source folder and an sdist whose ``setup.py``
would write a marker file stand in for hostile code: the marker must never appear.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import tarfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from tests.wheels import make_wheel

RunCli = Callable[..., int]
SHA = "a" * 64


@pytest.fixture
def hostile(tmp_path: Path) -> dict[str, Path]:
    """A source folder and an sdist whose setup.py writes ``marker`` if anything runs it."""
    marker = tmp_path / "setup-ran"
    setup = (f"open({str(marker)!r}, 'w').write('ran')\n"
             "from setuptools import setup\nsetup(name='evil', version='1.0')\n")
    src = tmp_path / "evil-src"
    src.mkdir()
    (src / "setup.py").write_text(setup)
    sdist = tmp_path / "evil-1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as tf:
        tf.add(src / "setup.py", "evil-1.0/setup.py")
    return {"marker": marker, "src": src, "sdist": sdist}


def _uv_lock(source: str, version: str = '"1.0"') -> str:
    return f"""version = 1
requires-python = ">=3.10"

[[package]]
name = "app"
version = "0.1.0"
source = {{ virtual = "." }}
dependencies = [{{ name = "evil" }}]

[[package]]
name = "evil"
version = {version}
source = {source}
"""


def _poetry_lock(source: str) -> str:
    return f"""[[package]]
name = "evil"
version = "1.0"
description = ""
optional = false
python-versions = "*"
groups = ["main"]
files = []
{source}

[metadata]
lock-version = "2.1"
python-versions = ">=3.10"
content-hash = "{SHA}"
"""


def _pipfile_lock(entry: dict[str, object]) -> str:
    return json.dumps({"_meta": {"hash": {"sha256": SHA}, "pipfile-spec": 6, "requires": {},
                                 "sources": [{"name": "pypi", "url": "https://pypi.org/simple",
                                              "verify_ssl": True}]},
                       "default": {"evil": entry}, "develop": {}})


def _pylock(body: str) -> str:
    return f"""lock-version = "1.0"
created-by = "hand"

[[packages]]
name = "evil"
{body}
"""


def _cases(h: dict[str, Path]) -> list[tuple[str, str, str, str]]:
    """(file name, content, what the message must name) per format and source kind."""
    folder, sdist = h["src"].as_uri(), h["sdist"].as_uri()
    return [
        ("requirements.txt", f"evil @ {folder}\n", "source folder", "requirements.txt:1"),
        ("requirements.txt", f"{h['sdist']}\n", "not a wheel", "requirements.txt:1"),
        ("uv.lock", _uv_lock(f'{{ url = "{folder}" }}'), "local file (file:) source", "evil"),
        ("uv.lock", _uv_lock(f'{{ url = "{sdist}" }}'), "local file (file:) source", "evil"),
        ("uv.lock", _uv_lock('{ url = "https://files.example/evil-1.0.tar.gz" }'),
         "source archive (sdist)", "evil"),
        ("uv.lock", _uv_lock(f'{{ directory = "{h["src"]}" }}'), "directory source", "evil"),
        ("uv.lock", _uv_lock('{ git = "https://git.example/evil?rev=main#abc" }'), "git source", "evil"),
        ("uv.lock", _uv_lock('{ registry = "https://pypi.org/simple" }',
                             f'"1.0\\n{h["src"]}"'), "not a PEP 440 version", "evil"),
        ("poetry.lock", _poetry_lock(f'[package.source]\ntype = "directory"\nurl = "{h["src"]}"'),
         "directory source", "evil"),
        ("poetry.lock", _poetry_lock(f'[package.source]\ntype = "file"\nurl = "{h["sdist"]}"'),
         "file source", "evil"),
        ("poetry.lock", _poetry_lock('[package.source]\ntype = "url"\n'
                                     'url = "https://files.example/evil-1.0.tar.gz"'),
         "source archive (sdist)", "evil"),
        ("Pipfile.lock", _pipfile_lock({"path": str(h["src"])}), "path source", "default.evil"),
        ("Pipfile.lock", _pipfile_lock({"file": sdist}), "local file (file:) source", "default.evil"),
        ("Pipfile.lock", _pipfile_lock({"version": f"==1.0\n{h['src']}", "hashes": []}),
         "not a PEP 440 version", "default.evil"),
        ("pylock.toml", _pylock(f'directory = {{ path = "{h["src"]}" }}'), "directory source", "evil"),
        ("pylock.toml", _pylock(f'version = "1.0"\n'
                                f'archive = {{ url = "{sdist}", hashes = {{ sha256 = "{SHA}" }} }}'),
         "local file (file:) source", "evil"),
        ("pyproject.toml", f'[project]\nname = "app"\nversion = "0"\ndependencies = ["evil @ {folder}"]\n',
         "local file (file:) source", "evil @ file:"),
        ("pyproject.toml", f'[project]\nname = "app"\nversion = "0"\ndependencies = ["evil @ {sdist}"]\n',
         "local file (file:) source", "evil @ file:"),
        ("pyproject.toml", '[project]\nname = "app"\nversion = "0"\n'
         'dependencies = ["evil @ https://files.example/evil-1.0.tar.gz"]\n',
         "source archive (sdist)", "evil"),
        ("pyproject.toml", '[project]\nname = "app"\nversion = "0"\n'
         'dependencies = ["evil @ git+https://git.example/evil"]\n', "VCS source", "evil"),
    ]


def test_no_input_format_runs_a_setup_py(tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
                                          hostile: dict[str, Path],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    seen = set()
    for i, (name, content, why, entry) in enumerate(_cases(hostile)):
        proj = tmp_path / f"p{i}"
        proj.mkdir()
        (proj / name).write_text(content)
        assert run_cli("build", name, "-q", cwd=proj) == 2, (name, content)
        err = capsys.readouterr().err
        assert why in err and entry in err, (name, err)
        assert "Internal error" not in err and str(tmp_cache) not in err
        assert not hostile["marker"].exists(), f"a setup.py ran for {name}: {content}"
        assert not (proj / "layer.zip").exists()
        seen.add(name)
    assert seen == {"requirements.txt", "uv.lock", "poetry.lock", "Pipfile.lock", "pylock.toml",
                    "pyproject.toml"}


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("uv.lock", _uv_lock('{ registry = "https://pypi.org/simple" }').replace(
        'name = "evil"', 'name = "evil\\n--index-url https://evil.example"'), "not a valid package name"),
    ("uv.lock", _uv_lock('{ registry = "https://pypi.org/simple\\n-e ." }'), "is not an https/http URL"),
    ("uv.lock", _uv_lock('{ url = "https://files.example/evil-1.0-py3-none-any.whl" }'),
     "with no sha256 hash"),
    ("uv.lock", _uv_lock('{ url = "https://files.example/other-1.0-py3-none-any.whl" }'),
     "is a wheel of other, not of evil"),
    ("Pipfile.lock", _pipfile_lock({"version": "==1.0", "hashes": ["sha256:" + "z" * 64]}),
     "is not a sha256 hash"),
])
def test_lock_fields_that_would_inject_into_pip_are_refused(
        name: str, content: str, expected: str, tmp_path: Path, tmp_cache: Path,
        run_cli: RunCli, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / name).write_text(content)
    assert run_cli("build", name, "-q", cwd=tmp_path) == 2
    err = capsys.readouterr().err
    assert expected in err and name in err, err
    assert not (tmp_cache / "inputs").exists() or not any((tmp_cache / "inputs").iterdir())


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("uv.lock", _uv_lock('{ registry = "https://pypi.org/simple" }').replace("version = 1\n",
                                                                              "version = 99\n"),
     "uv.lock format version 99"),
    ("poetry.lock", _poetry_lock("").replace('lock-version = "2.1"', 'lock-version = "10.0"'),
     "lock-version 10.0, a format newer"),
    ("poetry.lock", _poetry_lock("").replace('lock-version = "2.1"', 'lock-version = "3.0"'),
     "lock-version 3.0, a format newer"),
    ("poetry.lock", _poetry_lock("").replace('lock-version = "2.1"', 'lock-version = "1.10"'),
     "written by Poetry 1"),
    ("Pipfile.lock", _pipfile_lock({"version": "==1.0"}).replace('"pipfile-spec": 6', '"pipfile-spec": 99'),
     "pipfile-spec 99"),
    ("pylock.toml", _pylock('version = "1.0"').replace('lock-version = "1.0"', 'lock-version = "2.0"'),
     "lock-version '2.0' is not supported"),
])
def test_unknown_lock_versions_are_refused(name: str, content: str, expected: str, tmp_path: Path,
                                           tmp_cache: Path, run_cli: RunCli,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / name).write_text(content)
    assert run_cli("build", name, "-q", cwd=tmp_path) == 2
    err = capsys.readouterr().err
    assert expected in err, err


@pytest.mark.parametrize("name", ["uv.lock", "Pipfile.lock", "pyproject.toml", "requirements.txt"])
def test_deeply_nested_inputs_are_bad_input_not_a_crash(name: str, tmp_path: Path, tmp_cache: Path,
                                                       run_cli: RunCli,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    depth = 100_000
    if name == "Pipfile.lock":
        text = '{"_meta": {"pipfile-spec": 6}, "default": {"x": ' + "[" * depth + "]" * depth + "}}"
    elif name == "requirements.txt":
        text = "x" + "[" * depth + "\n"
    else:
        text = "version = 1\nx = " + "[" * depth + "]" * depth + "\n"
        if name == "pyproject.toml":
            text = '[project]\nname = "a"\nversion = "0"\ndependencies = ' + "[" * depth + "]" * depth + "\n"
    (tmp_path / name).write_text(text)
    assert run_cli("build", name, "-q", cwd=tmp_path) == 2
    err = capsys.readouterr().err
    assert name in err and "Internal error" not in err, err


def test_a_lock_with_nothing_for_the_target_is_refused_unless_allowed(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
        capsys: pytest.CaptureFixture[str]) -> None:
    lock = _uv_lock('{ registry = "https://pypi.org/simple" }').replace(
        'dependencies = [{ name = "evil" }]',
        "dependencies = [{ name = \"evil\", marker = \"sys_platform == 'win32'\" }]\n"
        'dev-dependencies = { dev = [{ name = "evil" }] }')
    (tmp_path / "uv.lock").write_text(lock)
    assert run_cli("build", "uv.lock", "-q", cwd=tmp_path) == 2
    err = capsys.readouterr().err
    assert "installs nothing for python3.12 x86_64" in err
    assert "evil: marker `sys_platform == 'win32'` does not hold" in err
    assert "group dev is not selected (--group dev)" in err and "--allow-empty" in err
    assert not (tmp_path / "layer.zip").exists()
    # a pyproject whose only dependency is for another machine: the same refusal
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "pyproject.toml").write_text(
        '[project]\nname = "a"\nversion = "0"\n'
        "dependencies = [\"six; platform_machine == 'aarch64'\"]\n")
    assert run_cli("build", "pyproject.toml", "-q", cwd=tmp_path / "p") == 2
    assert "six: marker `platform_machine == \"aarch64\"` does not hold" in capsys.readouterr().err
    # a requirements file whose every line is for another platform: the same refusal
    (tmp_path / "p" / "requirements.txt").write_text(
        "six; sys_platform == 'win32'\nidna; python_version < '3.8'\n")
    assert run_cli("build", "requirements.txt", "-q", cwd=tmp_path / "p") == 2
    err = capsys.readouterr().err
    assert "requirements.txt installs nothing for python3.12 x86_64" in err
    assert "idna: marker `python_version < \"3.8\"` does not hold" in err
    # asked for: an empty layer, built on purpose
    assert run_cli("build", "uv.lock", "-q", "--allow-empty", "--no-sandbox", cwd=tmp_path) == 0
    assert (tmp_path / "layer.zip").exists()


class _Index(http.server.SimpleHTTPRequestHandler):
    asked: ClassVar[list[str]] = []

    def log_message(self, format: str, *args: object) -> None:
        type(self).asked.append(self.path)


@pytest.fixture
def private_index(tmp_path: Path) -> Iterator[tuple[str, list[str], str]]:
    """A PEP 503 index on 127.0.0.1 serving one wheel, ``corp-tiny``; logs every request."""
    root = tmp_path / "index"
    whl = make_wheel(root / "files", "corp-tiny", "1.0", {"corp_tiny/__init__.py": "T = 1\n"})
    digest = hashlib.sha256(whl.read_bytes()).hexdigest()
    (root / "simple" / "corp-tiny").mkdir(parents=True)
    (root / "simple" / "corp-tiny" / "index.html").write_text(
        f'<a href="/files/{whl.name}#sha256={digest}">{whl.name}</a>\n')
    asked: list[str] = []
    handler = type("Handler", (_Index,), {"asked": asked})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *a: handler(*a, directory=str(root)))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple", asked, digest
    finally:
        server.shutdown()
        server.server_close()


def test_a_private_index_serves_only_its_own_packages_and_md5_only_pins_get_a_note(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, private_index: tuple[str, list[str], str],
        capsys: pytest.CaptureFixture[str]) -> None:
    url, asked, digest = private_index
    lock = {"_meta": {"hash": {"sha256": SHA}, "pipfile-spec": 6, "requires": {},
                      "sources": [{"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": True},
                                  {"name": "corp", "url": url, "verify_ssl": True}]},
            "default": {"corp-tiny": {"version": "==1.0", "index": "corp", "hashes": [f"sha256:{digest}"]},
                        "six": {"version": "==1.16.0", "index": "pypi",
                                "hashes": ["md5:" + "0" * 32]}},
            "develop": {}}
    (tmp_path / "Pipfile.lock").write_text(json.dumps(lock))
    assert run_cli("build", "Pipfile.lock", "-q", "--no-sandbox", "--json", "r.json", cwd=tmp_path) == 0
    out = capsys.readouterr()
    assert "no usable sha256 hash for 1 pin(s) (six)" in out.out + out.err
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["requirements"]["unverified"] == ["six"]
    assert any(p["name"] == "six" for p in report["packages"])
    assert any("corp-tiny" in a for a in asked)
    assert not [a for a in asked if "six" in a], f"the private index was asked for six: {asked}"
