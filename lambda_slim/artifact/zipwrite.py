"""Deterministic zip writing.

The same tree gives a byte-identical zip: entries sorted by name, one fixed timestamp
(``SOURCE_DATE_EPOCH`` or 1980-01-01), permissions normalised to 0644/0755, no directory
entries, no extra fields. Files are deflated in parallel (zlib releases the GIL) while the
archive is written strictly in order; at most ``window_bytes`` of input is held at once. The
bytes do not depend on ``jobs`` (``jobs=1`` compresses inline, the serial reference) nor on
what :mod:`.zipahead` deflated beforehand (taken only for unchanged files); a file installed
unchanged from a wheel keeps the wheel's deflated bytes (:mod:`.zipreuse`). Output
goes to a temp file beside the destination and is renamed into place, unless ``before_commit``
raises first (work running beside the zip can still veto it).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ..errors import InputError
from .atomic import require_parent
from .deflatecache import DeflateCache
from .zipahead import Ahead, Packed, deflate
from .zipformat import (
    CDH,
    CDH_SIG,
    EOCD,
    EOCD64,
    EOCD64_LOCATOR,
    EOCD64_LOCATOR_SIG,
    EOCD64_SIG,
    EOCD_SIG,
    LFH,
    LFH_SIG,
)
from .zipreuse import REUSE_LEVEL, WheelStreams

DOS_EPOCH = 315532800  # 1980-01-01T00:00:00Z, the earliest time a zip can hold
_U32 = 0xFFFFFFFF


@dataclass(frozen=True)
class ArchiveResult:
    path: Path
    zip_bytes: int
    unzipped_bytes: int
    files: int
    sha256: str
    #: Entry name -> compressed bytes (what each file adds to the zip, headers aside).
    compressed: Mapping[str, int] = field(default_factory=dict)


#: 2107-12-31T23:59:58Z: a zip's DOS date field holds no later time.
DOS_LAST = 4354819198


def source_date_epoch(env: Mapping[str, str]) -> int:
    raw = env.get("SOURCE_DATE_EPOCH")
    if not raw:
        return DOS_EPOCH
    try:
        value = int(raw)
    except ValueError:
        raise InputError(
            f"SOURCE_DATE_EPOCH={raw!r} is not an integer number of seconds.",
            hint="Unset it or set it to a Unix timestamp such as 315532800.",
        ) from None
    if value > DOS_LAST:
        raise InputError(
            f"SOURCE_DATE_EPOCH={raw[:30]!r} is after 2107-12-31, the last time a zip can hold.",
            hint="Unset it or set it to a Unix timestamp such as 315532800 (1980-01-01).",
        )
    return max(value, DOS_EPOCH)


def _dos_datetime(epoch: int) -> tuple[int, int]:
    t = time.gmtime(epoch)
    year = min(max(t.tm_year, 1980), 2107)
    dos_date = ((year - 1980) << 9) | (t.tm_mon << 5) | t.tm_mday
    dos_time = (t.tm_hour << 11) | (t.tm_min << 5) | (t.tm_sec // 2)
    return dos_time, dos_date


def walk_files(root: Path) -> list[tuple[str, Path]]:
    """Every file under ``root`` as sorted ``(posix relpath, path)``; symlinks not followed.

    A symlink to a file inside ``root`` is stored as that file's content; one that points
    outside ``root`` (or dangles) is an error, so nothing from outside leaks into a layer.
    """
    root = root.resolve()
    out: list[tuple[str, Path]] = []
    stack = [root]
    while stack:
        d = stack.pop()
        with os.scandir(d) as it:
            for entry in it:
                p = Path(entry.path)
                if entry.is_symlink():
                    real = p.resolve()
                    if not real.is_relative_to(root) or not real.exists():
                        raise InputError(
                            f"{p} is a symlink to {real}, outside the layer tree.",
                            hint="Layers can only contain their own files; remove the link.",
                        )
                    if real.is_dir():
                        continue
                elif entry.is_dir(follow_symlinks=False):
                    stack.append(p)
                    continue
                elif not entry.is_file(follow_symlinks=False):
                    continue
                out.append((p.relative_to(root).as_posix(), p))
    out.sort(key=lambda item: item[0].encode("utf-8"))
    return out


def _compress(path: Path, level: int, reuse: WheelStreams | None = None,
              cache: DeflateCache | None = None) -> Packed:
    """The entry's payload: the wheel's own deflated bytes for a file installed unchanged
    (see :mod:`.zipreuse`), else the stream an earlier build deflated from the same bytes
    (see :mod:`.deflatecache`), else deflated here."""
    kept = reuse.take(path, level) if reuse is not None else None
    if kept is not None:
        return kept
    got = (cache.pack(path) if cache is not None and cache.level == level
           else deflate(path, level))
    assert got is not None  # no stop event: never abandoned
    return got[0]


def _submit(pool: ThreadPoolExecutor | None, path: Path, level: int,
            ahead: Ahead | None, reuse: WheelStreams | None,
            cache: DeflateCache | None) -> Future[Packed]:
    """Compress on the pool, or inline (the serial writer) when there is none; a result
    deflated ahead for the unchanged file is used as is."""
    early = ahead.take(path, level) if ahead is not None else None
    if pool is not None and early is None:
        return pool.submit(_compress, path, level, reuse, cache)
    done: Future[Packed] = Future()
    done.set_result(early if early is not None else _compress(path, level, reuse, cache))
    return done


def ahead_of(root: Path, level: int, reuse: WheelStreams | None = None,
             cache: DeflateCache | None = None) -> Ahead:
    """An :class:`Ahead` over the files of a layer tree (``with`` it), bytecode and the files
    whose wheel stream the zip will copy left out; ``cache``: streams of earlier builds."""
    return Ahead([p for rel, p in walk_files(root) if "__pycache__/" not in rel
                  and not (reuse is not None and level == REUSE_LEVEL and reuse.reusable(p))],
                 level, packer=cache.pack if cache is not None and cache.level == level
                 else None)


class _HashingWriter:
    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.sha = hashlib.sha256()
        self.pos = 0

    def write(self, data: bytes) -> None:
        self.fh.write(data)
        self.sha.update(data)
        self.pos += len(data)


def write_zip(
    entries: Iterable[tuple[str, Path]],
    dest: Path,
    *,
    epoch: int = DOS_EPOCH,
    level: int = 6,
    jobs: int = 4,
    window_bytes: int = 64 * 1024 * 1024,
    on_file: Callable[[int], None] | None = None,
    before_commit: Callable[[], None] | None = None,
    ahead: Ahead | None = None,
    reuse: WheelStreams | None = None,
    cache: DeflateCache | None = None,
) -> ArchiveResult:
    """Write ``(arcname, path)`` entries (in the given order) to ``dest`` atomically;
    ``before_commit`` runs after the last byte, before the rename (if it raises, ``dest`` is
    left as it was). ``reuse``: files installed unchanged from a wheel keep its stream;
    ``cache``: the other files' streams from earlier builds (the same bytes either way)."""
    dest = Path(dest)
    require_parent(dest)
    items = list(entries)
    dos_time, dos_date = _dos_datetime(epoch)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    tmp = Path(tmp_name)
    central: list[bytes] = []
    compressed: dict[str, int] = {}
    unzipped = 0
    try:
        pool = ThreadPoolExecutor(max_workers=jobs) if jobs > 1 else None
        with os.fdopen(fd, "wb") as raw, pool or contextlib.nullcontext():
            out = _HashingWriter(raw)
            pending: deque[tuple[str, Future[Packed], int]] = deque()
            in_flight = 0
            it = iter(items)
            exhausted = False
            while True:
                while not exhausted and (in_flight < window_bytes or not pending):
                    nxt = next(it, None)
                    if nxt is None:
                        exhausted = True
                        break
                    arc, path = nxt
                    size = path.stat().st_size
                    pending.append((arc, _submit(pool, path, level, ahead, reuse, cache), size))
                    in_flight += size
                if not pending:
                    break
                arc, fut, size = pending.popleft()
                in_flight -= size
                data, method, crc, usize, mode = fut.result()
                if usize > _U32 or out.pos > _U32:
                    raise InputError(
                        f"{arc}: the layer is larger than 4 GiB, far beyond Lambda's limits.",
                        hint="Prune it first (see the size report).",
                    )
                name = arc.encode("utf-8")
                flags = 0x0800 if not arc.isascii() else 0
                perm = 0o755 if mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH) else 0o644
                offset = out.pos
                out.write(LFH.pack(
                    LFH_SIG, 20, flags, method, dos_time, dos_date,
                    crc, len(data), usize, len(name), 0,
                ) + name)
                out.write(data)
                central.append(CDH.pack(
                    CDH_SIG, (3 << 8) | 20, 20, flags, method,
                    dos_time, dos_date, crc, len(data), usize, len(name), 0, 0, 0, 0,
                    (stat.S_IFREG | perm) << 16, offset,
                ) + name)
                unzipped += usize
                compressed[arc] = len(data)
                if on_file:
                    on_file(usize)
            cd_offset = out.pos
            for rec in central:
                out.write(rec)
            cd_size = out.pos - cd_offset
            count = len(central)
            if count > 0xFFFF or cd_offset > _U32:
                z64_offset = out.pos
                out.write(EOCD64.pack(
                    EOCD64_SIG, 44, (3 << 8) | 45, 45, 0, 0,
                    count, count, cd_size, cd_offset,
                ))
                out.write(EOCD64_LOCATOR.pack(EOCD64_LOCATOR_SIG, 0, z64_offset, 1))
                out.write(EOCD.pack(
                    EOCD_SIG, 0, 0, 0xFFFF, 0xFFFF,
                    min(cd_size, _U32), min(cd_offset, _U32), 0,
                ))
            else:
                out.write(EOCD.pack(EOCD_SIG, 0, 0, count, count, cd_size, cd_offset, 0))
            raw.flush()
            os.fsync(raw.fileno())
            digest = out.sha.hexdigest()
            total = out.pos
        os.chmod(tmp, 0o644)
        if before_commit is not None:
            before_commit()
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return ArchiveResult(dest, total, unzipped, len(central), digest, compressed)


def write_layer_zip(
    root: Path, dest: Path, *, prefix: str = "python", lib: Path | None = None, **kw: object
) -> ArchiveResult:
    """Zip the tree at ``root`` with every entry under ``prefix/`` (Lambda's ``/opt/python``),
    and the files of ``lib`` (when given) under ``lib/`` (Lambda's ``/opt/lib``)."""
    entries = [(f"{prefix}/{rel}" if prefix else rel, p) for rel, p in walk_files(root)]
    if lib is not None and lib.is_dir():
        entries = sorted([*entries, *((f"lib/{rel}", p) for rel, p in walk_files(lib))],
                         key=lambda e: e[0].encode("utf-8"))
    return write_zip(entries, dest, **kw)  # type: ignore[arg-type]
