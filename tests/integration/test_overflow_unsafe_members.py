"""A tampered overflow layer whose archive names a member outside the unpack folder (``../x``,
an absolute path): the cold start unpacks nothing, writes nothing outside its folder, and the
packed package's import raises the overflow error naming the member, in a real interpreter
started as Lambda's bootstrap would."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lambda_slim.artifact import overflow_boot
from lambda_slim.artifact.overflow import BOOT_MODULE, PTH_LINE, PTH_NAME, lambda_start_code
from lambda_slim.artifact.overflow_boot import FOLDER, MANIFEST
from tests.regressions.zipcraft import make_zip


def _layer(root: Path, members: list[tuple[str, bytes]]) -> None:
    """A layer as apply_overflow leaves it, with one packed archive holding ``members``."""
    folder = root / FOLDER
    folder.mkdir(parents=True)
    data = make_zip(members)
    (folder / "evilpkg.zip").write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    (folder / MANIFEST).write_text(json.dumps({
        "format": 1, "key": sha[:16], "compression": "deflate",
        "unpacked_bytes": sum(len(d) for _n, d in members), "top_level": ["evilpkg"],
        "archives": [{"file": "evilpkg.zip", "bytes": len(data), "sha256": sha,
                      "dist": "evilpkg==1.0", "unpacked_bytes": sum(len(d) for _n, d in members),
                      "files": len(members)}],
    }))
    shutil.copyfile(overflow_boot.__file__, root / f"{BOOT_MODULE}.py")
    (root / PTH_NAME).write_text(PTH_LINE)


@pytest.mark.parametrize("evil", ["../x", "evilpkg/../../x", "/tmp/lambda-slim-overflow-abs/x"])
def test_a_member_outside_the_unpack_folder_is_refused_at_cold_start(tmp_path: Path, evil: str) -> None:
    layer = tmp_path / "opt" / "python"
    _layer(layer, [("evilpkg/__init__.py", b"VALUE = 1\n"), (evil, b"planted\n")])
    unpack = tmp_path / "tmp"
    unpack.mkdir()
    code = lambda_start_code(str(layer)) + (
        "try:\n    import evilpkg\nexcept ImportError as e:\n"
        "    print(type(e).__name__ + ': ' + str(e))\nelse:\n    print('IMPORTED')\n")
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True,
                          env={"LAMBDA_SLIM_OVERFLOW_DIR": str(unpack), "PATH": os.defpath},
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("OverflowImportError: "), proc.stdout
    assert repr(evil) in proc.stdout or evil in proc.stdout  # the message names the member
    # nothing was written anywhere but the lock file of the unpack folder
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")
                     if p.is_file() and layer not in p.parents)
    key = json.loads((layer / FOLDER / MANIFEST).read_text())["key"]
    assert written == [f"tmp/lambda-slim-overflow/{key}.lock"]
    assert not Path("/tmp/lambda-slim-overflow-abs").exists()
