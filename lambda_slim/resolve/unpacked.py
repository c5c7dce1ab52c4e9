"""Installing from unpacked copies of the wheels, hard-linked into the tree.

Creating thousands of files is most of an install's time (a new inode costs far more than a
link to an existing one), so each wheel is unpacked once into the cache
(``unpacked/<wheel sha256>/``, laid out as it installs, with a manifest of every file's
SHA-256, mode and place in the wheel) and later installs of the same wheel hard-link those
files, as uv does. Every file is re-hashed against the manifest before it is linked, as
every cached wheel is re-hashed before use: a copy that changed on disk is unpacked again,
never installed. Nothing in a build writes into an installed file (rules and strip move
files aside and put new ones in, compiling writes new pycs), so the copies stay as unpacked.
A cache on another file system than the build, or one that refuses links, gets a plain
unpack.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..artifact.atomic import sha256_of
from ..artifact.zipahead import file_key
from ..artifact.zipreuse import Member, WheelStreams
from .unpack import clash_error, unpack_one, unpack_wheels

_VERSION = 1
_MANIFEST = "manifest.json"


def install_linked(wheels: list[tuple[Path, str]], dest: Path, cache: Path, jobs: int,
                   streams: WheelStreams | None = None) -> None:
    """Install ``(wheel, sha256)`` pairs into ``dest`` by linking their cached unpacked
    copies (made on first use); a plain unpack when linking is not possible."""
    dest.mkdir(parents=True, exist_ok=True)
    dest = dest.resolve()
    order = sorted(wheels, key=lambda w: -w[0].stat().st_size)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        trees = list(pool.map(lambda w: _unpacked(w[0], w[1], cache), order))
    if not all(_can_link(t, dest) for t in trees):
        unpack_wheels([w for w, _sha in order], dest, jobs, streams)
        return
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futs = [pool.submit(_link_wheel, whl, sha, cache, tree, dest, streams)
                for (whl, sha), tree in zip(order, trees, strict=True)]
        for fut in futs:
            fut.result()


def _folder(cache: Path, sha: str) -> Path:
    return cache / sha[:2] / sha


def _can_link(tree: Path, dest: Path) -> bool:
    return os.stat(tree).st_dev == os.stat(dest).st_dev


def _read_manifest(folder: Path) -> dict[str, dict[str, int | str | None]] | None:
    try:
        data = json.loads((folder / _MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != _VERSION:
        return None
    files = data.get("files")
    return files if isinstance(files, dict) else None


def _unpacked(whl: Path, sha: str, cache: Path, *, fresh: bool = False) -> Path:
    """The folder holding ``whl`` unpacked (``tree/``) and its manifest, made if missing
    (or, ``fresh``, made again)."""
    folder = _folder(cache, sha)
    if not fresh and _read_manifest(folder) is not None:
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".unpack-", dir=folder.parent))
    try:
        tree = tmp / "tree"
        tree.mkdir()
        tree = tree.resolve()
        got = WheelStreams()
        unpack_one(whl, tree, got)
        files: dict[str, dict[str, int | str | None]] = {}
        for dirpath, _dirs, names in os.walk(tree):
            for name in names:
                path = Path(dirpath) / name
                rel = path.relative_to(tree).as_posix()
                m = got.members.get(path)
                files[rel] = {
                    "sha256": sha256_of(path)[1].hex(),
                    "offset": m.header_offset if m else None,
                    "compressed": m.compressed if m else None,
                    "crc": m.crc if m else None,
                    "size": m.size if m else None,
                }
        (tmp / _MANIFEST).write_text(json.dumps({"version": _VERSION, "wheel": whl.name,
                                                 "files": files}), encoding="utf-8")
        if fresh:
            shutil.rmtree(folder, ignore_errors=True)
        try:
            os.rename(tmp, folder)
        except OSError:  # another build made it meanwhile: use theirs
            if _read_manifest(folder) is None:
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _verified(folder: Path) -> dict[str, dict[str, int | str | None]] | None:
    """The manifest, if every file of the unpacked copy still hashes to it."""
    files = _read_manifest(folder)
    if files is None:
        return None
    for rel, info in files.items():
        try:
            digest = sha256_of(folder / "tree" / rel)[1].hex()  # (in chunks: little memory)
        except OSError:
            return None
        if digest != info["sha256"]:
            return None
    return files


def _link_wheel(whl: Path, sha: str, cache: Path, folder: Path, dest: Path,
                streams: WheelStreams | None) -> None:
    files = _verified(folder)
    if files is None:  # changed on disk since it was unpacked: unpack it again
        folder = _unpacked(whl, sha, cache, fresh=True)
        files = _verified(folder)
        if files is None:
            unpack_one(whl, dest, streams)
            return
    wheel_key = file_key(os.stat(whl))
    made: set[Path] = set()
    try:
        for rel, info in files.items():
            out = dest / rel
            if out.parent not in made:
                out.parent.mkdir(parents=True, exist_ok=True)
                made.add(out.parent)
            _link(folder / "tree" / rel, out)
            if streams is not None:
                key = file_key(os.stat(out))
                streams.add_hash(out, str(info["sha256"]), key)
                if info["offset"] is not None:
                    streams.add(out, Member(whl, wheel_key, int(info["offset"] or 0),
                                            int(info["compressed"] or 0),
                                            int(info["crc"] or 0), int(info["size"] or 0),
                                            key))
    except (NotADirectoryError, IsADirectoryError, FileExistsError) as exc:
        raise clash_error(whl, exc) from None
    except FileNotFoundError:  # the copy went away meanwhile (another build re-unpacked it)
        unpack_one(whl, dest, streams)


def _link(src: Path, out: Path) -> None:
    """``out`` as a hard link to ``src`` (a copy where the file system refuses the link);
    a file already there (another wheel's) is replaced, as unpacking over it would."""
    try:
        os.link(src, out)
    except FileExistsError:
        if out.is_dir():
            raise
        tmp = out.with_name(f".ls-{os.getpid()}-{out.name[:40]}.part")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        os.link(src, tmp)
        os.replace(tmp, out)
    except PermissionError:  # (protected_hardlinks: a cache another user owns)
        shutil.copyfile(src, out)
        shutil.copymode(src, out)
