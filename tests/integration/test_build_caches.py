"""A warm build takes its stripped libraries from the strip cache and the deflate streams of
what it made itself (stripped libraries, bytecode) from the deflate cache, and its zip is
byte-identical to a build with empty caches; damaged entries in both are made again, never
used (real pip, real gcc and strip, real python3.12)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from lambda_slim.artifact.deflatecache import DeflateCache
from lambda_slim.artifact.zipahead import Packed
from lambda_slim.native.stripcache import Entry, StripCache
from tests.native_build import shared_lib
from tests.wheels import make_wheel, wheelhouse_requirements

BODY = "\n".join(f"int value_{i}(int x) {{ return x * {i} + {i * 7}; }}" for i in range(200))
RunCli = Callable[..., int]
MODULE = "".join(f"def f{i}(x):\n    return [x * {i}, {{'k{i}': x}}, 'v{i}' * 3]\n\n"
                 for i in range(300))


class Spy:
    """Counts what the real caches served (their behaviour unchanged)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.streams = 0
        self.stripped = 0
        take, place = DeflateCache._take, StripCache.place

        def counted_take(cache: DeflateCache, probe: object) -> Packed | None:
            got = take(cache, probe)  # type: ignore[arg-type]
            self.streams += got is not None
            return got

        def counted_place(cache: StripCache, entry: Entry, mode: int, dest: Path) -> bool:
            ok = place(cache, entry, mode, dest)
            self.stripped += ok
            return ok

        monkeypatch.setattr(DeflateCache, "_take", counted_take)
        monkeypatch.setattr(StripCache, "place", counted_place)

    def reset(self) -> None:
        self.streams = self.stripped = 0


def _damage(folder: Path) -> int:
    n = 0
    for p in folder.rglob("*"):
        if p.is_file() and p.stat().st_size > 64:
            raw = bytearray(p.read_bytes())
            raw[-20] ^= 0xFF
            p.write_bytes(bytes(raw))
            n += 1
    return n


@pytest.mark.cold_cache
def test_a_warm_build_is_byte_identical_to_a_cold_one(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    lib = shared_lib(tmp_path / "build" / "_native.so", "_native.so", BODY)
    house = tmp_path / "house"
    make_wheel(house, "nat", "1.0", {
        "nat/__init__.py": "from . import core\n",
        "nat/core.py": MODULE,
        "nat/_native.so": lib.read_bytes(),
    }, tag="py3-none-manylinux2014_x86_64")
    req = wheelhouse_requirements(tmp_path / "requirements.txt", house, "nat")
    spy = Spy(monkeypatch)
    shas = []
    for name in ("cold", "warm", "damaged"):
        if name == "damaged":
            assert _damage(tmp_cache / "deflated") >= 2 and _damage(tmp_cache / "stripped") >= 1
        spy.reset()
        out = tmp_path / f"{name}.zip"
        assert run_cli("build", str(req), "-o", str(out), "--json", str(tmp_path / f"{name}.json"),
                       "--no-result-cache", cwd=tmp_path) == 0
        report = json.loads((tmp_path / f"{name}.json").read_text())
        assert {r["name"]: r for r in report["rules"]}["strip"]["files"] == 1
        shas.append(report["zip_sha256"])
        assert "trash" in report["timings"]  # the trash went while the measurement ran
        if name == "cold":
            assert (spy.streams, spy.stripped) == (0, 0)
        elif name == "warm":  # the stripped library and the big pyc, from the caches
            assert spy.stripped == 1 and spy.streams >= 2
        else:
            assert (spy.streams, spy.stripped) == (0, 0)
    assert shas[0] == shas[1] == shas[2]
    assert (tmp_path / "cold.zip").read_bytes() == (tmp_path / "warm.zip").read_bytes()


def test_the_result_cache_links_the_zip_and_checks_it_on_use(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path) -> None:
    """The result cache keeps the output zip as a hard link (not a second copy); a zip changed
    in place since (which changes the cached link too) is never served: the build runs."""
    house = tmp_path / "house"
    make_wheel(house, "plain", "1.0", {"plain/__init__.py": MODULE})
    req = wheelhouse_requirements(tmp_path / "requirements.txt", house, "plain")
    out, rep = tmp_path / "layer.zip", tmp_path / "layer.json"
    assert run_cli("build", str(req), "-o", str(out), "--json", str(rep), cwd=tmp_path) == 0
    first = json.loads(rep.read_text())
    want = out.read_bytes()
    assert out.stat().st_nlink == 2  # the output and the result cache's entry
    with open(out, "r+b") as fh:  # changed in place, as zip -u would
        fh.seek(40)
        fh.write(b"\xff\xfe")
    assert run_cli("build", str(req), "-o", str(out), "--json", str(rep), cwd=tmp_path) == 0
    again = json.loads(rep.read_text())
    assert not again.get("cached") and again["zip_sha256"] == first["zip_sha256"]
    assert out.read_bytes() == want
    assert run_cli("build", str(req), "-o", str(out), "--json", str(rep), cwd=tmp_path) == 0
    assert json.loads(rep.read_text())["cached"] is True and out.read_bytes() == want
