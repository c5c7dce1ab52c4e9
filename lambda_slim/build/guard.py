"""Outputs never clobber inputs: every place a command will write, checked before any work.

The one guard of every command (``build``, ``trace``, ``check``, ``publish``, ``report``,
``diff``). A command names its inputs (the requirements file or lock and the pyproject beside
it, ``--layer-zip``, every file of ``--function SRC``, ``--smoke``/``--trace`` scripts, the
reports or zips it reads) and its outputs (``-o``, the manifest, ``--json``, ``--html``,
``--cache-dir``, ``$GITHUB_STEP_SUMMARY``). Before anything runs, each output must be writable
where it is (its folder exists and accepts a new file, it is not a folder itself, its name fits
the filesystem; an appended one is writable itself), no two outputs may be the same file, and no
output may be an input — compared by resolved path and by inode, so ``./a.zip``, ``a.zip`` and a
symlink to it are one file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

from ..errors import InputError
from ..inputs.config import BuildConfig
from .function import function_code

#: (what the user called it, path): "--json", "-o", "REQUIREMENTS", ...
Named = tuple[str, Path]


def _same(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _probe(folder: Path, what: str, path: Path) -> None:
    """Create and delete a temp file in ``folder``: the only test root cannot fool."""
    try:
        fd, name = tempfile.mkstemp(prefix=".lambda-slim-probe-", dir=folder)
    except OSError as exc:
        raise InputError(
            f"Cannot write {what} {path}: the folder {folder} is not writable "
            f"({exc.strerror or exc}).",
            hint=f"Choose another {what} path, or fix the folder's permissions.",
        ) from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(name)


def _fits(what: str, path: Path) -> None:
    """Every component of ``path`` fits the filesystem's name limit (checked, not crashed on)."""
    limit = 255
    with contextlib.suppress(OSError, ValueError):
        limit = os.pathconf(path.parent if path.parent.is_dir() else "/", "PC_NAME_MAX")
    long = next((part for part in path.parts if len(os.fsencode(part)) > limit), None)
    if long is not None or len(os.fsencode(str(path))) > 4095:
        raise InputError(
            f"{what} {str(path)[:120]}...: the name is longer than the filesystem allows "
            f"({limit} bytes a name, 4095 a path).", hint=f"Choose a shorter {what} path.")


def writable_file(what: str, path: Path, *, create_parent: bool = False,
                  append: bool = False) -> None:
    """``path`` can be replaced atomically (or, ``append``, appended to): not a folder, its
    folder exists (or may be created) and accepts new files."""
    _fits(what, path)
    if path.is_dir():
        raise InputError(f"{what} {path} is a folder; it must name a file.",
                         hint=f"Give a file name inside it, e.g. {what} {path / 'layer.zip'}.")
    parent = path.parent
    if create_parent:
        writable_folder(what, parent)
        return
    if not parent.exists():
        raise InputError(
            f"Cannot write {path}: the directory {parent} does not exist.",
            hint=f"Create it (mkdir -p {parent}) or choose another {what} path.",
        )
    if not parent.is_dir():
        raise InputError(f"Cannot write {what} {path}: {parent} is a file, not a folder.",
                         hint=f"Choose another {what} path.")
    if append and path.exists():
        try:
            with open(path, "a", encoding="utf-8"):
                pass
        except OSError as exc:
            raise InputError(f"Cannot append to {what} {path} ({exc.strerror or exc}).",
                             hint=f"Fix its permissions or point {what} at a writable file.") from None
        return
    _probe(parent, what, path)


def writable_folder(what: str, folder: Path) -> None:
    """``folder`` is a folder that accepts new files, or can be created as one."""
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise InputError(f"{what} {folder}: {probe} is a file, not a folder.",
                         hint=f"Choose another {what} path.")
    _probe(probe, what, folder)


def distinct_outputs(inputs: Sequence[Named], outputs: Sequence[Named]) -> None:
    """Refuse an output that is an input, or two outputs that are one file."""
    for i, (what, out) in enumerate(outputs):
        for in_what, src in inputs:
            if _same(out, src):
                raise InputError(
                    f"{what} {out} is the {in_what} this command reads; writing it would "
                    "destroy the input.",
                    hint=f"Choose another {what} path.",
                )
        for other_what, other in outputs[:i]:
            if _same(out, other):
                raise InputError(
                    f"{what} and {other_what} both name {out}; one would overwrite the other.",
                    hint="Give them different paths.",
                )


def check_outputs(inputs: Sequence[Named], outputs: Sequence[Named],
                  *, create_parents: Sequence[Path] = (), appended: Sequence[Path] = ()) -> None:
    """Everything above, for files; run before any work."""
    for what, out in outputs:
        _fits(what, out)
    distinct_outputs(inputs, outputs)
    for what, out in outputs:
        writable_file(what, out, create_parent=out in create_parents, append=out in appended)


def _function_files(config: BuildConfig) -> list[Named]:
    """Every file of the function folder that ships (an output must never replace one)."""
    if config.function is None or not config.function.is_dir():
        return []
    code = function_code(config)
    return [(f"file {rel} of --function {config.function}", real)
            for rel, real in code.sources.items()]


def _looks_like(what: str, path: Path) -> bool:
    """Whether the existing ``path`` is what output ``what`` writes (a zip for ``-o``, JSON for
    the manifest and ``--json``, HTML for ``--html``): only then may a build replace it."""
    try:
        head = path.read_bytes()[:512]
    except OSError:
        return False
    if what == "-o":
        return zipfile.is_zipfile(path)
    if what == "--html":
        return head.lstrip().lower().startswith((b"<!doctype html", b"<html"))
    return head.lstrip().startswith(b"{")


def _inside_function(config: BuildConfig, outputs: Sequence[Named]) -> None:
    """An output inside the function folder may replace only an earlier output of its kind
    (it is then left out of the zip), never a file of the function's own."""
    if config.function is None or not config.function.is_dir():
        return
    src = config.function.resolve()
    for what, out in outputs:
        real = out.resolve()
        if src in real.parents and real.is_file() and not _looks_like(what, real):
            raise InputError(
                f"{what} {out} is a file of the function folder {config.function} (not an earlier "
                f"{what} output); writing it would destroy the input.",
                hint=f"Choose another {what} path, outside {config.function}.")


def build_inputs(config: BuildConfig, includes: Sequence[Path] = ()) -> list[Named]:
    """What a build reads that an output could destroy."""
    named: list[Named] = [("REQUIREMENTS", config.requirements)]
    named += [("input file", p) for p in includes]
    named += [("--smoke", p) for p in config.smoke] + [("--trace", p) for p in config.trace]
    named += [("--layer-zip", z) for z in config.layer_zips]
    if config.function is not None:
        named += [("--function", config.function), *_function_files(config)]
    return named


def guard_build(config: BuildConfig, includes: Sequence[Path] = (), *,
                writes: bool = True) -> None:
    """Every output of a build writable and clobbering nothing, before any work (``writes``:
    False for a plan or a trace preview, which write no zip)."""
    outputs: list[Named] = []
    if writes:
        outputs += [("-o", config.output), ("the manifest", config.manifest_path())]
    if config.json_path is not None:
        outputs.append(("--json", config.json_path))
    if config.html_path is not None:
        outputs.append(("--html", config.html_path))
    creatable = [config.output, config.manifest_path()] if config.create_output_dir else []
    if config.html_path is not None and creatable \
            and config.html_path.resolve().parent == config.output.resolve().parent:
        creatable.append(config.html_path)
    _inside_function(config, outputs)
    check_outputs(build_inputs(config, includes), outputs, create_parents=creatable)
    writable_folder("--cache-dir", config.cache_dir)
