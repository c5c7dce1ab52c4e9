"""What the test session shares: a warm wheel store, and folders made once per run.

Under pytest-xdist every worker is its own pytest session, so a session-scoped fixture alone
would build the expensive thing once per worker. :func:`once_per_run` makes a folder once for
the whole run (the first worker makes it under a file lock, the others wait and reuse it), and
:class:`Frozen` proves at the end that no test wrote into it: shared folders are read-only,
whatever the order the tests run in.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from filelock import FileLock

from lambda_slim.inputs.config import default_cache_dir

#: Folders of the lambda-slim cache that are keyed by their content, so safe to share between
#: tests and runs: the wheel store (content-addressed, proven on every use); the sandbox's
#: ld.so.cache files (keyed by the libraries they index); var-runtime, the stand-in
#: /var/runtime folders (awslambdaric and the runtime's SDK from PyPI wheels, keyed by runtime,
#: architecture, SDK versions and bootstrap, renamed into place when complete, with a wheel store
#: of their own that only the SDK's resolution sees); unpacked, each wheel unpacked once
#: (by its sha256, with a versioned manifest, every file re-hashed before it is linked into a
#: tree); bytecode, the pycs (keyed by source bytes, recorded path and the interpreter's exact
#: version, re-hashed on use); stripped, deflated and elf, the stripped libraries (keyed by
#: input bytes, the strip tool's own sha256 and flags, re-hashed on use), deflate streams
#: (keyed by the file's sha256 and zlib's settings, CRC and stream re-checked) and ELF facts
#: (keyed by a sha256 the install verified). Resolutions and results are never shared: a cached resolution
#: or result would let a test pass on what an earlier build (of older code) decided.
SHARED_STORES = ("wheels", "sandbox", "var-runtime", "unpacked", "bytecode", "stripped",
                 "deflated", "elf")
#: What a test with a cache of its own (``tmp_cache``) shares: all of the above but the wheel
#: store (making a stand-in /var/runtime anew pip-downloads and unpacks boto3, botocore and
#: awslambdaric; unpacking and compiling a real stack anew takes seconds). Not the wheel store:
#: tests make wheels on the fly under common names (``tiny 1.0``) with different contents, and
#: the store offers every wheel it holds to pip as a find-links source, so one test could be
#: served another's ``tiny 1.0``.
PRIVATE_CACHE_SHARES = ("sandbox", "var-runtime", "unpacked", "bytecode", "stripped", "deflated",
                        "elf")


def shared_cache_root() -> Path:
    """The persistent cache the warm stores live in: the user's lambda-slim cache."""
    return default_cache_dir(os.environ)


def warm_cache(folder: Path, shared: Path, stores: tuple[str, ...] = SHARED_STORES) -> Path:
    """An empty cache at ``folder`` whose ``stores`` (by default the wheel and sandbox stores)
    are ``shared``'s."""
    folder.mkdir(parents=True, exist_ok=True)
    for store in stores:
        (shared / store).mkdir(parents=True, exist_ok=True)
        link = folder / store
        if not link.exists():
            link.symlink_to(shared / store, target_is_directory=True)
    return folder


def run_root(factory: pytest.TempPathFactory) -> Path:
    """The folder every xdist worker of this run shares (the base temp's parent), or this
    session's own base temp without xdist."""
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def once_per_run(factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]) -> Path:
    """``make(folder)`` once per test run; every caller (every worker) gets the same folder."""
    root = run_root(factory)
    folder, done = root / name, root / f"{name}.done"
    with FileLock(str(root / f"{name}.lock")):
        if not done.exists():
            if folder.exists():  # a failed attempt: start again
                shutil.rmtree(folder)
            folder.mkdir()
            make(folder)
            done.touch()
    return folder


def _snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    """Each file's size and content digest (files over 1 MiB: its mtime instead)."""
    out: dict[str, tuple[int, str]] = {}
    for dirpath, _, files in os.walk(folder):
        for name in files:
            p = Path(dirpath, name)
            st = p.lstat()
            small = st.st_size <= 1 << 20 and not p.is_symlink()
            mark = hashlib.sha256(p.read_bytes()).hexdigest() if small else str(st.st_mtime_ns)
            out[str(p.relative_to(folder))] = (st.st_size, mark)
    return out


@dataclass
class Frozen:
    """A shared folder and what it held when it was handed out."""

    folder: Path
    before: dict[str, tuple[int, str]]

    @classmethod
    def of(cls, folder: Path) -> Frozen:
        return cls(folder, _snapshot(folder))

    def check(self) -> None:
        """Fail if a test added, removed or rewrote a file in the shared folder (copy it to
        ``tmp_path`` first to change it)."""
        after = _snapshot(self.folder)
        changed = sorted(k for k in set(after) | set(self.before) if after.get(k) != self.before.get(k))
        assert not changed, (f"a test changed the shared read-only folder {self.folder}: {changed[:5]} "
                             "(copy it to tmp_path before writing)")
