"""Cold-start unpacker shipped inside an overflow layer (pure standard library, Python 3.8+).

lambda-slim copies this file into the layer as ``python/_lambda_slim_overflow.py`` together
with ``python/00-lambda-slim-overflow.pth`` (one line: ``import _lambda_slim_overflow;
_lambda_slim_overflow.activate()``) and ``python/.lambda-slim-overflow/`` (one zip archive per
packed distribution plus ``manifest.json``).

Why a ``.pth`` file: the Python runtimes' ``/var/runtime/bootstrap.py`` calls
``site.addsitedir("/opt/python/lib/pythonX.Y/site-packages")`` and
``site.addsitedir("/opt/python")`` before it imports the handler, and ``site.addsitedir``
executes ``import`` lines of the ``.pth`` files it finds there. So this runs before the first
import of the function's code, with no change to the handler and no function setting. It does
*not* run when the function sets ``PYTHONPATH`` itself: then the runtime adds neither folder.

At a cold start the archives are unpacked once into ``/tmp/lambda-slim-overflow/<key>/``
(``LAMBDA_SLIM_OVERFLOW_DIR`` overrides ``/tmp``): under an
exclusive ``flock`` on ``<key>.lock``, into ``<key>.partial-<pid>``, then renamed into place, so
a second process starting at the same moment waits and then reuses the finished tree, and no
process ever imports a half-written one. A warm start (or any later process in the same
``/tmp``) finds ``<key>/`` and only adds it to ``sys.path``. Members are streamed out of the
zips in parallel threads (zlib releases the GIL); each member's CRC-32 is checked as it is read.

A tree found at that path is trusted only after a check: the folder and the tree must be real
folders (a symlink is refused, never followed) owned by this process's user, and the tree must
hold every file the stamp written at unpack time lists, at its size; a damaged tree is moved
aside and unpacked again. Members are written only inside the unpack folder (``../x`` and
absolute names are refused). If the tree vanishes later (a function that empties ``/tmp``), the
next import of a packed package unpacks it again instead of failing.

If anything fails, importing a packed package raises ``ImportError`` carrying the real cause
(no space in ``/tmp``, a damaged archive, a foreign or symlinked folder, a missing manifest)
and its fix, instead of a bare ``No module named ...``.
"""

from __future__ import annotations

import errno
import fcntl
import importlib
import importlib.machinery
import json
import os
import shutil
import stat
import sys
import threading
import time
import zipfile
import zlib
from typing import Any

FOLDER = ".lambda-slim-overflow"
MANIFEST = "manifest.json"
#: Written into the tree last, before it is renamed into place: every file and its size.
STAMP = ".lambda-slim-complete.json"
_CHUNK = 1 << 20

#: What happened in this process: state is "unpacked", "reused" or "failed".
STATUS: dict[str, Any] = {"state": "inactive", "seconds": 0.0, "dir": "", "error": ""}
_LOCK = threading.Lock()


class OverflowImportError(ImportError):
    """Raised on import of a packed package when unpacking failed."""


class Refused(Exception):
    """A path this module will not use (a symlink, another user's folder)."""


class Damaged(Exception):
    """An archive of the layer is not what the manifest says."""


class BadManifest(Exception):
    """The layer's overflow manifest is missing or unreadable."""


def _advice(exc: BaseException, base: str, need: int) -> str:
    """The real cause of an unpack failure, and what fixes it."""
    if isinstance(exc, _NoSpace) or (isinstance(exc, OSError)
                                     and exc.errno in (errno.ENOSPC, errno.EDQUOT)):
        return (f"{exc}. They need {need} bytes in {base}: raise the function's ephemeral "
                "storage (EphemeralStorage, 512-10240 MB) or rebuild the layer without --overflow.")
    if isinstance(exc, (Damaged, zipfile.BadZipFile, zlib.error, EOFError)):
        return (f"an archive of the layer is damaged ({exc}). Rebuild the layer with lambda-slim "
                "and publish it again.")
    if isinstance(exc, Refused):
        return (f"{exc}. Remove it, or set LAMBDA_SLIM_OVERFLOW_DIR to a folder only this "
                "function writes.")
    if isinstance(exc, BadManifest):
        return (f"the layer's overflow manifest is missing or damaged ({exc!r}). Rebuild the "
                "layer with lambda-slim.")
    if isinstance(exc, PermissionError):
        return (f"{base} is not writable ({exc}). Set LAMBDA_SLIM_OVERFLOW_DIR to a writable "
                "folder (Lambda's /tmp is).")
    return f"unexpected error: {exc!r}"


class _NoSpace(OSError):
    """Not enough free space for the unpacked tree (checked before unpacking)."""


def _layer_dir() -> str:
    return os.path.dirname(os.path.abspath(__file__))


def _read_manifest(layer: str) -> dict[str, Any]:
    path = os.path.join(layer, FOLDER, MANIFEST)
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        if not isinstance(data, dict) or not isinstance(data.get("archives"), list):
            raise ValueError("no archives list")
        str(data["key"])
    except (OSError, ValueError, KeyError) as exc:
        raise BadManifest(f"{path}: {exc}") from None
    return data


def _safe_name(name: str) -> bool:
    parts = name.split("/")
    return not (name.startswith("/") or "\\" in name or ".." in parts or "" in parts[:-1])


def _extract_members(archive: str, names: list[str], dest: str) -> None:
    real_dest = os.path.realpath(dest)
    with zipfile.ZipFile(archive) as zf:
        for name in names:
            info = zf.getinfo(name)
            out = os.path.join(dest, *name.split("/"))
            if not os.path.realpath(out).startswith(real_dest + os.sep):
                raise Damaged(f"member {name!r} of {archive} would be written outside {dest}")
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with zf.open(info) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst, _CHUNK)
            mode = (info.external_attr >> 16) & 0o777
            os.chmod(out, 0o755 if mode & 0o111 else 0o644)


def _unpack(layer: str, manifest: dict[str, Any], dest: str, jobs: int) -> None:
    """Extract every archive into ``dest`` with ``jobs`` threads, largest members first."""
    work: list[tuple[int, str, str]] = []
    for entry in manifest["archives"]:
        path = os.path.join(layer, FOLDER, entry["file"])
        size = os.path.getsize(path)
        if size != entry["bytes"]:
            raise Damaged(
                f"{path} is {size} bytes, the manifest says {entry['bytes']} "
                "(truncated or replaced)")
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if info.filename.endswith("/"):
                    continue
                if not _safe_name(info.filename):
                    raise Damaged(f"unsafe member {info.filename!r} in {path}")
                work.append((info.file_size, path, info.filename))
    work.sort(reverse=True)
    buckets: list[list[tuple[str, str]]] = [[] for _ in range(max(1, jobs))]
    loads = [0] * len(buckets)
    for size, path, name in work:  # largest first onto the least loaded thread
        i = loads.index(min(loads))
        buckets[i].append((path, name))
        loads[i] += size
    errors: list[BaseException] = []

    def run(bucket: list[tuple[str, str]]) -> None:
        by_archive: dict[str, list[str]] = {}
        for path, name in bucket:
            by_archive.setdefault(path, []).append(name)
        try:
            for path, names in by_archive.items():
                _extract_members(path, names, dest)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(b,)) for b in buckets if b]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def _own_folder(path: str, create: bool) -> None:
    """``path`` is a real folder of this user (created 0700 if missing), never a symlink."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        if not create:
            raise
        os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        raise Refused(f"{path} is a symlink (to {os.readlink(path)}); refusing to follow it")
    if not stat.S_ISDIR(st.st_mode):
        raise Refused(f"{path} is not a folder")
    if st.st_uid != os.getuid():
        raise Refused(f"{path} belongs to uid {st.st_uid}, not to this process (uid {os.getuid()})")


def _intact(tree: str, key: str) -> bool:
    """The tree is this manifest's, complete: every stamped file there, a regular file of its
    size. A symlinked or foreign tree raises :class:`Refused`."""
    try:
        _own_folder(tree, create=False)
    except FileNotFoundError:
        return False
    try:
        with open(os.path.join(tree, STAMP), encoding="utf-8") as fh:
            stamp = json.load(fh)
        if stamp.get("key") != key:
            return False
        for rel, size in stamp["files"].items():
            st = os.lstat(os.path.join(tree, *rel.split("/")))
            if not stat.S_ISREG(st.st_mode) or st.st_size != size:
                return False
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False
    return True


def _write_stamp(tree: str, key: str) -> None:
    files = {}
    for dirpath, _dirs, names in os.walk(tree):
        for name in names:
            full = os.path.join(dirpath, name)
            files[os.path.relpath(full, tree).replace(os.sep, "/")] = os.lstat(full).st_size
    with open(os.path.join(tree, STAMP), "w", encoding="utf-8") as fh:
        json.dump({"key": key, "files": files}, fh)


def _ensure(layer: str, manifest: dict[str, Any], base: str, jobs: int) -> tuple[str, bool]:
    """Return (tree, reused): the unpacked tree for this manifest, unpacking it if needed."""
    root = os.path.join(base, "lambda-slim-overflow")
    key = str(manifest["key"])
    tree = os.path.join(root, key)
    if os.path.lexists(root):
        _own_folder(root, create=False)
        if _intact(tree, key):
            return tree, True
    _own_folder(root, create=True)
    fd = os.open(os.path.join(root, key + ".lock"), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if _intact(tree, key):  # another process finished while we waited
            return tree, True
        for name in os.listdir(root):  # leftovers of a process killed mid-unpack
            if name.startswith((key + ".partial-", key + ".damaged-")):
                shutil.rmtree(os.path.join(root, name), ignore_errors=True)
        if os.path.lexists(tree):  # damaged (a file missing or changed): set aside, unpack again
            aside = os.path.join(root, f"{key}.damaged-{os.getpid()}")
            os.rename(tree, aside)
            shutil.rmtree(aside, ignore_errors=True)
        need = int(manifest.get("unpacked_bytes", 0))
        free = shutil.disk_usage(root).free
        if need > free:
            raise _NoSpace(
                f"{root} has {free} bytes free; the packed packages need {need} bytes "
                "unpacked")
        partial = os.path.join(root, f"{key}.partial-{os.getpid()}")
        os.makedirs(partial, mode=0o700)
        try:
            _unpack(layer, manifest, partial, jobs)
            _write_stamp(partial, key)
            os.rename(partial, tree)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        return tree, False
    finally:
        os.close(fd)  # releases the flock


class _Recover:
    """Last on ``sys.meta_path``: when a packed package is not found because its tree vanished
    (or lost files) since start-up, unpack it again and find it there."""

    def __init__(self, names: list[str], again: Any) -> None:
        self.names = set(names)
        self.again = again
        self.tries = 0

    def find_spec(self, fullname: str, path: Any = None, target: object = None) -> Any:
        if fullname.partition(".")[0] not in self.names or self.tries >= 3:
            return None
        self.tries += 1
        tree = self.again()
        sys.path_importer_cache.pop(tree, None)
        importlib.invalidate_caches()
        return importlib.machinery.PathFinder.find_spec(fullname, path)


class _Refuse:
    """A meta-path finder that turns imports of packed packages into a clear ImportError."""

    def __init__(self, names: list[str], message: str) -> None:
        self.names = set(names)
        self.message = message

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> None:
        if fullname.partition(".")[0] in self.names:
            raise OverflowImportError(self.message, name=fullname)
        return None


def _place(tree: str, layer: str) -> None:
    """Put ``tree`` on sys.path right after the layer folder (same precedence as the layer)."""
    if tree in sys.path:
        return
    try:
        at = sys.path.index(layer) + 1
    except ValueError:
        at = len(sys.path)
    sys.path.insert(at, tree)
    importlib.invalidate_caches()


def activate(base: str | None = None, jobs: int | None = None) -> dict[str, Any]:
    """Make the packed packages importable; never raises (failures surface on import)."""
    with _LOCK:
        if STATUS["state"] in ("unpacked", "reused"):
            return STATUS
        start = time.monotonic()
        layer = _layer_dir()
        manifest: dict[str, Any] | None = None
        base = base or os.environ.get("LAMBDA_SLIM_OVERFLOW_DIR") or "/tmp"
        jobs = jobs or max(2, min(8, (os.cpu_count() or 1) * 2))
        try:
            manifest = _read_manifest(layer)
            found = manifest

            def again() -> str:
                with _LOCK:
                    tree, _reused = _ensure(layer, found, str(base), int(jobs or 2))
                    _place(tree, layer)
                    return tree

            tree, reused = _ensure(layer, manifest, base, jobs)
            _place(tree, layer)
            STATUS.update(state="reused" if reused else "unpacked", dir=tree, error="")
            sys.meta_path.append(_Recover(list(manifest.get("top_level", [])), again))
        except Exception as exc:
            need = (manifest or {}).get("unpacked_bytes", 0)
            msg = (f"lambda-slim overflow: could not unpack the packed packages of layer {layer}: "
                   + _advice(exc, base, need))
            STATUS.update(state="failed", error=msg)
            names = (manifest or {}).get("top_level", [])
            sys.meta_path.insert(0, _Refuse(names, msg))
            sys.stderr.write(msg + "\n")
        STATUS["seconds"] = time.monotonic() - start
        return STATUS
