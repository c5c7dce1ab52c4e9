"""Installing wheels by unpacking them, as the wheel spec lays them out in a ``--target``
tree, in parallel; broken or hostile wheels are refused with a :class:`ResolveError`."""

from __future__ import annotations

import csv
import io
import os
import shutil
import stat
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath

from ..artifact.zipahead import file_key
from ..artifact.zipreuse import Member, WheelStreams
from ..errors import ResolveError


def _wheel_target(name: str) -> str | None:
    """Where a wheel member goes in a ``--target`` tree; None for members a layer never
    needs (``.data/headers`` and ``.data/data``, which pip puts outside site-packages)."""
    parts = name.split("/")
    if len(parts) > 2 and parts[0].endswith(".data"):
        kind, rest = parts[1], "/".join(parts[2:])
        if kind in ("purelib", "platlib"):
            return rest
        if kind == "scripts":
            return "bin/" + rest
        return None
    return name


def _clash(names: list[str]) -> str | None:
    """A member that is both a file and a folder (``pkg/a`` and ``pkg/a/b``), or None."""
    files = {n for n in names if not n.endswith("/")}
    for n in names:
        parts = n.rstrip("/").split("/")
        for i in range(1, len(parts)):
            if "/".join(parts[:i]) in files:
                return "/".join(parts[:i])
    return None


def clash_error(whl: Path, exc: OSError) -> ResolveError:
    return ResolveError(
        f"{whl.name} puts a file where another wheel has a folder, or the reverse "
        f"({exc.filename}); both a file and a folder cannot exist at one path.",
        hint="Two packages install conflicting paths: drop one of them.")


def unpack_one(whl: Path, dest: Path, streams: WheelStreams | None) -> None:
    """Unpack one wheel into ``dest`` (see :func:`unpack_wheels`)."""
    try:
        _unpack_checked(whl, dest, streams)
    except zipfile.BadZipFile as exc:
        raise ResolveError(f"{whl.name} is not a readable wheel ({exc}).",
                           hint="Rebuild or re-download it; rerun with --refresh.") from None
    except (NotADirectoryError, IsADirectoryError, FileExistsError) as exc:
        raise clash_error(whl, exc) from None


def _unpack_checked(whl: Path, dest: Path, streams: WheelStreams | None) -> None:
    wheel_key = file_key(os.stat(whl))
    with zipfile.ZipFile(whl) as zf:
        record_name = None
        clash = _clash(zf.namelist())
        if clash is not None:
            raise ResolveError(
                f"{whl.name} holds both a file and a folder named {clash}; it cannot be "
                "installed (no file system can hold both).",
                hint="The wheel is broken: report it to the package's maintainers and pin "
                     "another version.")
        for info in zf.infolist():
            name = info.filename
            if name.endswith("/"):
                continue
            parts = PurePosixPath(name).parts
            if name.startswith("/") or ".." in parts or "\\" in name:
                raise ResolveError(
                    f"{whl.name} contains an unsafe member {name!r}; refusing to install it.",
                    hint="The wheel is corrupt or hostile: delete it from the cache "
                    "(~/.cache/lambda-slim/wheels) and report it to the package's maintainers.",
                )
            if parts[0].endswith(".dist-info") and parts[-1] == "RECORD" and len(parts) == 2:
                record_name = name
            target = _wheel_target(name)
            if target is None:
                continue
            out = dest / target
            out.parent.mkdir(parents=True, exist_ok=True)
            # A short temp name: the member's own name may already be at NAME_MAX.
            fd, tmp_name = tempfile.mkstemp(prefix=".ls-", suffix=".part", dir=out.parent)
            tmp = Path(tmp_name)
            with zf.open(info) as src, os.fdopen(fd, "wb") as fh:
                shutil.copyfileobj(src, fh, 1 << 20)
            mode = (info.external_attr >> 16) & 0o777
            os.chmod(tmp, 0o755 if mode & stat.S_IXUSR else 0o644)
            os.replace(tmp, out)
            # (not the dist-info's own files: RECORD and INSTALLER are rewritten below)
            if (streams is not None and info.compress_type == zipfile.ZIP_DEFLATED
                    and not (len(parts) == 2 and parts[0].endswith(".dist-info"))):
                streams.add(out, Member(whl, wheel_key, info.header_offset, info.compress_size,
                                        info.CRC, info.file_size, file_key(os.stat(out))))
        if record_name is not None:
            rows = list(csv.reader(io.StringIO(zf.read(record_name).decode("utf-8"))))
            fixed = []
            for row in rows:
                if row and row[0]:
                    target = _wheel_target(row[0])
                    if target is None:
                        continue
                    row = [target, *row[1:]]
                fixed.append(row)
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerows(fixed)
            (dest / record_name).write_text(buf.getvalue(), encoding="utf-8")
            (dest / record_name).with_name("INSTALLER").write_text("lambda-slim\n")


def unpack_wheels(wheels: list[Path], dest: Path, jobs: int,
                  streams: WheelStreams | None = None) -> None:
    """Install wheels by unpacking them in parallel (no deps, no scripts rewriting); with
    ``streams``, record where each installed file's deflated bytes lie in its wheel (by the
    file's resolved path), so a zip of the unchanged file can copy them."""
    dest.mkdir(parents=True, exist_ok=True)
    dest = dest.resolve()
    # Largest first so the long ones start early.
    order = sorted(wheels, key=lambda p: -p.stat().st_size)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for fut in [pool.submit(unpack_one, w, dest, streams) for w in order]:
            fut.result()
