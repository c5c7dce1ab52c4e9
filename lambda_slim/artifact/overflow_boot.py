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

If anything fails (no space in ``/tmp``, a corrupt archive), importing a packed package raises
``ImportError`` carrying the reason and the fix, instead of a bare ``No module named ...``.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
import threading
import time
import zipfile
from typing import Any

FOLDER = ".lambda-slim-overflow"
MANIFEST = "manifest.json"
_CHUNK = 1 << 20

#: What happened in this process: state is "unpacked", "reused" or "failed".
STATUS: dict[str, Any] = {"state": "inactive", "seconds": 0.0, "dir": "", "error": ""}
_LOCK = threading.Lock()


class OverflowImportError(ImportError):
    """Raised on import of a packed package when unpacking failed."""


def _layer_dir() -> str:
    return os.path.dirname(os.path.abspath(__file__))


def _read_manifest(layer: str) -> dict[str, Any]:
    with open(os.path.join(layer, FOLDER, MANIFEST), encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
        return data


def _safe_name(name: str) -> bool:
    parts = name.split("/")
    return not (name.startswith("/") or "\\" in name or ".." in parts or "" in parts[:-1])


def _extract_members(archive: str, names: list[str], dest: str) -> None:
    with zipfile.ZipFile(archive) as zf:
        for name in names:
            info = zf.getinfo(name)
            out = os.path.join(dest, *name.split("/"))
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
            raise zipfile.BadZipFile(
                f"{path} is {size} bytes, the manifest says {entry['bytes']} "
                "(truncated or replaced)")
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if info.filename.endswith("/"):
                    continue
                if not _safe_name(info.filename):
                    raise zipfile.BadZipFile(f"unsafe member {info.filename!r} in {path}")
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


def _ensure(layer: str, manifest: dict[str, Any], base: str, jobs: int) -> tuple[str, bool]:
    """Return (tree, reused): the unpacked tree for this manifest, unpacking it if needed."""
    root = os.path.join(base, "lambda-slim-overflow")
    key = str(manifest["key"])
    tree = os.path.join(root, key)
    if os.path.isdir(tree):
        return tree, True
    os.makedirs(root, exist_ok=True)
    fd = os.open(os.path.join(root, key + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if os.path.isdir(tree):  # another process finished while we waited
            return tree, True
        for name in os.listdir(root):  # leftovers of a process killed mid-unpack
            if name.startswith(key + ".partial-"):
                shutil.rmtree(os.path.join(root, name), ignore_errors=True)
        need = int(manifest.get("unpacked_bytes", 0))
        free = shutil.disk_usage(root).free
        if need > free:
            raise OSError(
                f"{root} has {free} bytes free; the packed packages need {need} bytes "
                "unpacked")
        partial = os.path.join(root, f"{key}.partial-{os.getpid()}")
        os.makedirs(partial)
        try:
            _unpack(layer, manifest, partial, jobs)
            os.rename(partial, tree)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        return tree, False
    finally:
        os.close(fd)  # releases the flock


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
    import importlib

    importlib.invalidate_caches()


def activate(base: str | None = None, jobs: int | None = None) -> dict[str, Any]:
    """Make the packed packages importable; never raises (failures surface on import)."""
    with _LOCK:
        if STATUS["state"] in ("unpacked", "reused"):
            return STATUS
        start = time.monotonic()
        layer = _layer_dir()
        manifest: dict[str, Any] | None = None
        try:
            manifest = _read_manifest(layer)
            base = base or os.environ.get("LAMBDA_SLIM_OVERFLOW_DIR") or "/tmp"
            jobs = jobs or max(2, min(8, (os.cpu_count() or 1) * 2))
            tree, reused = _ensure(layer, manifest, base, jobs)
            _place(tree, layer)
            STATUS.update(state="reused" if reused else "unpacked", dir=tree, error="")
        except Exception as exc:
            need = (manifest or {}).get("unpacked_bytes", 0)
            msg = (
                f"lambda-slim overflow: could not unpack the packed packages of layer {layer}: "
                f"{exc}. They need {need} bytes in /tmp: raise the function's ephemeral "
                "storage (EphemeralStorage, 512-10240 MB) or rebuild the layer without "
                "--overflow.")
            STATUS.update(state="failed", error=msg)
            names = (manifest or {}).get("top_level", [])
            sys.meta_path.insert(0, _Refuse(names, msg))
            sys.stderr.write(msg + "\n")
        STATUS["seconds"] = time.monotonic() - start
        return STATUS
