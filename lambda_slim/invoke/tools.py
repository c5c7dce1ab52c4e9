"""Where an invoked function runs: the build's one factory (:func:`~lambda_slim.target.
placement.place`) decides, with the sandbox required. Invoking without it would prove nothing
Lambda-like, so anything missing is a ToolMissingError (exit 6)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..errors import ToolMissingError
from ..target.placement import RunSettings, place
from ..target.proc import Runner
from ..target.python import TargetPython
from ..target.runtimes import Target
from ..target.sandbox import Limits

_HINT = ("Install bubblewrap (apt-get install bubblewrap) and allow user namespaces; for "
         "another architecture also qemu-user-static and an interpreter of that architecture "
         "(--python).")


def sandboxed_python(target: Target, env: Mapping[str, str], runner: Runner, cache_dir: Path,
                     *, explicit: str | None = None, memory_mb: int = 128,
                     system_libs: tuple[str, ...] = ()) -> TargetPython:
    """The target interpreter bound to the sandbox (and QEMU when the machine differs)."""
    settings = RunSettings(target, python=explicit, system_libs=system_libs, sandbox=True,
                           require=True, must_run=True, limits=Limits(memory_mb=memory_mb),
                           cache_dir=cache_dir)
    try:
        placement = place(settings, env, runner)
    except ToolMissingError as exc:
        raise ToolMissingError(exc.message, hint=_HINT) from None
    if placement.runnable is None or not placement.sandboxed:
        why = "; ".join(placement.notes) or f"code would run in {placement.isolation_name!r}"
        raise ToolMissingError(f"Invoking needs the Lambda-like sandbox: {why}", hint=_HINT)
    return placement.runnable
