"""Lock-file and pyproject reading without the network: hand-written files in each format,
the errors each bad input gets, and the pylock reader with and without ``packaging.pylock``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambda_slim.errors import InputError
from lambda_slim.inputs import lock_pylock
from lambda_slim.inputs.locks import (
    LockedInput,
    LockTarget,
    ProjectInput,
    Selection,
    detect,
    find_input,
    read_input,
)

X86 = LockTarget((3, 12), "x86_64")
ARM = LockTarget((3, 12), "aarch64")
H1, H2, H3 = "a" * 64, "b" * 64, "c" * 64

PIPFILE_LOCK = {
    "_meta": {"hash": {"sha256": "0" * 64}, "pipfile-spec": 6, "requires": {"python_version": "3.12"},
              "sources": [{"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": True},
                          {"name": "corp", "url": "https://pypi.corp.example/simple/", "verify_ssl": True}]},
    "default": {
        "six": {"hashes": [f"sha256:{H1}"], "index": "pypi", "version": "==1.16.0"},
        "idna": {"hashes": [f"sha256:{H2}"], "index": "corp", "markers": "platform_machine == 'aarch64'",
                 "version": "==3.10"},
    },
    "develop": {"pytest": {"hashes": [f"sha256:{H3}"], "version": "==8.3.0"}},
}

PYLOCK = f"""lock-version = "1.0"
created-by = "hand"
requires-python = ">=3.10"
extras = ["fmt"]
dependency-groups = ["dev", "aws"]
default-groups = ["dev", "aws"]

[[packages]]
name = "six"
version = "1.16.0"
wheels = [{{ url = "https://files.example/six-1.16.0-py2.py3-none-any.whl", hashes = {{ sha256 = "{H1}" }} }}]

[[packages]]
name = "idna"
version = "3.10"
marker = "platform_machine == 'aarch64'"
[[packages.wheels]]
name = "idna-3.10-py3-none-any.whl"
url = "https://files.example/idna-3.10-py3-none-any.whl"
hashes = {{ sha256 = "{H2}" }}

[[packages]]
name = "attrs"
version = "25.3.0"
marker = "'fmt' in extras"
wheels = [{{ url = "https://files.example/attrs-25.3.0-py3-none-any.whl", hashes = {{ sha256 = "{H3}" }} }}]

[[packages]]
name = "pytest"
version = "8.3.0"
marker = "'dev' in dependency_groups"
wheels = [{{ url = "https://files.example/pytest-8.3.0-py3-none-any.whl", hashes = {{ sha256 = "{H3}" }} }}]

[[packages]]
name = "jmespath"
version = "1.0.1"
marker = "'aws' in dependency_groups"
wheels = [{{ url = "https://files.example/jmespath-1.0.1-py3-none-any.whl", hashes = {{ sha256 = "{H2}" }} }}]
"""

PYPROJECT = """[project]
name = "app"
version = "1"
dependencies = ["six>=1.16", "idna; platform_machine == 'aarch64'", "app[fmt]; python_version >= '3.12'"]
[project.optional-dependencies]
fmt = ["attrs>=25"]
web = ["requests"]
[dependency-groups]
dev = ["pytest"]
lint = [{include-group = "dev"}, "ruff"]
"""


def names(result: LockedInput | ProjectInput) -> set[str]:
    if isinstance(result, LockedInput):
        return {p.name for p in result.pins}
    return {r.split(">")[0].split("=")[0].split("[")[0] for r in result.requirements}


def test_pipfile_lock_default_develop_markers_and_indexes(tmp_path: Path) -> None:
    lock = tmp_path / "Pipfile.lock"
    lock.write_text(json.dumps(PIPFILE_LOCK))
    assert detect(lock) == "Pipfile.lock"
    x86 = read_input(lock, X86)
    assert isinstance(x86, LockedInput) and names(x86) == {"six"}
    arm = read_input(lock, ARM, Selection(groups=("dev",)))
    assert isinstance(arm, LockedInput) and names(arm) == {"six", "idna", "pytest"}
    assert arm.index_urls == ("https://pypi.corp.example/simple",)
    # the private index serves only its own pin, in a pip run of its own (no --extra-index-url)
    groups = {g.index: [p.name for p in g.pins] for g in arm.groups()}
    assert groups == {None: ["pytest", "six"], "https://pypi.corp.example/simple": ["idna"]}
    corp = next(g for g in arm.groups() if g.index).text("Pipfile.lock")
    assert "--index-url https://pypi.corp.example/simple\n" in corp
    assert f"idna==3.10 \\\n    --hash=sha256:{H2}\n" in corp
    assert "--extra-index-url" not in arm.requirements_text()
    assert x86.notes and "pipenv lock" in x86.notes[0]


def test_pipfile_lock_errors(tmp_path: Path) -> None:
    lock = tmp_path / "Pipfile.lock"
    lock.write_text(json.dumps(PIPFILE_LOCK))
    with pytest.raises(InputError, match="has no category 'docs'"):
        read_input(lock, X86, Selection(groups=("docs",)))
    bad = dict(PIPFILE_LOCK, default={"mylib": {"git": "https://git.example/mylib.git", "ref": "abc"}})
    lock.write_text(json.dumps(bad))
    with pytest.raises(InputError, match="mylib is locked from a git source"):
        read_input(lock, X86)
    lock.write_text("{not json")
    with pytest.raises(InputError, match="is not valid JSON") as err:
        read_input(lock, X86)
    assert err.value.exit_code == 2


@pytest.mark.parametrize("use_packaging", [True, False], ids=["packaging.pylock", "own-reader"])
def test_pylock_markers_for_machine_extras_and_groups(tmp_path: Path, use_packaging: bool) -> None:
    lock = tmp_path / "pylock.toml"
    lock.write_text(PYLOCK.replace("marker = \"'fmt' in extras\"\n", "").replace(
        "marker = \"'dev' in dependency_groups\"\n", "").replace(
        "marker = \"'aws' in dependency_groups\"\n", "") if not use_packaging else PYLOCK)
    got = lock_pylock.read_pylock(lock, ARM, Selection(), use_packaging=use_packaging)
    if use_packaging:
        # dev is a default group but stays out (as `uv export --no-dev`); aws is in
        assert names(got) == {"six", "idna", "jmespath"}
        assert names(lock_pylock.read_pylock(lock, X86, Selection(extras=("fmt",), groups=("dev",)))) == {
            "six", "attrs", "pytest", "jmespath"}
        assert names(lock_pylock.read_pylock(lock, X86, Selection(no_default_groups=True))) == {"six"}
    else:
        assert names(got) == {"six", "idna", "attrs", "pytest", "jmespath"}
    six = next(p for p in got.pins if p.name == "six")
    assert six.hashes == (H1,) and six.wheels == ("https://files.example/six-1.16.0-py2.py3-none-any.whl",)


def test_pylock_group_markers_need_packaging_26(tmp_path: Path) -> None:
    lock = tmp_path / "pylock.deploy.toml"  # PEP 751's pylock.NAME.toml
    lock.write_text(PYLOCK)
    assert detect(lock) == "pylock.toml"
    with pytest.raises(InputError, match=r"needs packaging 26.1 or newer"):
        lock_pylock.read_pylock(lock, X86, Selection(), use_packaging=False)
    lock.write_text(PYLOCK.replace('version = "3.10"', 'version = "3.11"'))
    with pytest.raises(InputError, match=r"not a valid pylock.toml") as err:
        read_input(lock, X86)
    assert "idna-3.10" in err.value.message  # the wheel does not match the version


def test_pyproject_without_lock_judges_markers_and_expands_groups(tmp_path: Path) -> None:
    py = tmp_path / "pyproject.toml"
    py.write_text(PYPROJECT)
    got = read_input(py, X86)
    assert isinstance(got, ProjectInput)
    # the self-reference app[fmt] pulls attrs on 3.12; idna is for aarch64 only; dev is out
    assert got.requirements == ("six>=1.16", "attrs>=25")
    assert got.requested == {"six", "attrs"}
    got = read_input(py, LockTarget((3, 11), "aarch64"), Selection(groups=("lint",), extras=("web",)))
    assert isinstance(got, ProjectInput)
    assert got.requirements == ("six>=1.16", "idna", "requests", "pytest", "ruff")
    py.write_text(PYPROJECT.replace('"ruff"]', '"ruff", {include-group = "lint"}]'))
    with pytest.raises(InputError, match=r"includes itself \(lint -> lint\)"):
        read_input(py, X86)


def test_pyproject_bad_requirement_names_file(tmp_path: Path) -> None:
    py = tmp_path / "pyproject.toml"
    py.write_text(PYPROJECT.replace('"six>=1.16"', '"six>=>1"'))
    with pytest.raises(InputError, match=r"pyproject.toml \[project\] dependencies: malformed requirement"):
        read_input(py, X86)


def test_find_input_prefers_the_lock_and_refuses_two(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    assert find_input(tmp_path) == tmp_path / "pyproject.toml"
    (tmp_path / "requirements.txt").write_text("six\n")
    assert find_input(tmp_path) == tmp_path / "requirements.txt"
    (tmp_path / "Pipfile.lock").write_text(json.dumps(PIPFILE_LOCK))
    assert find_input(tmp_path) == tmp_path / "Pipfile.lock"
    (tmp_path / "pylock.toml").write_text(PYLOCK)
    with pytest.raises(InputError, match="more than one lock file"):
        find_input(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no dependency file"):
        find_input(tmp_path / "empty")


def test_detect_names_and_contents(tmp_path: Path) -> None:
    req = tmp_path / "requirements-lambda.txt"
    req.write_text("six==1.16.0\n")
    assert detect(req) is None
    junk = tmp_path / "uv.lock"
    junk.write_text("this is not toml = = =\n")
    with pytest.raises(InputError, match=r"uv.lock is not valid TOML .*expected a uv.lock"):
        read_input(junk, X86)
    junk.write_text('[project]\nname = "x"\n')
    with pytest.raises(InputError, match=r"named like a uv lock file.*holds a pyproject.toml"):
        read_input(junk, X86)
    other = tmp_path / "whatever.json"
    other.write_text(json.dumps(PIPFILE_LOCK))
    assert detect(other) == "Pipfile.lock"
    with pytest.raises(InputError, match="does not exist"):
        detect(tmp_path / "missing.lock")


def test_uv_lock_sources_that_are_not_wheels(tmp_path: Path) -> None:
    lock = tmp_path / "uv.lock"
    lock.write_text("""version = 1
requires-python = ">=3.10"

[[package]]
name = "app"
version = "0.1.0"
source = { virtual = "." }
dependencies = [{ name = "mylib" }]

[[package]]
name = "mylib"
version = "0.2.0"
source = { git = "https://git.example/mylib?rev=main#abc" }
""")
    with pytest.raises(InputError, match="mylib is locked from a git source") as err:
        read_input(lock, X86)
    assert err.value.hint is not None and "uv lock" in err.value.hint
    lock.write_text(lock.read_text().replace('git = "https://git.example/mylib?rev=main#abc"',
                                             'registry = "https://pypi.corp.example/simple/"'))
    got = read_input(lock, X86)
    assert isinstance(got, LockedInput) and names(got) == {"mylib"}
    assert got.index_urls == ("https://pypi.corp.example/simple",)
    assert got.notes and "freshness was not checked" in got.notes[0]  # no pyproject beside it


def test_poetry_lock_written_by_poetry_1_is_refused(tmp_path: Path) -> None:
    lock = tmp_path / "poetry.lock"
    lock.write_text('[[package]]\nname = "six"\nversion = "1.16.0"\noptional = false\n'
                    'python-versions = "*"\nfiles = []\n\n[metadata]\nlock-version = "2.0"\n'
                    'python-versions = "^3.10"\ncontent-hash = "x"\n')
    with pytest.raises(InputError, match=r"lock-version 2.0: it was written by Poetry 1") as err:
        read_input(lock, X86)
    assert err.value.hint is not None and "poetry lock" in err.value.hint
