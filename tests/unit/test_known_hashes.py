"""An install by links knows each file's SHA-256 (it verified it against the unpacked copy's
manifest); the strip cache uses that instead of hashing again, only while the file is
unchanged (real wheels, real files)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from lambda_slim.artifact.atomic import sha256_file
from lambda_slim.artifact.zipreuse import WheelStreams
from lambda_slim.resolve.unpacked import install_linked
from tests.wheels import make_wheel


def test_linked_files_carry_their_verified_hash(tmp_path: Path) -> None:
    whl = make_wheel(tmp_path / "house", "alpha", "1.0",
                     {"alpha/__init__.py": "X = 1\n" * 100, "alpha/_ext.so": b"\x7fELF" + bytes(300)})
    cache = tmp_path / "cache" / "unpacked"
    install_linked([(whl, sha256_file(whl))], tmp_path / "first", cache, 1)  # (fills the cache)
    streams = WheelStreams()
    dest = (tmp_path / "second").resolve()
    install_linked([(whl, sha256_file(whl))], dest, cache, 1, streams)
    ext = dest / "alpha" / "_ext.so"
    assert streams.known_sha256(ext) == hashlib.sha256(ext.read_bytes()).hexdigest()
    # a file replaced since (another inode) is no longer known
    tmp = ext.with_name("new.so")
    tmp.write_bytes(b"\x7fELF" + bytes(301))
    os.replace(tmp, ext)
    assert streams.known_sha256(ext) is None
    assert streams.known_sha256(dest / "nothing.so") is None
