"""Byte-compilation for the target: unchecked-hash pycs whose recorded paths are
``/opt/python/...`` (the same on every machine, so the zip is reproducible)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..target.emulation import EmulatedIsolation
from ..target.proc import tail
from ..target.python import HOST, TargetPython
from .inventory import walk


def compile_tree(tp: TargetPython, root: Path, *, workers: int,
                 only: list[str] | None = None) -> tuple[int, list[str]]:
    """Byte-compile for the target with unchecked-hash pycs; returns (bytes added, errors).

    Compilation writes into the tree, so it runs on the host (bytecode depends only on the
    Python version, never on the machine), not in the read-only sandbox; an emulated
    interpreter keeps its emulator and only leaves the sandbox.
    """
    iso = tp.isolation
    host = replace(tp, isolation=iso.without_sandbox() if isinstance(iso, EmulatedIsolation)
                   else HOST)
    before = sum(walk(root).values())
    args = ["-I", "-m", "compileall", "-q", "-j", str(workers),
            "--invalidation-mode", "unchecked-hash", "-s", str(root), "-p", "/opt/python"]
    if only is None:
        args.append(str(root))
    else:
        args += [str(root / rel) for rel in only]
    proc = host.run(args)
    errors = []
    if proc.returncode != 0:
        errors = [ln for ln in (proc.stdout or "").splitlines() if ln.startswith("***")]
        if not errors:
            errors = [tail((proc.stdout or "") + (proc.stderr or ""), 5)]
    after = sum(walk(root).values())
    return after - before, errors
