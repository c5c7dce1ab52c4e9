"""The stripped-library cache: a second strip of the same bytes links the copy the first one
made (real gcc, real strip), a damaged copy is stripped again and never shipped, and the
alignment guard's refusal is kept with the key."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

import lambda_slim.native.strip as strip_mod
from lambda_slim.native.elf import inspect_elf
from lambda_slim.native.strip import strip_files
from lambda_slim.native.stripcache import StripCache, open_cache
from lambda_slim.target.proc import run
from tests.native_build import shared_lib

BODY = "\n".join(f"int value_{i}(int x) {{ return x * {i} + {i * 7}; }}" for i in range(60))


class Counting:
    """The real runner, counting the strips it ran."""

    def __init__(self) -> None:
        self.strips = 0

    def __call__(self, cmd: Sequence[str], *, cwd: Path | None = None,
                 env: Mapping[str, str] | None = None,
                 timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        if "-o" in cmd:
            self.strips += 1
        return run(cmd, cwd=cwd, env=env, timeout=timeout)


def _tree(base: Path, name: str, lib: Path) -> Path:
    root = base / name / "python"
    (root / "pkg").mkdir(parents=True)
    shutil.copy2(lib, root / "pkg" / "_ext.so")
    os.chmod(root / "pkg" / "_ext.so", 0o755)
    return root


@pytest.fixture
def lib(tmp_path: Path) -> Path:
    return shared_lib(tmp_path / "build" / "_ext.so", "_ext.so", BODY)


@pytest.fixture
def strip_exe() -> str:
    exe = shutil.which("strip")
    if exe is None:
        pytest.skip("strip (binutils) is not installed")
    return exe


def _cache(tmp_path: Path, strip_exe: str, machine: str = "x86_64") -> StripCache:
    got = open_cache(tmp_path / "cache" / "stripped", strip_exe, machine, run)
    assert got is not None
    return got


def test_a_second_strip_links_the_same_bytes(tmp_path: Path, lib: Path, strip_exe: str) -> None:
    counting = Counting()
    plain = _tree(tmp_path, "plain", lib)
    [ref] = strip_files(strip_exe, plain, ["pkg/_ext.so"], tmp_path / "w0", 1, counting)
    assert ref.stripped_path is not None and ref.after < ref.before and counting.strips == 1
    cache = _cache(tmp_path, strip_exe)
    first_root, second_root = _tree(tmp_path, "first", lib), _tree(tmp_path, "second", lib)
    [first] = strip_files(strip_exe, first_root, ["pkg/_ext.so"], tmp_path / "w1", 1, counting,
                          cache=cache)
    assert counting.strips == 2
    [second] = strip_files(strip_exe, second_root, ["pkg/_ext.so"], tmp_path / "w2", 1,
                           counting, cache=cache)
    assert counting.strips == 2  # served by the cache: strip did not run
    assert first.stripped_path and second.stripped_path
    want = ref.stripped_path.read_bytes()
    assert first.stripped_path.read_bytes() == second.stripped_path.read_bytes() == want
    assert (first.after, second.after) == (ref.after, ref.after)
    st = os.stat(second.stripped_path)
    assert st.st_nlink >= 2 and st.st_mode & 0o777 == 0o755  # a link, with the source's mode
    blobs = {p.stat().st_ino for p in (tmp_path / "cache" / "stripped" / "blobs").rglob("*")
             if p.is_file()}
    assert st.st_ino in blobs
    # a known hash (an unpacked wheel file's) stands in for hashing the input: the right
    # one finds the entry, another one does not
    src = second_root / "pkg/_ext.so"
    right = {src: hashlib.sha256(src.read_bytes()).hexdigest()}
    [third] = strip_files(strip_exe, second_root, ["pkg/_ext.so"], tmp_path / "w3", 1,
                          counting, cache=cache, known=right.get)
    assert counting.strips == 2 and third.stripped_path is not None
    [fourth] = strip_files(strip_exe, second_root, ["pkg/_ext.so"], tmp_path / "w4", 1,
                           counting, cache=cache, known={src: "0" * 64}.get)
    assert counting.strips == 3 and fourth.stripped_path is not None
    # with refresh, strip runs again (and stores the same bytes)
    [again] = strip_files(strip_exe, second_root, ["pkg/_ext.so"], tmp_path / "w5", 1,
                          counting, cache=cache, refresh=True)
    assert counting.strips == 4 and again.stripped_path and again.stripped_path.read_bytes() == want


def test_a_damaged_copy_is_stripped_again(tmp_path: Path, lib: Path, strip_exe: str) -> None:
    counting = Counting()
    cache = _cache(tmp_path, strip_exe)
    [first] = strip_files(strip_exe, _tree(tmp_path, "first", lib), ["pkg/_ext.so"],
                          tmp_path / "w1", 1, counting, cache=cache)
    assert first.stripped_path is not None
    want = first.stripped_path.read_bytes()
    shutil.rmtree(tmp_path / "w1")  # (its link would share the damaged inode below)
    [blob] = [p for p in (tmp_path / "cache" / "stripped" / "blobs").rglob("*") if p.is_file()]
    damaged = bytearray(blob.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF  # same size, other bytes
    blob.write_bytes(bytes(damaged))
    [again] = strip_files(strip_exe, _tree(tmp_path, "again", lib), ["pkg/_ext.so"],
                          tmp_path / "w2", 1, counting, cache=cache)
    assert counting.strips == 2  # stripped again, not taken from the damaged blob
    assert again.stripped_path is not None and again.stripped_path.read_bytes() == want
    assert blob.read_bytes() == want  # and stored over the damaged one
    # an entry whose blob is gone is stripped again too
    shutil.rmtree(tmp_path / "w2")
    blob.unlink()
    [third] = strip_files(strip_exe, _tree(tmp_path, "third", lib), ["pkg/_ext.so"],
                          tmp_path / "w3", 1, counting, cache=cache)
    assert counting.strips == 3 and third.stripped_path is not None
    assert third.stripped_path.read_bytes() == want


def test_the_key_holds_the_machine_and_the_tool(tmp_path: Path, lib: Path,
                                                strip_exe: str) -> None:
    counting = Counting()
    strip_files(strip_exe, _tree(tmp_path, "a", lib), ["pkg/_ext.so"], tmp_path / "w1", 1,
                counting, cache=_cache(tmp_path, strip_exe))
    other_machine = _cache(tmp_path, strip_exe, machine="aarch64")
    strip_files(strip_exe, _tree(tmp_path, "b", lib), ["pkg/_ext.so"], tmp_path / "w2", 1,
                counting, cache=other_machine)
    assert counting.strips == 2
    c = _cache(tmp_path, strip_exe)
    other_tool = StripCache(c.folder, c.tool + "\0another version", c.machine)
    strip_files(strip_exe, _tree(tmp_path, "c", lib), ["pkg/_ext.so"], tmp_path / "w3", 1,
                counting, cache=other_tool)
    assert counting.strips == 3


def test_the_guard_refusal_is_kept(tmp_path: Path, lib: Path, strip_exe: str,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A copy the alignment guard refused stays refused, without stripping again."""
    counting = Counting()
    cache = _cache(tmp_path, strip_exe)
    real = inspect_elf

    class Misaligned:
        aligned = False

    monkeypatch.setattr(strip_mod, "inspect_elf", lambda _p: Misaligned())
    [first] = strip_files(strip_exe, _tree(tmp_path, "a", lib), ["pkg/_ext.so"],
                          tmp_path / "w1", 1, counting, cache=cache)
    assert first.stripped_path is None and first.error and "misaligned" in first.error
    monkeypatch.setattr(strip_mod, "inspect_elf", real)
    [second] = strip_files(strip_exe, _tree(tmp_path, "b", lib), ["pkg/_ext.so"],
                           tmp_path / "w2", 1, counting, cache=cache)
    assert counting.strips == 1
    assert second.stripped_path is None and second.error == first.error
