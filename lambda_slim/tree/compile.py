"""Byte-compilation for the target: unchecked-hash pycs whose recorded paths are
``/opt/python/...`` (the same on every machine, so the zip is reproducible)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..target.proc import Runner, tail
from ..target.python import Interpreter
from .inventory import walk


def compile_tree(interp: Interpreter, root: Path, runner: Runner, env: Mapping[str, str], *,
                 workers: int, only: list[str] | None = None) -> tuple[int, list[str]]:
    """Byte-compile for the target with unchecked-hash pycs; returns (bytes added, errors)."""
    before = sum(walk(root).values())
    cmd = [str(interp.path), "-I", "-m", "compileall", "-q", "-j", str(workers),
           "--invalidation-mode", "unchecked-hash", "-s", str(root), "-p", "/opt/python"]
    if only is None:
        cmd.append(str(root))
    else:
        cmd += [str(root / rel) for rel in only]
    proc = runner(cmd, env={k: v for k, v in env.items() if not k.startswith("PYTHON")})
    errors = []
    if proc.returncode != 0:
        errors = [ln for ln in (proc.stdout or "").splitlines() if ln.startswith("***")]
        if not errors:
            errors = [tail((proc.stdout or "") + (proc.stderr or ""), 5)]
    after = sum(walk(root).values())
    return after - before, errors


