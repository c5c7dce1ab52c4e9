"""Issue 19 item 8 and issue 18 item 6 (runtime): the overflow start-up code trusts nothing it
finds at its /tmp path, never writes outside its unpack folder, words each failure by its real
cause, and unpacks again when the tree vanished; a packed single-module distribution takes its
bytecode along. Started as Lambda's bootstrap would, in fresh stdlib-only interpreters."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from lambda_slim.artifact import overflow
from lambda_slim.artifact.overflow_boot import FOLDER, MANIFEST, STAMP
from tests.integration.test_overflow import BLOB, PROBE, _dist, _packed, _start

DIGEST = hashlib.sha256(BLOB).hexdigest()


def _run(root: Path, tmp: Path, code: str = PROBE) -> tuple[int, str, str]:
    p = _start(root, tmp, code)
    out, err = p.communicate(timeout=120)
    return p.returncode, out, err


def _tree(root: Path, tmp: Path) -> Path:
    key = str(json.loads((root / FOLDER / MANIFEST).read_text())["key"])
    return tmp / "lambda-slim-overflow" / key


def test_a_planted_or_partly_deleted_tree_is_unpacked_again(tmp_path: Path) -> None:
    root, _plan = _packed(tmp_path)
    tmp = tmp_path / "tmp"
    planted = _tree(root, tmp) / "bigpkg"
    planted.mkdir(parents=True)
    (planted / "__init__.py").write_text("def digest():\n    return 'planted'\n")
    code, out, err = _run(root, tmp)
    assert code == 0, err
    assert json.loads(out)["digest"] == DIGEST and json.loads(out)["state"] == "unpacked"
    (_tree(root, tmp) / "bigpkg" / "data" / "blob.bin").unlink()  # a /tmp cleaner at work
    code, out, err = _run(root, tmp)
    assert code == 0, err
    assert json.loads(out)["state"] == "unpacked" and json.loads(out)["digest"] == DIGEST
    assert (_tree(root, tmp) / STAMP).is_file()


@pytest.mark.parametrize("where", ["tree", "folder"])
def test_a_symlink_at_the_tmp_path_is_refused_not_followed(where: str, tmp_path: Path) -> None:
    root, _plan = _packed(tmp_path)
    tmp = tmp_path / "tmp"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = _tree(root, tmp) if where == "tree" else tmp / "lambda-slim-overflow"
    link.parent.mkdir(parents=True)
    link.symlink_to(elsewhere, target_is_directory=True)
    code, _out, err = _run(root, tmp, "import bigpkg\n")
    assert code == 1
    assert "is a symlink" in err and "refusing to follow it" in err, err
    assert "LAMBDA_SLIM_OVERFLOW_DIR" in err and "ephemeral storage" not in err
    assert list(elsewhere.iterdir()) == []


def test_another_users_folder_is_refused(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to give the folder to another user")
    root, _plan = _packed(tmp_path)
    tmp = tmp_path / "tmp"
    (tmp / "lambda-slim-overflow").mkdir(parents=True)
    os.chown(tmp / "lambda-slim-overflow", 65534, 65534)
    code, _out, err = _run(root, tmp, "import bigpkg\n")
    assert code == 1 and "belongs to uid 65534" in err, err


@pytest.mark.parametrize("member", ["../escaped.py", "/tmp/escaped-abs.py", "a/../../escaped.py"])
def test_members_never_land_outside_the_unpack_folder(member: str, tmp_path: Path) -> None:
    root, _plan = _packed(tmp_path)
    archive = root / FOLDER / "bigpkg.zip"
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr(member, "print('escaped')\n")
    manifest = json.loads((root / FOLDER / MANIFEST).read_text())
    manifest["archives"][0]["bytes"] = archive.stat().st_size
    (root / FOLDER / MANIFEST).write_text(json.dumps(manifest))
    tmp = tmp_path / "tmp"
    code, _out, err = _run(root, tmp, "import bigpkg\n")
    assert code == 1 and "unsafe member" in err and "damaged" in err, err
    assert not list(tmp_path.rglob("escaped*.py")) and not Path("/tmp/escaped-abs.py").exists()


def test_a_missing_manifest_is_worded_as_such(tmp_path: Path) -> None:
    root, _plan = _packed(tmp_path)
    (root / FOLDER / MANIFEST).write_text("{not json")
    code, out, err = _run(root, tmp_path / "tmp", "import _lambda_slim_overflow as b\n"
                          "print(b.STATUS['error'])\n")
    assert code == 0, err
    assert "manifest is missing or damaged" in out and "ephemeral storage" not in out


def test_the_tree_vanishing_from_tmp_is_recovered_on_the_next_import(tmp_path: Path) -> None:
    root, _plan = _packed(tmp_path)
    tmp = tmp_path / "tmp"
    code = ("import shutil, json, _lambda_slim_overflow as b\n"
            "assert b.STATUS['state'] == 'unpacked', b.STATUS\n"
            "shutil.rmtree(b.STATUS['dir'])  # the function empties /tmp\n"
            "import bigpkg\n"
            "print(json.dumps({'digest': bigpkg.digest(), 'file': bigpkg.__file__}))\n")
    rc, out, err = _run(root, tmp, code)
    assert rc == 0, err
    got = json.loads(out)
    assert got["digest"] == DIGEST and Path(got["file"]).is_file()


def test_a_packed_single_module_takes_its_bytecode_along(tmp_path: Path) -> None:
    root = tmp_path / "python"
    root.mkdir()
    dists = [_dist(root, "bigmod", "1.0", {"bigmod.py": b"X = '" + b"x" * 200_000 + b"'\n"}),
             _dist(root, "other", "1.0", {"other.py": b"Y = 1\n"})]
    pyc = {"__pycache__/bigmod.cpython-312.pyc": b"\0" * 5000,
           "__pycache__/other.cpython-312.pyc": b"\0" * 100}
    (root / "__pycache__").mkdir()
    for rel, data in pyc.items():
        (root / rel).write_bytes(data)
    sizes = {rel: (root / rel).stat().st_size for _n, _v, _d, files in dists for rel in files}
    sizes |= {rel: len(data) for rel, data in pyc.items()}
    cands = overflow.candidates(dists, sizes)
    big = next(c for c in cands if c.name == "bigmod")
    assert "__pycache__/bigmod.cpython-312.pyc" in big.payload and big.excluded is None
    plan = overflow.plan_overflow(root, [big], sum(sizes.values()), 100_000, tmp_path / "work")
    removed = overflow.apply_overflow(root, plan)
    assert "__pycache__/bigmod.cpython-312.pyc" in removed
    assert not (root / "__pycache__" / "bigmod.cpython-312.pyc").exists()
    assert (root / "__pycache__" / "other.cpython-312.pyc").exists()  # not packed: stays
    with zipfile.ZipFile(root / FOLDER / "bigmod.zip") as zf:
        assert "__pycache__/bigmod.cpython-312.pyc" in zf.namelist()
    shutil.rmtree(tmp_path / "work", ignore_errors=True)
