"""Where an invoked function runs: the target interpreter in the Lambda-like sandbox, under
QEMU for another architecture. Invoking without the sandbox would prove nothing Lambda-like,
so anything missing is a ToolMissingError (exit 6)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..errors import ToolMissingError
from ..target.emulated_sandbox import make_emulated_sandbox, sandbox_blocker
from ..target.emulation import Missing, detect
from ..target.proc import Runner
from ..target.python import Interpreter, TargetPython, find_interpreter
from ..target.runtimes import Target, host_machine
from ..target.sandbox import Limits, make_sandbox, sandbox_unavailable
from ..target.syslibs import runtime_syslibs

_HINT = "Install bubblewrap (apt-get install bubblewrap) and allow user namespaces."


def sandboxed_python(target: Target, env: Mapping[str, str], runner: Runner, cache_dir: Path,
                     *, explicit: str | None = None, memory_mb: int = 128,
                     system_libs: tuple[str, ...] = ()) -> TargetPython:
    """The target interpreter bound to the sandbox (and QEMU when the machine differs)."""
    version = target.runtime.python
    syslibs = runtime_syslibs(target.runtime.name, target.arch, system_libs)
    if host_machine() == target.machine:
        interp = find_interpreter(version, env, explicit, runner)
        if interp is None:
            v = target.runtime.python_str
            raise ToolMissingError(f"No Python {v} interpreter found to run the function.",
                                   hint=f"Install Python {v} (pyenv install {v}) or pass --python.")
        why = sandbox_unavailable(env)
        if why is not None:
            raise ToolMissingError(f"The Lambda-like sandbox cannot run here: {why}.", hint=_HINT)
        box = make_sandbox(interp.path, syslibs, env, limits=Limits(memory_mb=memory_mb),
                           cache_dir=cache_dir / "sandbox")
        return TargetPython(interp, env, runner, box)
    found = detect(target.machine, version, env, explicit, runner=runner)
    if isinstance(found, Missing):
        raise ToolMissingError(f"This machine is {host_machine()}; a {target.arch} function runs "
                               f"under QEMU user-mode emulation, but: {found.what}",
                               hint=found.how)
    why = sandbox_blocker(found) or sandbox_unavailable(env)
    if why is not None:
        raise ToolMissingError(f"The Lambda-like sandbox cannot run here: {why}.", hint=_HINT)
    iso = found.isolation(make_emulated_sandbox(found, syslibs, env,
                                                limits=Limits(memory_mb=memory_mb)))
    return TargetPython(Interpreter(found.python.path, version), env, runner, iso)
