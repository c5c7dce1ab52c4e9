"""The verified wheel cache: wheels stored by content, proven on every use.

A wheel lives at ``wheels/by-sha256/<sha256>/<file name>``, so two different files with the
same name (a local wheel rebuilt under its old name) never shadow each other, and the cache is
never offered to pip as a ``--find-links`` source competing with the user's own. Each use
re-hashes the file against the sha256 recorded when it was downloaded and against any
``--hash`` pins of the requirements: a tampered or corrupt wheel (even of the same size) is
evicted and fetched again, never installed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from ..artifact.atomic import sha256_file

STORE = Path("wheels") / "by-sha256"


def path_for(cache_dir: Path, sha256: str, filename: str) -> Path:
    return cache_dir / STORE / sha256 / filename


def store(cache_dir: Path, src: Path, sha256: str) -> Path:
    """Move a downloaded wheel (on the cache's filesystem) into its content address."""
    dst = path_for(cache_dir, sha256, src.name)
    dst.parent.mkdir(parents=True, exist_ok=True)
    os.replace(src, dst)
    return dst


def evict(path: Path) -> None:
    with contextlib.suppress(OSError):
        shutil.rmtree(path.parent)


def pin_problem(name: str, filename: str, sha256: str,
                pins: Mapping[str, frozenset[str]]) -> str | None:
    """Why a wheel breaks the requirements' ``--hash`` pins for its project, or None."""
    allowed = pins.get(canonicalize_name(name))
    if allowed is None or sha256 in allowed:
        return None
    return (f"{filename} has sha256 {sha256}, which is not one of the --hash pins for "
            f"{name} in the requirements ({', '.join(sorted(allowed))})")


def verify(wheels: Sequence[tuple[str, str, str, Path]], pins: Mapping[str, frozenset[str]],
           jobs: int = 4) -> list[str]:
    """Re-hash each ``(name, filename, recorded sha256, path)``; evict and describe every
    wheel whose bytes no longer match what was recorded or pinned. Empty when all are good."""
    def one(w: tuple[str, str, str, Path]) -> str | None:
        name, filename, recorded, path = w
        try:
            actual = sha256_file(path)
        except OSError as exc:
            return f"cached wheel {filename} cannot be read ({exc.strerror or exc})"
        problem = None
        if actual != recorded:
            problem = (f"cached wheel {filename} does not match the sha256 recorded when it "
                       f"was downloaded (recorded {recorded}, now {actual}): it was changed "
                       "or corrupted on disk")
        else:
            problem = pin_problem(name, filename, actual, pins)
        if problem is not None:
            evict(path)
        return problem

    with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(wheels) or 1))) as pool:
        return [p for p in pool.map(one, wheels) if p is not None]


def offer(cache_dir: Path, links: Path) -> bool:
    """Fill ``links`` with one symlink per cached wheel file name (the newest stored), for
    pip's ``--find-links`` when the user's sources fail; False when the cache is empty."""
    newest: dict[str, Path] = {}
    for f in (cache_dir / STORE).glob("*/*.whl"):
        with contextlib.suppress(OSError):
            if f.name not in newest or f.stat().st_mtime > newest[f.name].stat().st_mtime:
                newest[f.name] = f
    for name, f in newest.items():
        (links / name).symlink_to(f)
    return bool(newest)


def known_names(cache_dir: Path, folders: Iterable[Path] = ()) -> set[str]:
    """Project names of every wheel in the cache and in ``folders`` (for "did you mean")."""
    names: set[str] = set()
    files = [*(cache_dir / STORE).glob("*/*.whl")]
    for folder in folders:
        with contextlib.suppress(OSError):
            files += [f for f in folder.iterdir() if f.suffix == ".whl"]
    for f in files:
        with contextlib.suppress(InvalidWheelFilename):
            names.add(str(parse_wheel_filename(f.name)[0]))
    return names
