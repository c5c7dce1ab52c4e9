"""The build's external tools, found before any work starts: the target interpreter (bound
once as a :class:`~lambda_slim.target.python.TargetPython`), the Python that runs pip, and
``strip``; output folders are checked here too, so a mistake fails in seconds."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from ..artifact.atomic import require_parent
from ..errors import LambdaSlimError, ToolMissingError
from ..inputs.config import BuildConfig
from ..native.strip import find_strip
from ..target.emulated_sandbox import make_emulated_sandbox, sandbox_blocker
from ..target.emulation import Missing, detect, elf_facts
from ..target.proc import Runner
from ..target.proc import run as default_runner
from ..target.python import HOST, Interpreter, Isolation, TargetPython, find_interpreter
from ..target.runtimes import host_machine
from ..target.sandbox import DEFAULT_MEMORY_MB, make_sandbox, sandbox_unavailable
from ..target.syslibs import runtime_syslibs


@dataclass(frozen=True)
class Tools:
    """Everything external, resolved before any work starts."""

    #: the target interpreter bound with env, runner and isolation (under QEMU when the
    #: target's machine is not this one); None when not found
    target_python: TargetPython | None
    pip_python: Interpreter
    strip: str | None
    runner: Runner
    #: False when the target's machine differs from this one and no emulation was found.
    can_execute: bool = True
    #: runs byte-compilation on this machine (writes into the tree, so never sandboxed): the
    #: target interpreter, or for a cross build a native one of the same version if any
    compile_python: TargetPython | None = None
    #: True when ``target_python`` runs under QEMU (another machine's interpreter)
    emulated: bool = False
    #: the native target interpreter inside the Lambda-like sandbox; None when unavailable
    isolated: TargetPython | None = None

    @property
    def interpreter(self) -> Interpreter | None:
        return self.target_python.interpreter if self.target_python else None

    @property
    def runnable(self) -> TargetPython | None:
        """Where the layer's code runs (verify, smoke, trace, load checks): the sandbox when
        there is one, else the target interpreter as it is; None when it cannot run."""
        if not self.can_execute:
            return None
        return self.isolated or self.target_python

    @property
    def native(self) -> TargetPython | None:
        """The runnable target interpreter when it is this machine's own (the stages that
        build their own sandbox around an interpreter: borrowed libraries, the handler check,
        overflow starts); None under emulation."""
        return None if self.emulated else self.runnable


def check_tools(config: BuildConfig, env: Mapping[str, str], runner: Runner = default_runner,
                isolation: Isolation = HOST, *, writes: bool = True
                ) -> tuple[Tools, list[str]]:
    """Find the interpreter, strip and output folders up front; notes for what is skipped."""
    isolated: TargetPython | None = None
    if host_machine() != config.target.machine:
        cross = _cross_tools(config, env, runner, isolation)
        tp, native, notes = cross.target_python, cross.native, list(cross.notes)
        compile_tp = (TargetPython(native, env, runner, HOST) if native is not None
                      else cross.compile_python)
        can_execute = tp is not None
    else:
        notes = []
        native = find_interpreter(config.target.runtime.python, env, config.python, runner)
        if native is None:
            notes.append(_no_interpreter(config))
        tp = TargetPython(native, env, runner, isolation) if native is not None else None
        compile_tp = TargetPython(native, env, runner, HOST) if native is not None else None
        can_execute = True
        if tp is not None and config.sandbox and isolation.name == HOST.name:
            isolated, note = lambda_like(config, tp, env)
            notes += [note] if note else []
    pip_python = native or Interpreter(Path(sys.executable), sys.version_info[:2])
    if config.create_output_dir and writes:
        config.output.parent.mkdir(parents=True, exist_ok=True)
    strip = find_strip(config.target, env) if "strip" in config.rules else None
    if writes:
        require_parent(config.output)
    if config.json_path is not None:
        require_parent(config.json_path, "--json")
    emulated = tp is not None and host_machine() != config.target.machine
    return Tools(tp, pip_python, strip, runner, can_execute, compile_tp, emulated,
                 isolated), notes


def lambda_like(config: BuildConfig, tp: TargetPython, env: Mapping[str, str]
                ) -> tuple[TargetPython | None, str | None]:
    """``tp`` inside the Lambda-like sandbox, or None and the one-line reason it cannot be.

    With ``--require-verify`` an unavailable sandbox is fatal (exit 6): the proof would be
    weaker than asked for."""
    reason = sandbox_unavailable(env)
    if reason is None:
        syslibs = runtime_syslibs(config.target.runtime.name, config.target.arch,
                                  config.system_libs)
        try:
            box = make_sandbox(tp.interpreter.path, syslibs, env,
                               memory_mb=config.memory_mb or DEFAULT_MEMORY_MB,
                               cache_dir=config.cache_dir / "sandbox")
            return replace(tp, isolation=box), None
        except LambdaSlimError as exc:
            reason = exc.message
    note = (f"The Lambda-like sandbox is unavailable here: {reason}. Layer code runs on this "
            "host instead (its libraries stay visible; the static closure audit still runs).")
    if config.require_verify:
        raise ToolMissingError(note, hint="Install bubblewrap and allow user namespaces "
                               "(or run as root), or drop --require-verify.")
    return None, note


def _no_interpreter(config: BuildConfig) -> str:
    version = config.target.runtime.python
    v = config.target.runtime.python_str
    msg = (
        f"No Python {v} interpreter found (looked for $LAMBDA_SLIM_PYTHON_{version[0]}_"
        f"{version[1]}, python{v} on PATH, pyenv and uv installs)."
    )
    if config.require_verify:
        raise ToolMissingError(
            msg, hint=f"Install Python {v} (pyenv install {v}) or pass --python PATH."
        )
    return (msg + f" Verification and byte-compilation are skipped (pip runs under this Python "
            f"with environment markers judged for Python {v}). "
            f"Install Python {v} (e.g. `pyenv install {v}`) for a verified build.")


@dataclass(frozen=True)
class _Cross:
    target_python: TargetPython | None  # the foreign interpreter under QEMU
    native: Interpreter | None  # this machine's interpreter of the target's version
    compile_python: TargetPython | None  # the foreign one under QEMU, unsandboxed
    notes: tuple[str, ...]


def _runs_natively(path: str, env: Mapping[str, str], runner: Runner) -> bool:
    """Is ``--python PATH`` an interpreter of this machine (then it runs pip and compiles,
    and the target's interpreter is looked for elsewhere)?"""
    facts = elf_facts(Path(path))
    if facts is not None:
        return facts[0] == host_machine()
    if not Path(path).is_file():
        return False
    probe = TargetPython(Interpreter(Path(path), (0, 0)), env, runner)
    out = probe.run(["-c", "import platform; print(platform.machine())"], timeout=60)
    return out.returncode == 0 and out.stdout.strip() == host_machine()


def _cross_tools(config: BuildConfig, env: Mapping[str, str], runner: Runner,
                 isolation: Isolation) -> _Cross:
    """A target of another machine: pip and byte-compilation run natively (an interpreter
    of the target's version, else this one, with the target's tags and markers); the layer's
    code runs in a foreign interpreter under QEMU user-mode emulation, in the sandbox when
    one was asked for."""
    target, version = config.target, config.target.runtime.python
    explicit = config.python
    native_explicit = None
    if explicit is not None and _runs_natively(explicit, env, runner):
        native_explicit, explicit = explicit, None
    native = find_interpreter(version, env, native_explicit, runner)
    found = detect(target.machine, version, env, explicit, runner=runner)
    if isinstance(found, Missing):
        msg = (f"This machine is {host_machine()}; {target.arch} layers are verified under "
               f"QEMU user-mode emulation, but: {found.what}")
        if config.require_verify or config.trace:
            raise ToolMissingError(
                msg + (" --trace needs to run the workload." if config.trace else ""),
                hint=found.how + f" Or build on an {target.arch} machine.")
        note = (msg + " Verification is skipped; byte-compilation still runs (bytecode is "
                "architecture-independent) and environment markers are judged for "
                f"{target.machine}. {found.how}")
        return _Cross(None, native, None, (note,))
    notes: list[str] = []
    iso: Isolation = found.isolation()
    if config.sandbox or isolation.name != HOST.name:  # put the emulator inside a sandbox
        why = sandbox_blocker(found) or sandbox_unavailable(env)
        if why is None:
            syslibs = runtime_syslibs(target.runtime.name, target.arch, config.system_libs)
            iso = found.isolation(make_emulated_sandbox(found, syslibs, env,
                                                        memory_mb=config.memory_mb or 1024))
        else:
            note = f"The emulated interpreter runs without the Lambda-like sandbox: {why}."
            if config.require_verify:
                raise ToolMissingError(note, hint="Install bubblewrap and allow user "
                                       "namespaces, or drop --require-verify.")
            notes.append(note)
    interp = Interpreter(found.python.path, version)
    return _Cross(TargetPython(interp, env, runner, iso), native,
                  TargetPython(interp, env, runner, found.isolation()), tuple(notes))
