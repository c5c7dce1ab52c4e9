"""Where layer code runs: the one factory every caller gets its :class:`TargetPython` from.

A build runs the layer's code for the import check, smoke scripts, the trace, strip's load
checks, the ``--handler`` import, borrowed-library loads and the ``--overflow`` start. All of
them take the ``runnable`` :class:`TargetPython` of one :class:`Placement`, made once by
:func:`place` from :class:`RunSettings`: this machine's interpreter in the Lambda-like sandbox
(``sandbox``), the target's interpreter under QEMU in the sandbox (``sandbox+qemu-aarch64``),
or either on the host when the sandbox cannot run here (``host``, ``host+qemu-aarch64``),
each with the same memory setting, ``/tmp`` size and process limits. A cross-architecture
build therefore proves the same things as a native one, or says why it cannot (exit 6 under
``--require-verify``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import LambdaSlimError, ToolMissingError
from .emulated_sandbox import make_emulated_sandbox, sandbox_blocker
from .emulation import Missing, detect, elf_facts
from .proc import Runner
from .proc import run as default_runner
from .python import HOST, Interpreter, Isolation, TargetPython, find_interpreter
from .runtimes import Target, host_machine
from .sandbox import DEFAULT_LIMITS, DEFAULT_MEMORY_MB, Limits, make_sandbox, sandbox_unavailable
from .syslibs import SystemLibraries, runtime_syslibs


@dataclass(frozen=True)
class RunSettings:
    """What a build says about where and how layer code runs (made once from its config)."""

    target: Target
    #: ``--python``: the interpreter to use (this machine's, or the target machine's)
    python: str | None = None
    system_libs: tuple[str, ...] = ()
    #: run layer code in the Lambda-like sandbox when this machine allows it
    sandbox: bool = True
    #: ``--require-verify``: a weaker proof than asked for is fatal (exit 6)
    require: bool = False
    #: ``--trace``: the workload must run, so not being able to run is fatal
    must_run: bool = False
    limits: Limits = DEFAULT_LIMITS
    cache_dir: Path | None = None

    def syslibs(self) -> SystemLibraries:
        return runtime_syslibs(self.target.runtime.name, self.target.arch, self.system_libs)


@dataclass(frozen=True)
class Placement:
    """The interpreters of one build, decided once."""

    #: where the layer's code runs; None when it cannot run here (``skipped`` says why)
    runnable: TargetPython | None
    #: this machine's interpreter of the target's Python version (runs pip), if any
    native: Interpreter | None
    #: byte-compiles into the tree (writes, so never sandboxed)
    compile_python: TargetPython | None
    #: True when ``runnable`` is another machine's interpreter under QEMU
    emulated: bool
    notes: tuple[str, ...] = ()

    @property
    def isolation_name(self) -> str:
        """The isolation's name (``verify.environment``), or ``none`` when nothing runs."""
        return self.runnable.isolation.name if self.runnable is not None else "none"

    @property
    def sandboxed(self) -> bool:
        """Whether runs get Lambda's view (read-only /opt, a fresh /tmp each run)."""
        return self.isolation_name.startswith("sandbox")


def place(settings: RunSettings, env: Mapping[str, str], runner: Runner = default_runner,
          isolation: Isolation = HOST) -> Placement:
    """Find the interpreters and decide where layer code runs (``isolation``: a given one,
    such as a test's fake, instead of the sandbox).

    Raises ToolMissingError when ``require``/``must_run`` cannot be honoured."""
    if host_machine() != settings.target.machine:
        return _cross(settings, env, runner, isolation)
    native = find_interpreter(settings.target.runtime.python, env, settings.python, runner)
    if native is None:
        return Placement(None, None, None, False, (_no_interpreter(settings),))
    tp = TargetPython(native, env, runner, isolation)
    compile_tp = TargetPython(native, env, runner, HOST)
    notes: list[str] = []
    if settings.sandbox and isolation.name == HOST.name:
        boxed, note = lambda_like(settings, tp, env)
        tp = boxed or tp
        notes += [note] if note else []
    return Placement(tp, native, compile_tp, False, tuple(notes))


def lambda_like(settings: RunSettings, tp: TargetPython, env: Mapping[str, str]
                ) -> tuple[TargetPython | None, str | None]:
    """``tp`` inside the Lambda-like sandbox, or None and the one-line reason it cannot be.

    With ``require`` an unavailable sandbox is fatal (exit 6): the proof would be weaker
    than asked for."""
    reason = sandbox_unavailable(env)
    if reason is None:
        try:
            box = make_sandbox(tp.interpreter.path, settings.syslibs(), env,
                               limits=settings.limits, cache_dir=_sandbox_cache(settings))
            return replace(tp, isolation=box), None
        except LambdaSlimError as exc:
            reason = exc.message
    unavailable = f"The Lambda-like sandbox is unavailable here: {reason}."
    if settings.require:
        raise ToolMissingError(unavailable, hint="Install bubblewrap and allow user namespaces "
                               "(or run as root), or drop --require-verify.")
    return None, (unavailable + " Layer code runs on this host instead (its libraries stay "
                  "visible; the static closure audit still runs).")


def _sandbox_cache(settings: RunSettings) -> Path | None:
    return settings.cache_dir / "sandbox" if settings.cache_dir is not None else None


def _no_interpreter(settings: RunSettings) -> str:
    version = settings.target.runtime.python
    v = settings.target.runtime.python_str
    msg = (f"No Python {v} interpreter found (looked for $LAMBDA_SLIM_PYTHON_{version[0]}_"
           f"{version[1]}, python{v} on PATH, pyenv and uv installs).")
    if settings.require:
        raise ToolMissingError(
            msg, hint=f"Install Python {v} (pyenv install {v}) or pass --python PATH.")
    return (msg + f" Verification and byte-compilation are skipped (pip runs under this Python "
            f"with environment markers judged for Python {v}). "
            f"Install Python {v} (e.g. `pyenv install {v}`) for a verified build.")


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


def _cross(settings: RunSettings, env: Mapping[str, str], runner: Runner,
           isolation: Isolation) -> Placement:
    """A target of another machine: pip and byte-compilation run natively (an interpreter
    of the target's version, else none), the layer's code in the target's interpreter under
    QEMU user-mode emulation, in the sandbox when one was asked for."""
    target, version = settings.target, settings.target.runtime.python
    explicit = settings.python
    native_explicit = None
    if explicit is not None and _runs_natively(explicit, env, runner):
        native_explicit, explicit = explicit, None
    native = find_interpreter(version, env, native_explicit, runner)
    native_tp = TargetPython(native, env, runner, HOST) if native is not None else None
    found = detect(target.machine, version, env, explicit, runner=runner)
    if isinstance(found, Missing):
        msg = (f"This machine is {host_machine()}; {target.arch} layers are verified under "
               f"QEMU user-mode emulation, but: {found.what}")
        if settings.require or settings.must_run:
            raise ToolMissingError(
                msg + (" --trace needs to run the workload." if settings.must_run else ""),
                hint=found.how + f" Or build on an {target.arch} machine.")
        note = (msg + " Verification is skipped; byte-compilation still runs (bytecode is "
                "architecture-independent) and environment markers are judged for "
                f"{target.machine}. {found.how}")
        return Placement(None, native, native_tp, True, (note,))
    notes: list[str] = []
    iso: Isolation = found.isolation()
    if settings.sandbox or isolation.name != HOST.name:  # put the emulator inside a sandbox
        why = sandbox_blocker(found) or sandbox_unavailable(env)
        if why is None:
            iso = found.isolation(make_emulated_sandbox(
                found, settings.syslibs(), env, limits=settings.limits,
                cache_dir=_sandbox_cache(settings)))
        else:
            note = f"The emulated interpreter runs without the Lambda-like sandbox: {why}."
            if settings.require:
                raise ToolMissingError(note, hint="Install bubblewrap and allow user "
                                       "namespaces, or drop --require-verify.")
            notes.append(note)
    interp = Interpreter(found.python.path, version)
    compile_tp = native_tp or TargetPython(interp, env, runner, found.isolation())
    return Placement(TargetPython(interp, env, runner, iso), native, compile_tp, True,
                     tuple(notes))


__all__ = ["DEFAULT_MEMORY_MB", "Limits", "Placement", "RunSettings", "lambda_like", "place"]
