"""A content-keyed cache of stripped libraries, beside the wheel cache.

What ``strip --strip-unneeded`` writes depends only on the input's bytes, the strip tool
(its path, its binary and its ``--version``: the BFD library is part of it), the flags and
the target machine; whether the copy's LOAD segments pass the alignment guard depends only on
those bytes. Those are the key (``keys/``), and the value is the stripped copy (``blobs/``,
stored once under its SHA-256 and its permission bits, since a hard link shares them) with
the guard's verdict: a library the guard refused stays refused without stripping it again.

Each blob is hard-linked (copied atomically where linking is refused) into the strip's work
folder and then hashed there: a blob that no longer matches the SHA-256 its entry names is
stripped again (and stored over), never shipped. The in-place load check is not cached: it
depends on the other libraries of the tree (RPATHs like ``$ORIGIN/../numpy.libs``), so it
runs on every build. ``--refresh`` strips everything again (and stores it).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from ..artifact.atomic import atomic_write_text, place_verified, replace_with_copy, sha256_of
from ..target.proc import Runner

_FORMAT = "lambda-slim-strip-v1"
#: the flags the strip stage runs with (part of the key)
STRIP_FLAGS = ("--strip-unneeded",)


@dataclass(frozen=True)
class Entry:
    """A cached strip of one input: the stripped copy's SHA-256 and size, or the guard's
    refusal (``refused``: why; no copy is kept)."""

    sha256: str | None
    size: int
    refused: str | None


def tool_identity(strip_exe: str, runner: Runner) -> str | None:
    """What makes a strip tool's output: its resolved path, its binary's SHA-256 and its
    ``--version`` line; None when it cannot say (no cache is used then)."""
    try:
        real = Path(strip_exe).resolve(strict=True)
        digest = sha256_of(real)[1].hex()
    except OSError:
        return None
    proc = runner([strip_exe, "--version"])
    lines = (proc.stdout or "").strip().splitlines()
    if proc.returncode != 0 or not lines:
        return None
    return "\0".join([str(real), digest, lines[0]])


def open_cache(folder: Path, strip_exe: str, machine: str, runner: Runner) -> StripCache | None:
    """The cache for this strip tool and machine; None when the tool cannot say what it is."""
    tool = tool_identity(strip_exe, runner)
    return StripCache(folder, tool, machine) if tool is not None else None


class StripCache:
    """Stripped copies by (strip tool, flags, machine, input bytes) in ``folder``."""

    def __init__(self, folder: Path, tool: str, machine: str) -> None:
        self.folder = folder
        self.tool = tool
        self.machine = machine

    def _key(self, input_sha: str) -> Path:
        key = hashlib.sha256("\0".join(
            [_FORMAT, self.tool, " ".join(STRIP_FLAGS), self.machine, input_sha]).encode()
        ).hexdigest()
        return self.folder / "keys" / key[:2] / key[2:]

    def _blob(self, sha: str, mode: int) -> Path:
        return self.folder / "blobs" / sha[:2] / f"{sha[2:]}.{mode:o}"

    def lookup(self, input_sha: str) -> Entry | None:
        """The entry for an input, None when there is none (or it is unreadable)."""
        try:
            data = json.loads(self._key(input_sha).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("input") != input_sha:
            return None  # (an entry moved to another key is never believed)
        sha, size, refused = data.get("sha256"), data.get("size"), data.get("refused")
        if not isinstance(size, int) or (sha is None) == (refused is None):
            return None
        if sha is not None and (not isinstance(sha, str) or len(sha) != 64):
            return None
        if refused is not None and not isinstance(refused, str):
            return None
        return Entry(sha, size, refused)

    def place(self, entry: Entry, mode: int, dest: Path) -> bool:
        """The cached copy of ``entry`` at ``dest`` (a fresh name) with permission bits
        ``mode``: a hard link when it can be, else an atomic copy; hashed once in place, so
        what is checked is what ships. False (and nothing at ``dest``) when it is missing or
        damaged: the caller strips again."""
        if entry.sha256 is None:
            return False
        if not place_verified(self._blob(entry.sha256, stat.S_IMODE(mode)), dest,
                              entry.sha256, stat.S_IMODE(mode)):
            return False
        if dest.stat().st_size != entry.size:  # (an entry whose size disagrees with its hash)
            dest.unlink()
            return False
        return True

    def store(self, input_sha: str, stripped: Path | None, refused: str | None) -> None:
        """Keep the stripped copy of an input (``stripped``, whose permission bits are
        already the original's), or the guard's refusal; a failure to store only costs
        time."""
        with contextlib.suppress(OSError):
            if stripped is not None:
                size, digest = sha256_of(stripped)
                sha = digest.hex()
                blob = self._blob(sha, stat.S_IMODE(os.stat(stripped).st_mode))
                blob.parent.mkdir(parents=True, exist_ok=True)
                # (always written anew: a damaged blob under this name is replaced)
                replace_with_copy(stripped, blob, stat.S_IMODE(os.stat(stripped).st_mode))
                record = {"input": input_sha, "sha256": sha, "size": size, "refused": None}
            else:
                record = {"input": input_sha, "sha256": None, "size": 0, "refused": refused}
            key = self._key(input_sha)
            key.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(key, json.dumps(record))

