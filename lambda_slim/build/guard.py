"""Outputs never clobber inputs: every place a command will write, checked before any work.

A command names its inputs (the requirements file, the zip being checked or published) and
its outputs (``-o``, ``--json``, the manifest, ``--cache-dir``). Before anything runs, each
output must be writable where it is (its folder exists and accepts a new file, it is not a
folder itself), no two outputs may be the same file, and no output may be an input — compared
by resolved path and by inode, so ``./a.zip``, ``a.zip`` and a symlink to it are one file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ..errors import InputError
from ..inputs.config import BuildConfig

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


def writable_file(what: str, path: Path, *, create_parent: bool = False) -> None:
    """``path`` can be replaced atomically: not a folder, its folder exists (or may be
    created) and accepts new files."""
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
                  *, create_parents: Sequence[Path] = ()) -> None:
    """Everything above, for files; run before any work."""
    distinct_outputs(inputs, outputs)
    for what, out in outputs:
        writable_file(what, out, create_parent=out in create_parents)


def build_inputs(config: BuildConfig, includes: Sequence[Path] = ()) -> list[Named]:
    """What a build reads that an output could destroy."""
    named: list[Named] = [("REQUIREMENTS", config.requirements)]
    named += [("included requirements file", p) for p in includes]
    named += [("--smoke", p) for p in config.smoke] + [("--trace", p) for p in config.trace]
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
    creatable = [config.output, config.manifest_path()] if config.create_output_dir else []
    check_outputs(build_inputs(config, includes), outputs, create_parents=creatable)
    writable_folder("--cache-dir", config.cache_dir)
