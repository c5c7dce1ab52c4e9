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


def _atomic(dest: Path, fill: Callable[[str], object], mode: int = 0o644) -> None:
    """Create ``dest`` through a temp file in its folder that ``fill`` writes, then rename
    (never a write through whatever ``dest`` already is, e.g. a hard link into a cache)."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name[:40]}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    try:
        fill(tmp_name)
        os.chmod(tmp_name, mode)
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
    replace_with_copy(src, dest)


def replace_with_copy(src: Path, dest: Path, mode: int = 0o644) -> None:
    """A new file at ``dest`` (whose folder exists) with ``src``'s bytes and ``mode``."""
    _atomic(dest, lambda tmp: shutil.copyfile(src, tmp), mode)


def place_verified(blob: Path, dest: Path, sha256: str, mode: int = 0o644) -> bool:
    """A cache's ``blob`` at ``dest`` (a fresh name): a hard link when it can be, else a new
    file with ``mode``; hashed once in place, so what is checked is what ships. False (and
    nothing at ``dest``) when the blob is missing or no longer hashes to ``sha256``."""
    try:
        os.link(blob, dest)
    except FileNotFoundError:
        return False
    except OSError:
        try:
            replace_with_copy(blob, dest, mode)
        except OSError:
            return False
    try:
        ok = sha256_file(dest) == sha256
    except OSError:
        ok = False
    if not ok:
        with contextlib.suppress(OSError):
            dest.unlink()
    return ok


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
