"""Overflow for real: pack a layer, then start it as Lambda's bootstrap.py would, in fresh
interpreters with no site-packages (only the standard library), concurrently, warm, corrupt."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lambda_slim.artifact import overflow
from lambda_slim.artifact.overflow_boot import FOLDER, MANIFEST

BLOB = (b"lambda-slim overflow test payload " * 1000 + os.urandom(4096)) * 300  # ~11 MB


def _dist(root: Path, name: str, version: str, files: dict[str, bytes]) -> tuple[str, str, str,
                                                                                  list[str]]:
    di = f"{name}-{version}.dist-info"
    (root / di).mkdir(parents=True)
    (root / di / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return name, version, di, [*files, f"{di}/METADATA"]


def _layer(tmp: Path) -> tuple[Path, list[overflow.Candidate], int]:
    root = tmp / "python"
    root.mkdir()
    dists = [
        _dist(root, "bigpkg", "1.0", {
            "bigpkg/__init__.py": b"from .sub import digest\n",
            "bigpkg/sub.py": (
                b"import hashlib, os\n"
                b"def digest():\n"
                b"    p = os.path.join(os.path.dirname(__file__), 'data', 'blob.bin')\n"
                b"    return hashlib.sha256(open(p, 'rb').read()).hexdigest()\n"),
            "bigpkg/data/blob.bin": BLOB,
        }),
        _dist(root, "small", "2.0", {"small.py": b"VALUE = 42\n"}),
        _dist(root, "withpth", "1.0", {"withpth.pth": b"", "withpth/__init__.py": b""}),
        _dist(root, "nsa", "1.0", {"nsroot/a/__init__.py": b"x = 1\n" * 5000}),
        _dist(root, "nsb", "1.0", {"nsroot/b/__init__.py": b""}),
    ]
    sizes = {rel: (root / rel).stat().st_size for _n, _v, _d, files in dists for rel in files}
    cands = overflow.candidates(dists, sizes, startup={"small"})
    return root, cands, sum(sizes.values())


def _start(layer: Path, tmp_dir: Path, code: str, go: Path | None = None) -> subprocess.Popen[str]:
    wait = ""
    if go is not None:
        wait = f"import os, time\nwhile not os.path.exists({str(go)!r}): time.sleep(0.001)\n"
    prog = wait + overflow.lambda_start_code(str(layer)) + code
    env = {"LAMBDA_SLIM_OVERFLOW_DIR": str(tmp_dir), "PATH": os.environ.get("PATH", "")}
    # -I -S: no site-packages, no user site, no PYTHON* variables: the boot module and the
    # packed packages must work with the standard library alone.
    return subprocess.Popen([sys.executable, "-I", "-S", "-c", prog], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


PROBE = (
    "import json, sys, bigpkg, small, _lambda_slim_overflow as b\n"
    "print(json.dumps({'digest': bigpkg.digest(), 'file': bigpkg.__file__,"
    " 'state': b.STATUS['state'], 'seconds': b.STATUS['seconds'],"
    " 'mods': [m for m in sys.modules if m.startswith(('lambda_slim', 'packaging'))]}))\n"
)


def _packed(tmp_path: Path) -> tuple[Path, overflow.OverflowPlan]:
    root, cands, total = _layer(tmp_path)
    by = {c.name: c for c in cands}
    assert by["withpth"].excluded and ".pth" in by["withpth"].excluded
    assert by["nsa"].excluded and "shares nsroot/" in by["nsa"].excluded
    assert by["small"].excluded and "--smoke" in by["small"].excluded
    plan = overflow.plan_overflow(root, cands, total, total - 5_000_000, tmp_path / "work")
    assert [p.name for p in plan.packed] == ["bigpkg"] and plan.fits
    assert plan.after_bytes < total - 5_000_000
    removed = overflow.apply_overflow(root, plan)
    assert "bigpkg/data/blob.bin" in removed and not (root / "bigpkg").exists()
    assert (root / "bigpkg-1.0.dist-info" / "METADATA").is_file()  # metadata stays
    assert (root / overflow.PTH_NAME).read_text() == overflow.PTH_LINE
    return root, plan


def test_pack_then_cold_start_with_only_the_stdlib(tmp_path: Path) -> None:
    root, plan = _packed(tmp_path)
    manifest = json.loads((root / FOLDER / MANIFEST).read_text())
    assert manifest["top_level"] == ["bigpkg"]
    assert plan.ephemeral.needed_bytes == manifest["unpacked_bytes"] > len(BLOB)
    assert plan.ephemeral.fits_default
    p = _start(root, tmp_path / "tmp", PROBE)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    got = json.loads(out)
    assert got["digest"] == hashlib.sha256(BLOB).hexdigest()
    assert got["file"].startswith(str(tmp_path / "tmp" / "lambda-slim-overflow"))
    assert got["state"] == "unpacked" and got["mods"] == []
    # a warm start (a later process in the same /tmp) reuses the tree
    tree = Path(got["file"]).parents[1]
    before = tree.stat().st_mtime_ns
    p = _start(root, tmp_path / "tmp", PROBE)
    out, err = p.communicate(timeout=60)
    again = json.loads(out)
    assert again["state"] == "reused" and again["digest"] == got["digest"]
    assert tree.stat().st_mtime_ns == before
    assert sorted(x.name for x in tree.parent.iterdir()) == [
        tree.name, f"{tree.name}.lock"]


def test_concurrent_cold_starts_unpack_once_and_never_see_half_a_tree(tmp_path: Path) -> None:
    root, _plan = _packed(tmp_path)
    go = tmp_path / "go"
    procs = [_start(root, tmp_path / "tmp", PROBE, go=go) for _ in range(4)]
    time.sleep(0.5)  # every child is spinning on the go file
    go.touch()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        results.append(json.loads(out))
    assert {r["digest"] for r in results} == {hashlib.sha256(BLOB).hexdigest()}
    assert sorted(r["state"] for r in results) == ["reused", "reused", "reused", "unpacked"]
    leftovers = [x.name for x in (tmp_path / "tmp" / "lambda-slim-overflow").iterdir()
                 if ".partial-" in x.name]
    assert leftovers == []


def test_a_killed_unpack_leaves_nothing_importable_and_is_cleaned(tmp_path: Path) -> None:
    root, _plan = _packed(tmp_path)
    key = json.loads((root / FOLDER / MANIFEST).read_text())["key"]
    stale = tmp_path / "tmp" / "lambda-slim-overflow" / f"{key}.partial-99999"
    (stale / "bigpkg").mkdir(parents=True)
    (stale / "bigpkg" / "__init__.py").write_text("raise SystemExit('half a tree')\n")
    p = _start(root, tmp_path / "tmp", PROBE)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert json.loads(out)["state"] == "unpacked" and not stale.exists()


@pytest.mark.parametrize("damage", ["flip", "truncate", "no-space"])
def test_damage_is_a_clear_import_error(tmp_path: Path, damage: str) -> None:
    root, _plan = _packed(tmp_path)
    archive = root / FOLDER / "bigpkg.zip"
    if damage == "flip":
        data = bytearray(archive.read_bytes())
        mid = len(data) // 2
        data[mid:mid + 64] = bytes(b ^ 0xFF for b in data[mid:mid + 64])
        archive.write_bytes(bytes(data))
    elif damage == "truncate":
        archive.write_bytes(archive.read_bytes()[:-100])
    else:
        m = json.loads((root / FOLDER / MANIFEST).read_text())
        m["unpacked_bytes"] = 10**16
        (root / FOLDER / MANIFEST).write_text(json.dumps(m))
    p = _start(root, tmp_path / "tmp", "import bigpkg\n")
    _out, err = p.communicate(timeout=60)
    assert p.returncode == 1
    assert "OverflowImportError: lambda-slim overflow: could not unpack" in err
    # each failure worded by its real cause: space is ephemeral storage, damage is a rebuild
    assert ("ephemeral storage" in err) == (damage == "no-space"), err
    assert ("damaged" in err and "Rebuild the layer" in err) == (damage != "no-space"), err
    # flipped bytes inside a deflate stream either still inflate (to data whose CRC-32 is
    # wrong) or stop zlib itself (the blob is random each run): both are the damage, named
    expected = {"flip": ("CRC", "while decompressing data"), "truncate": ("manifest says",),
                "no-space": ("bytes free",)}[damage]
    assert any(e in err for e in expected), err
    left = tmp_path / "tmp" / "lambda-slim-overflow"
    assert [x.name for x in left.iterdir() if not x.name.endswith(".lock")] == []


def test_nothing_eligible_is_reported_not_packed(tmp_path: Path) -> None:
    root, cands, total = _layer(tmp_path)
    only_excluded = [c for c in cands if c.excluded]
    plan = overflow.plan_overflow(root, only_excluded, total, 1000, tmp_path / "work")
    assert plan.packed == () and not plan.fits
    assert overflow.apply_overflow(root, plan) == []
    assert not (root / overflow.PTH_NAME).exists()
