"""Atomic writes (a temp file in the destination folder, then ``os.replace``) and file hashes."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..errors import InputError


def require_parent(dest: Path, option: str = "--output") -> None:
    """Refuse, before any work, to write into a folder that does not exist."""
    if not dest.parent.is_dir():
        raise InputError(
            f"Cannot write {dest}: the directory {dest.parent} does not exist.",
            hint=f"Create it (mkdir -p {dest.parent}) or choose another {option} path.",
        )


def _atomic(dest: Path, fill: Callable[[str], object]) -> None:
    """Create ``dest`` through a temp file in its folder that ``fill`` writes, then rename."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    try:
        fill(tmp_name)
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise


def atomic_write_text(dest: Path, text: str) -> None:
    """Write a small text file atomically (temp file in the same folder, then rename)."""
    _atomic(dest, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def atomic_write_bytes(dest: Path, data: bytes) -> None:
    """Write ``data`` atomically (temp file in the same folder, then rename)."""
    _atomic(dest, lambda tmp: Path(tmp).write_bytes(data))


def atomic_copy(src: Path, dest: Path) -> None:
    """Copy ``src`` to ``dest`` atomically; a missing destination folder is an input error."""
    require_parent(dest)
    _atomic(dest, lambda tmp: shutil.copyfile(src, tmp))


def sha256_of(path: Path) -> tuple[int, bytes]:
    """``(size, raw SHA-256 digest)`` of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return size, h.digest()


def sha256_file(path: Path) -> str:
    """The hex SHA-256 of a file."""
    return sha256_of(path)[1].hex()
