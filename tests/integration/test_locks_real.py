"""Real ``uv lock`` and ``poetry lock`` files, read by lambda-slim and compared with what
``uv export`` / ``poetry export`` give for the same target (their markers judged by
``uv pip compile --python-platform --python-version``, not by our code).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from lambda_slim.errors import InputError
from lambda_slim.inputs.locks import LockedInput, LockTarget, Selection, detect, read_input
from tests.lockprojects import BIN, POETRY_PYPROJECT, SIX_SHA, SIX_URL, UV_PYPROJECT, run

TARGETS = [LockTarget((3, 11), "x86_64"), LockTarget((3, 12), "aarch64"), LockTarget((3, 13), "x86_64")]
SELECTIONS = {
    "default": (Selection(), [], ["--without-hashes"]),
    "no-default-groups": (Selection(no_default_groups=True), ["--no-default-groups"], ["--without-hashes"]),
    "extra+group": (Selection(groups=("lint",), extras=("fmt",)), ["--extra", "fmt", "--group", "lint"],
                    ["--without-hashes", "--with", "lint", "--extras", "fmt"]),
}


def judged_by_uv(requirements: str, target: LockTarget) -> set[str]:
    """What uv installs from ``requirements`` for ``target``: uv judges the markers. (In a
    folder of its own: the locked projects are shared, read-only.)"""
    with tempfile.TemporaryDirectory(prefix="uv-judge-") as tmp:
        cwd = Path(tmp)
        (cwd / "exported.txt").write_text(requirements)
        argv = [str(BIN / "uv"), "pip", "compile", "exported.txt", "--no-deps", "--no-header",
                "--no-annotate", "-q", "--python-version", target.python_version,
                "--python-platform", f"{target.machine}-manylinux_2_28"]
        offline = subprocess.run([*argv, "--offline"], cwd=cwd, capture_output=True, text=True,
                                 timeout=60)
        out = offline.stdout if offline.returncode == 0 else run(argv, cwd)  # warm after one
    return {line.split(" #")[0].strip() for line in out.splitlines() if line and not line.startswith("#")}


def ours(locked: LockedInput) -> set[str]:
    return {f"{p.name} @ {p.url}" if p.url else f"{p.name}=={p.version}" for p in locked.pins}


def normalise(lines: set[str]) -> set[str]:
    return {re.sub(r"#sha256=[0-9a-f]+$", "", re.sub(r"^([^=@ ]+)", lambda m: m.group(1).lower(), x))
            for x in lines}


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: f"py{t.python_version}-{t.machine}")
@pytest.mark.parametrize("case", list(SELECTIONS))
def test_uv_lock_pins_match_uv_export(uv_project: Path, target: LockTarget, case: str) -> None:
    selection, uv_args, _ = SELECTIONS[case]
    locked = read_input(uv_project / "uv.lock", target, selection)
    assert isinstance(locked, LockedInput) and locked.kind == "uv.lock"
    exported = run([str(BIN / "uv"), "export", "--frozen", "--no-dev", "--no-hashes", "--no-header",
                    "--no-annotate", "--no-emit-project", *uv_args], uv_project)
    assert normalise(ours(locked)) == normalise(judged_by_uv(exported, target))
    names = {p.name for p in locked.pins}
    assert ("idna" in names) == (target.machine == "aarch64")  # the marker differs by machine
    assert ("attrs" in names) == (target.python < (3, 12))
    assert "iniconfig" not in names or case == "extra+group"  # dev stays out unless asked for
    assert ("jmespath" in names) == (case != "no-default-groups")  # a non-dev default group


def test_uv_lock_hashes_match_uv_export(uv_project: Path) -> None:
    target = LockTarget((3, 12), "aarch64")
    locked = read_input(uv_project / "uv.lock", target, Selection(groups=("lint",), extras=("fmt",)))
    assert isinstance(locked, LockedInput)
    exported = run([str(BIN / "uv"), "export", "--frozen", "--no-dev", "--no-header", "--no-annotate",
                    "--no-emit-project", "--extra", "fmt", "--group", "lint"], uv_project)
    theirs: dict[str, set[str]] = {}
    for block in exported.replace("\\\n", " ").splitlines():
        if block.strip() and not block.startswith("#"):
            name = re.split(r"[=@ ;]", block.strip(), maxsplit=1)[0].lower()
            theirs[name] = set(re.findall(r"--hash=sha256:([0-9a-f]{64})", block))
    assert all(p.hashes for p in locked.pins)
    for pin in locked.pins:
        assert set(pin.hashes) == theirs[pin.name], pin.name
    six = next(p for p in locked.pins if p.name == "six")
    assert six.url == SIX_URL and six.hashes == (SIX_SHA,)  # the hash-pinned URL entry
    text = locked.requirements_text()
    assert f"six @ {SIX_URL} \\\n    --hash=sha256:{SIX_SHA}" in text
    assert "idna==3.10 \\\n    --hash=sha256:" in text
    assert locked.requested == {"six", "idna", "packaging", "iniconfig", "pyparsing", "jmespath"}


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: f"py{t.python_version}-{t.machine}")
@pytest.mark.parametrize("case", list(SELECTIONS))
def test_poetry_lock_pins_match_poetry_export(poetry_project: Path, target: LockTarget, case: str) -> None:
    selection, _, poetry_args = SELECTIONS[case]
    if case == "no-default-groups":  # Poetry's export has main only by default: nothing to drop
        selection = Selection(no_default_groups=True)
    locked = read_input(poetry_project / "poetry.lock", target, selection)
    assert isinstance(locked, LockedInput) and locked.kind == "poetry.lock"
    exported = run([str(BIN / "poetry"), "export", "-n", *poetry_args], poetry_project)
    assert normalise(ours(locked)) == normalise(judged_by_uv(exported, target))
    names = {p.name for p in locked.pins}
    assert ("idna" in names) == (target.machine == "aarch64")
    assert "iniconfig" not in names  # the dev group is never in by default
    assert ("pyparsing" in names) == (case == "extra+group")
    assert all(p.hashes for p in locked.pins)


def test_pylock_exported_by_uv_gives_the_same_pins(uv_project: Path, tmp_path: Path) -> None:
    project = tmp_path / "uvdemo"  # the shared project is read-only: export into a copy
    shutil.copytree(uv_project, project)
    run([str(BIN / "uv"), "export", "--frozen", "--no-dev", "--format", "pylock.toml", "-o",
         "pylock.toml", "--no-emit-project", "-q"], project)
    for target in TARGETS:
        from_uv = read_input(project / "uv.lock", target)
        from_pylock = read_input(project / "pylock.toml", target)
        assert isinstance(from_uv, LockedInput) and isinstance(from_pylock, LockedInput)
        assert from_pylock.kind == "pylock.toml"
        assert ours(from_pylock) == ours(from_uv)
        assert {p.name: p.hashes for p in from_pylock.pins} == {p.name: p.hashes for p in from_uv.pins}


def test_a_stale_uv_lock_names_the_file_and_the_fix(uv_project: Path, tmp_path: Path) -> None:
    (tmp_path / "uv.lock").write_bytes((uv_project / "uv.lock").read_bytes())
    (tmp_path / "pyproject.toml").write_text(UV_PYPROJECT.replace(
        '"attrs==25.3.0;', '"certifi",\n    "attrs==25.3.0;'))
    with pytest.raises(InputError) as err:
        read_input(tmp_path / "uv.lock", TARGETS[0])
    assert err.value.exit_code == 2
    assert f"{tmp_path / 'uv.lock'} is out of date with {tmp_path / 'pyproject.toml'}" in err.value.message
    assert "not in the lock: certifi" in err.value.message
    assert err.value.hint is not None and "`uv lock`" in err.value.hint
    (tmp_path / "pyproject.toml").write_text(UV_PYPROJECT.replace('"pyparsing==3.2.3"', '"pyparsing"'))
    with pytest.raises(InputError, match="group lint: changed: pyparsing"):
        read_input(tmp_path / "uv.lock", TARGETS[0])
    # the same meaning written differently is not a change
    (tmp_path / "pyproject.toml").write_text(UV_PYPROJECT.replace(
        "platform_machine == 'aarch64'", "'aarch64' == platform_machine").replace(
        "python_version < '3.12'", "python_full_version < '3.12'"))
    assert isinstance(read_input(tmp_path / "uv.lock", TARGETS[0]), LockedInput)


def test_a_stale_poetry_lock_names_the_file_and_the_fix(poetry_project: Path, tmp_path: Path) -> None:
    (tmp_path / "poetry.lock").write_bytes((poetry_project / "poetry.lock").read_bytes())
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(POETRY_PYPROJECT.replace('pyparsing = "3.2.3"', 'pyparsing = "*"'))
    with pytest.raises(InputError) as err:
        read_input(tmp_path / "poetry.lock", TARGETS[0])
    assert f"{tmp_path / 'poetry.lock'} is out of date with {pyproject}" in err.value.message
    assert err.value.hint is not None and "`poetry lock`" in err.value.hint
    (tmp_path / "pyproject.toml").write_text(POETRY_PYPROJECT)
    assert isinstance(read_input(tmp_path / "poetry.lock", TARGETS[0]), LockedInput)


def test_recognised_by_content_whatever_the_name(uv_project: Path, poetry_project: Path,
                                                 tmp_path: Path) -> None:
    odd = tmp_path / "deps.lock"
    odd.write_bytes((uv_project / "uv.lock").read_bytes())
    assert detect(odd) == "uv.lock"
    odd.write_bytes((poetry_project / "poetry.lock").read_bytes())
    assert detect(odd) == "poetry.lock"
    wrong = tmp_path / "uv.lock"
    wrong.write_bytes((poetry_project / "poetry.lock").read_bytes())
    with pytest.raises(InputError) as err:
        read_input(wrong, TARGETS[0])
    assert err.value.exit_code == 2
    assert str(wrong) in err.value.message and "a uv lock file" in err.value.message
    assert "a Poetry lock file" in err.value.message


def test_unknown_group_and_extra_are_named(uv_project: Path) -> None:
    with pytest.raises(InputError, match=r"has no group 'docs'") as err:
        read_input(uv_project / "uv.lock", TARGETS[0], Selection(groups=("docs",)))
    assert err.value.hint is not None and "aws, dev, lint" in err.value.hint
    with pytest.raises(InputError, match=r"has no extra 'web'"):
        read_input(uv_project / "uv.lock", TARGETS[0], Selection(extras=("web",)))


def test_a_target_python_the_lock_does_not_allow(uv_project: Path) -> None:
    with pytest.raises(InputError, match=r"locked for Python >=3.10, but the target runs Python 3.9"):
        read_input(uv_project / "uv.lock", LockTarget((3, 9), "x86_64"))
