"""Running an interpreter of another architecture under QEMU user-mode emulation (issue 12).

An arm64 layer built on an x86_64 machine (or the reverse) can still be proven: the layer's
code runs in an aarch64 CPython of the target's Python version, executed by
``qemu-aarch64-static`` (or a registered ``binfmt_misc`` handler). QEMU runs one foreign
program at a time on the host kernel; the program's own dynamic loader and C library come from
a *sysroot* (QEMU's ``-L``), for example a folder that Debian's arm64 ``python3.11`` packages
were unpacked into with ``dpkg -x``.

Only layer code needs the emulated interpreter: resolution and installation run natively with
the target's platform tags (see :mod:`lambda_slim.resolve.markers`).

Detection never raises for a missing piece; it returns :class:`Missing` with one line saying
what is missing and one saying how to get it, so the build can note it (or fail with exit 6
under ``--require-verify``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.segments import InterpSegment

from ..errors import InputError
from .proc import TIMED_OUT, Runner
from .proc import run as default_runner
from .python import BindableIsolation, Interpreter, Isolation, Launch, TargetPython

__all__ = ["EmulatedIsolation", "Emulation", "Isolation", "Launch", "Missing", "detect"]

#: QEMU user-mode binaries per ELF machine, most self-contained first (``-static`` needs no
#: host libraries, so it also works inside a sandbox that hides them).
QEMU_BINARIES: dict[str, tuple[str, ...]] = {
    "aarch64": ("qemu-aarch64-static", "qemu-aarch64"),
    "x86_64": ("qemu-x86_64-static", "qemu-x86_64"),
}
#: ELF ``e_machine`` numbers as they appear (little-endian) in a binfmt_misc magic.
_E_MACHINE = {"aarch64": 183, "x86_64": 62}
_ELF_MACHINES = {"EM_AARCH64": "aarch64", "EM_X86_64": "x86_64"}
#: Where Debian/Ubuntu's cross C libraries live (``apt-get install libc6-arm64-cross``).
CROSS_SYSROOTS: dict[str, tuple[str, ...]] = {
    "aarch64": ("/usr/aarch64-linux-gnu",),
    "x86_64": ("/usr/x86_64-linux-gnu",),
}
BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")
#: Emulated CPython starts in ~1-4 s; a probe that takes minutes is broken, not slow.
PROBE_TIMEOUT = 180.0


@dataclass(frozen=True)
class Missing:
    """Why emulation is not available, and how to get what is missing."""

    what: str
    how: str

    def __str__(self) -> str:
        return f"{self.what} {self.how}"


@dataclass(frozen=True)
class Emulator:
    """A way to run ``machine`` binaries here: a QEMU binary, a binfmt handler, or both."""

    machine: str
    path: Path | None  # qemu-<machine>[-static] to put in front of argv
    binfmt: Path | None  # an enabled /proc/sys/fs/binfmt_misc entry for the machine

    @property
    def name(self) -> str:
        return f"qemu-{self.machine}"

    def describe(self) -> str:
        if self.path is not None:
            return str(self.path)
        return f"binfmt_misc handler {self.binfmt}"


@dataclass(frozen=True)
class ForeignPython:
    """An interpreter of another architecture and how to start it under the emulator."""

    path: Path  # an ELF executable, or a wrapper script that starts the emulator itself
    version: tuple[int, int]
    machine: str
    sysroot: Path | None  # QEMU's -L: where its loader and C library are
    wrapper: bool  # True when ``path`` is a script: run as is
    source: str  # "--python", "$LAMBDA_SLIM_PYTHON_3_11_AARCH64", "uv"


def _binfmt_handler(machine: str, binfmt_dir: Path) -> Path | None:
    """An enabled binfmt_misc entry whose magic matches ELF executables of ``machine``."""
    try:
        if (binfmt_dir / "status").read_text().strip() != "enabled":
            return None
        entries = sorted(binfmt_dir.iterdir())
    except OSError:
        return None
    want = _E_MACHINE[machine].to_bytes(2, "little").hex()
    for entry in entries:
        if entry.name in ("status", "register"):
            continue
        try:
            lines = entry.read_text().splitlines()
        except OSError:
            continue
        fields = dict(line.split(" ", 1) for line in lines if " " in line)
        magic = fields.get("magic", "")
        if lines[:1] == ["enabled"] and magic.startswith("7f454c46") and magic[36:40] == want:
            return entry
    return None


def find_emulator(machine: str, env: Mapping[str, str],
                  binfmt_dir: Path = BINFMT_DIR) -> Emulator | Missing:
    """QEMU for ``machine`` on PATH, or a registered binfmt_misc handler."""
    names = QEMU_BINARIES.get(machine)
    if names is None:
        return Missing(f"lambda-slim cannot emulate {machine}.", "Build on a machine of it.")
    path = next((p for p in (shutil.which(n, path=env.get("PATH")) for n in names) if p), None)
    handler = _binfmt_handler(machine, binfmt_dir)
    if path is None and handler is None:
        return Missing(
            f"No QEMU emulator for {machine} (looked for {' and '.join(names)} on PATH and a "
            f"binfmt_misc handler in {binfmt_dir}).",
            "Install it: `apt-get install qemu-user-static` (Debian/Ubuntu; Fedora: "
            "`dnf install qemu-user-static`).",
        )
    return Emulator(machine, Path(path) if path else None, handler)


def elf_facts(path: Path) -> tuple[str, str | None] | None:
    """(machine, PT_INTERP) of an ELF executable; None when it is not ELF."""
    try:
        with open(path, "rb") as fh:
            if fh.read(4) != b"\x7fELF":
                return None
            fh.seek(0)
            elf = ELFFile(fh)
            machine = _ELF_MACHINES.get(elf["e_machine"], str(elf["e_machine"]))
            loader = None
            for seg in elf.iter_segments():
                if isinstance(seg, InterpSegment):
                    loader = seg.get_interp_name()
            return machine, loader
    except (OSError, ELFError, ValueError):
        return None


def find_sysroot(exe: Path, loader: str | None, machine: str,
                 env: Mapping[str, str]) -> Path | Missing | None:
    """Where the dynamic loader ``loader`` of ``exe`` is: a parent folder of the executable
    (a ``dpkg -x`` tree), ``$QEMU_LD_PREFIX``, a cross C library, or the host itself (None)."""
    if loader is None:  # statically linked
        return None
    rel = loader.lstrip("/")
    for parent in exe.resolve().parents:
        if parent != Path("/") and (parent / rel).exists():
            return parent
    for cand in (env.get("QEMU_LD_PREFIX", ""), *CROSS_SYSROOTS.get(machine, ())):
        if cand and (Path(cand) / rel).exists():
            return Path(cand)
    if Path(loader).exists():  # multiarch: the host has libc6 for this machine installed
        return None
    return Missing(
        f"{exe} is an {machine} executable, but no {machine} C library was found for it "
        f"(its loader {loader} is not under a parent folder, $QEMU_LD_PREFIX or "
        f"{', '.join(CROSS_SYSROOTS.get(machine, ()))}).",
        f"Install one (`apt-get install libc6-{_DEB_ARCH.get(machine, machine)}-cross "
        f"libstdc++6-{_DEB_ARCH.get(machine, machine)}-cross`) or set QEMU_LD_PREFIX to a "
        "folder holding it.",
    )


_DEB_ARCH = {"aarch64": "arm64", "x86_64": "amd64"}


def interpreter_candidates(machine: str, version: tuple[int, int],
                           env: Mapping[str, str]) -> list[tuple[str, str]]:
    """(path, source) pairs in the order tried: ``$LAMBDA_SLIM_PYTHON_3_11_AARCH64``, then
    uv-managed interpreters for the machine (``uv python install cpython-3.11-linux-aarch64-gnu``)."""
    v = f"{version[0]}.{version[1]}"
    var = f"LAMBDA_SLIM_PYTHON_{version[0]}_{version[1]}_{machine.upper()}"
    found: list[tuple[str, str]] = []
    if env.get(var):
        found.append((env[var], f"${var}"))
    uv_dirs = [env.get("UV_PYTHON_INSTALL_DIR", "")]
    if env.get("XDG_DATA_HOME"):
        uv_dirs.append(str(Path(env["XDG_DATA_HOME"]) / "uv" / "python"))
    if env.get("HOME"):
        uv_dirs.append(str(Path(env["HOME"]) / ".local" / "share" / "uv" / "python"))
    for d in dict.fromkeys(x for x in uv_dirs if x):
        base = Path(d)
        if base.is_dir():
            for inst in sorted(base.glob(f"cpython-{v}.*-linux-{machine}-gnu"), reverse=True):
                exe = inst / "bin" / f"python{v}"
                if exe.exists():
                    found.append((str(exe), "uv"))
    return found


def launcher(emulator: Emulator, python: ForeignPython) -> tuple[list[str], dict[str, str]]:
    """argv prefix and extra environment that start ``python`` under ``emulator``."""
    if python.wrapper:
        return [str(python.path)], {}
    if emulator.path is not None:
        prefix = [str(emulator.path)]
        if python.sysroot is not None:
            prefix += ["-L", str(python.sysroot)]
        return [*prefix, str(python.path)], {}
    extra = {"QEMU_LD_PREFIX": str(python.sysroot)} if python.sysroot is not None else {}
    return [str(python.path)], extra


_PROBE = ("import platform, sys; "
          "print('%d.%d' % sys.version_info[:2], platform.machine(), sys.executable)")


def _probe(emulator: Emulator, python: ForeignPython, env: Mapping[str, str],
           timeout: float, runner: Runner = default_runner
           ) -> tuple[tuple[int, int], str, str] | str:
    """(version, machine, sys.executable) as the interpreter reports them, or why not; run
    through the TargetPython seam under this emulator."""
    candidate = TargetPython(Interpreter(python.path, python.version), env, runner,
                             EmulatedIsolation(emulator, python))
    try:
        out = candidate.run(["-I", "-S", "-c", _PROBE], timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"did not answer within {timeout:.0f}s under emulation"
    except OSError as exc:
        return f"could not be started ({exc.strerror})"
    if out.returncode == TIMED_OUT and "[timed out after" in (out.stderr or ""):
        return f"did not answer within {timeout:.0f}s under emulation"
    words = out.stdout.strip().split(" ", 2)
    if out.returncode != 0 or len(words) != 3:
        err = (out.stderr or out.stdout).strip().splitlines()
        return f"exited {out.returncode}" + (f": {err[-1]}" if err else "")
    try:
        major, minor = (int(x) for x in words[0].split("."))
    except ValueError:
        return f"printed {out.stdout.strip()!r}"
    return (major, minor), words[1], words[2]


def _classify(path: str, source: str, machine: str, version: tuple[int, int],
              env: Mapping[str, str]) -> ForeignPython | Missing:
    p = Path(path)
    if not p.is_file() or not os.access(p, os.X_OK):
        return Missing(f"{source} {path} is not an executable file.",
                       "Point it at an aarch64 python3.X or a wrapper script that runs one.")
    facts = elf_facts(p)
    if facts is None:  # a script: it starts the emulator itself
        return ForeignPython(p, version, machine, None, True, source)
    elf_machine, loader = facts
    if elf_machine != machine:
        return Missing(f"{source} {path} is an {elf_machine} executable, not {machine}.",
                       f"Point it at an {machine} interpreter.")
    sysroot = find_sysroot(p, loader, machine, env)
    if isinstance(sysroot, Missing):
        return sysroot
    return ForeignPython(p.resolve(), version, machine, sysroot, False, source)


def _look_through(python: ForeignPython, executable: str,
                  env: Mapping[str, str]) -> ForeignPython:
    """A wrapper script is replaced by the ELF interpreter it starts (``sys.executable``) when
    that one's loader is found, so the emulator and sysroot are known (a sandbox must show
    them); otherwise the wrapper is run as is."""
    if not python.wrapper:
        return python
    inner = _classify(executable, python.source, python.machine, python.version, env)
    return inner if isinstance(inner, ForeignPython) and not inner.wrapper else python


def find_foreign_python(
    machine: str, version: tuple[int, int], env: Mapping[str, str], emulator: Emulator,
    explicit: str | None = None, timeout: float = PROBE_TIMEOUT,
    runner: Runner = default_runner,
) -> ForeignPython | Missing:
    """The first working ``machine`` interpreter of exactly ``version``.

    ``explicit`` (``--python``) is the only candidate when given, and a wrong one is an
    InputError (exit 2) naming what it is; otherwise ``$LAMBDA_SLIM_PYTHON_3_X_AARCH64`` and
    uv's managed interpreters are tried and the reasons they were passed over are reported.
    """
    cands = [(explicit, "--python")] if explicit else interpreter_candidates(machine, version, env)
    v = f"{version[0]}.{version[1]}"
    reasons: list[str] = []
    for path, source in cands:
        got = _classify(path, source, machine, version, env)
        if isinstance(got, Missing):
            if explicit:
                raise InputError(got.what, hint=got.how)
            reasons.append(got.what)
            continue
        probed = _probe(emulator, got, env, timeout, runner)
        if isinstance(probed, tuple) and probed[:2] == (version, machine):
            return _look_through(got, probed[2], env)
        why = (f"is Python {probed[0][0]}.{probed[0][1]} for {probed[1]}"
               if isinstance(probed, tuple) else probed)
        if explicit:
            raise InputError(
                f"The interpreter {explicit!r} {why}, but the target needs Python {v} for "
                f"{machine} (run under {emulator.describe()}).",
                hint=f"Pass an {machine} python{v} (or a wrapper script running one) with --python.",
            )
        reasons.append(f"{source} {path} {why}")
    var = f"LAMBDA_SLIM_PYTHON_{version[0]}_{version[1]}_{machine.upper()}"
    tried = f" ({'; '.join(reasons)})" if reasons else ""
    return Missing(
        f"No {machine} Python {v} interpreter (looked at ${var} and uv's "
        f"cpython-{v}.*-linux-{machine}-gnu installs){tried}.",
        f"Get one: `uv python install cpython-{v}-linux-{machine}-gnu` (plus `apt-get install "
        f"libc6-{_DEB_ARCH.get(machine, machine)}-cross` for its C library), or unpack Debian's "
        f"{_DEB_ARCH.get(machine, machine)} python{v} packages with `dpkg -x` (README: \"arm64 "
        f"on x86_64\"); then pass --python PATH or set {var}.",
    )


@dataclass(frozen=True)
class Emulation:
    """A found emulator and interpreter; :meth:`isolation` runs children through them."""

    emulator: Emulator
    python: ForeignPython

    def isolation(self, inner: Isolation | None = None) -> EmulatedIsolation:
        return EmulatedIsolation(self.emulator, self.python, inner)


def detect(machine: str, version: tuple[int, int], env: Mapping[str, str],
           explicit: str | None = None, binfmt_dir: Path = BINFMT_DIR,
           runner: Runner = default_runner) -> Emulation | Missing:
    """Everything needed to run ``machine`` code of Python ``version`` here, or what is not."""
    emulator = find_emulator(machine, env, binfmt_dir)
    if isinstance(emulator, Missing):
        return emulator
    python = find_foreign_python(machine, version, env, emulator, explicit, runner=runner)
    if isinstance(python, Missing):
        return python
    return Emulation(emulator, python)


class EmulatedIsolation:
    """Isolation that starts the interpreter under QEMU, optionally inside another isolation
    (the Lambda-like sandbox), which then has to show the emulator and the sysroot."""

    def __init__(self, emulator: Emulator, python: ForeignPython,
                 inner: Isolation | None = None) -> None:
        self.emulator = emulator
        self.python = python
        self.inner = inner
        self.name = f"{inner.name if inner is not None else 'host'}+{emulator.name}"

    def support_paths(self) -> list[Path]:
        """Host paths the emulated child needs besides the interpreter (for a sandbox)."""
        out = [p for p in (self.emulator.path, self.python.sysroot) if p is not None]
        return out

    def wrap(self, argv: Sequence[str], *, env: Mapping[str, str], layer: Path | None,
             paths: Sequence[Path], cwd: Path | None) -> Launch:
        """``argv[0]`` is the interpreter as the caller knows it; it is replaced by the
        emulator's launcher for this interpreter."""
        prefix, extra = launcher(self.emulator, self.python)
        full = [*prefix, *argv[1:]]
        merged = {**env, **extra}
        if self.inner is not None:
            return self.inner.wrap(full, env=merged, layer=layer, paths=paths, cwd=cwd)
        return Launch(full, merged, cwd)

    def inside(self, host_path: Path) -> str:
        return self.inner.inside(host_path) if self.inner is not None else str(host_path)

    def without_sandbox(self) -> EmulatedIsolation:
        """The emulator alone (for runs that write into the tree, like byte-compilation)."""
        return EmulatedIsolation(self.emulator, self.python)

    def bound(self, layer: Path | None, paths: Sequence[Path] = ()) -> EmulatedIsolation:
        """A copy whose inner isolation maps ``layer`` and ``paths`` (see BindableIsolation)."""
        inner = self.inner
        if isinstance(inner, BindableIsolation):
            inner = inner.bound(layer, paths)
        return EmulatedIsolation(self.emulator, self.python, inner)
