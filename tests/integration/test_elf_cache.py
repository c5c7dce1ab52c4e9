"""The ELF facts cache: the native scan of a file whose hash the install vouches for reads
the facts an earlier scan of the same bytes stored, the same facts pyelftools finds; an
entry that does not read back as facts, or a file of unknown hash, is parsed again (real
gcc, real pyelftools)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import lambda_slim.native.elf as elf_mod
from lambda_slim.native.elf import ElfInfo, inspect_elf, scan_native
from lambda_slim.native.elfcache import ElfFactsCache
from tests.native_build import shared_lib


def _tree(tmp_path: Path) -> tuple[Path, dict[Path, str]]:
    root = tmp_path / "python"
    lib = shared_lib(root / "pkg" / "_ext.so", "_ext.so", "int f(void) { return 1; }",
                     rpath="$ORIGIN/../pkg.libs")
    (root / "pkg" / "__init__.py").write_text("X = 1\n")
    return root, {lib: hashlib.sha256(lib.read_bytes()).hexdigest()}


def _scan(root: Path, facts: ElfFactsCache | None) -> list[elf_mod.NativeFile]:
    return scan_native(root, [("pkg/_ext.so", "pkg"), ("pkg/__init__.py", "pkg")], 1, facts)


def _no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(path: Path) -> ElfInfo:
        raise AssertionError(f"parsed {path}")
    monkeypatch.setattr(elf_mod, "inspect_elf", refuse)


def test_a_second_scan_reads_the_stored_facts(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    root, known = _tree(tmp_path)
    want = inspect_elf(root / "pkg" / "_ext.so")
    assert want.runpath == ("$ORIGIN/../pkg.libs",) or want.rpath == ("$ORIGIN/../pkg.libs",)
    first = ElfFactsCache(tmp_path / "cache", known.get)
    [nf] = _scan(root, first)
    assert nf.info == want and first.hits == 0
    _no_parsing(monkeypatch)
    second = ElfFactsCache(tmp_path / "cache", known.get)
    [nf] = _scan(root, second)
    assert nf.info == want and second.hits == 1


def test_unknown_damaged_or_refreshed_entries_are_parsed(tmp_path: Path) -> None:
    root, known = _tree(tmp_path)
    want = inspect_elf(root / "pkg" / "_ext.so")
    _scan(root, ElfFactsCache(tmp_path / "cache", known.get))
    nothing: dict[Path, str] = {}
    unknown = ElfFactsCache(tmp_path / "cache", nothing.get)  # hash not vouched for
    [nf] = _scan(root, unknown)
    assert nf.info == want and unknown.hits == 0
    refresh = ElfFactsCache(tmp_path / "cache", known.get, read=False)
    [nf] = _scan(root, refresh)
    assert nf.info == want and refresh.hits == 0
    [entry] = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    data = json.loads(entry.read_text())
    damages: list[object] = [{**data, "max_glibc": "2.99"}, {**data, "aligned": 1}, [], "x"]
    for damage in damages:
        entry.write_text(json.dumps(damage))
        again = ElfFactsCache(tmp_path / "cache", known.get)
        [nf] = _scan(root, again)
        assert nf.info == want and again.hits == 0
        assert json.loads(entry.read_text()) == data  # written over
    entry.write_text("{not json")
    again = ElfFactsCache(tmp_path / "cache", known.get)
    [nf] = _scan(root, again)
    assert nf.info == want and again.hits == 0
