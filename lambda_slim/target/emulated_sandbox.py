"""The Lambda-like sandbox around an emulated interpreter: ``sandbox+qemu-aarch64``.

The sandbox (:mod:`lambda_slim.target.sandbox`) normally shows a native stand-in interpreter
and this machine's copies of the runtime's system libraries. Under emulation the child is
``qemu-aarch64-static -L SYSROOT SYSROOT/usr/bin/python3.11 …``: the sandbox runs the static
QEMU binary (it needs no host library), shows the foreign interpreter's executable, loader and
standard library at their host paths, and puts at ``/usr/lib64`` only the *sysroot's* copies
of the runtime's system libraries plus what the interpreter's own modules link (a module whose
closure needs a library Lambda lacks contributes nothing). Lambda's ``LD_LIBRARY_PATH`` holds
``/usr/lib64``, so the foreign loader finds exactly those; QEMU looks a path up in the sysroot
first, where the sandbox leaves nothing but the interpreter's files.

The closure is computed statically (DT_NEEDED, as :mod:`lambda_slim.native.closure` reads it):
``ldd`` cannot run a foreign loader.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile

from ..errors import ToolMissingError
from .emulation import Emulation, elf_facts
from .proc import run
from .python import Interpreter, TargetPython
from .sandbox import (
    DEFAULT_LIMITS,
    Limits,
    Sandbox,
    as_lambda_process,
    find_bwrap,
    own_libraries,
)
from .syslibs import KNOWN_ABSENT, SystemLibraries

_QUERY = r"""
import json, os, sys, sysconfig
paths = sysconfig.get_paths()
print(json.dumps({
    "executable": os.path.realpath(sys.executable),
    "stdlib": os.path.realpath(paths["stdlib"]),
    "dynload": [os.path.realpath(p) for p in sys.path if p.endswith("lib-dynload")],
}))
"""


def _lib_dirs(sysroot: Path, machine: str) -> list[Path]:
    triplet = f"{machine}-linux-gnu"
    return [sysroot / d for d in (f"lib/{triplet}", f"usr/lib/{triplet}", "lib64", "usr/lib64",
                                  "lib", "usr/lib")]


def _find(name: str, dirs: Iterable[Path]) -> Path | None:
    for d in dirs:
        p = d / name
        if p.exists():
            return Path(os.path.realpath(p))
    return None


def _needed(path: Path) -> tuple[str, ...]:
    """DT_NEEDED of an ELF file (what :mod:`lambda_slim.native.closure` follows); () if none."""
    try:
        with open(path, "rb") as fh:
            dynamic = ELFFile(fh).get_section_by_name(".dynamic")
            if not isinstance(dynamic, DynamicSection):
                return ()
            return tuple(str(t.needed) for t in dynamic.iter_tags()  # type: ignore[attr-defined]
                         if t.entry.d_tag == "DT_NEEDED")
    except (OSError, ELFError, ValueError, AssertionError):
        return ()


def sysroot_closure(files: Iterable[Path], dirs: list[Path],
                    exclude: Iterable[str] = ()) -> dict[str, Path]:
    """soname -> real file of every library ``files`` need, found in ``dirs`` (breadth-first
    over DT_NEEDED). A file whose closure holds a soname in ``exclude`` or one that is not
    found contributes nothing."""
    banned = set(exclude)
    out: dict[str, Path] = {}
    for f in files:
        mine: dict[str, Path] = {}
        queue = list(_needed(f))
        ok = True
        while queue:
            so = queue.pop(0)
            if so in mine:
                continue
            found = _find(so, dirs) if so not in banned else None
            if found is None:
                ok = False
                break
            mine[so] = found
            queue += _needed(found)
        if ok:
            for so, p in mine.items():
                out.setdefault(so, p)
    return out


def sandbox_blocker(emulation: Emulation) -> str | None:
    """None when the sandbox can hold this emulator and interpreter; else why not."""
    emu, py = emulation.emulator, emulation.python
    if emu.path is None:
        return "only a binfmt_misc handler was found; the sandbox needs a QEMU binary on PATH"
    facts = elf_facts(emu.path)
    if facts is None or facts[1] is not None:
        return f"{emu.path} is not statically linked (install qemu-user-static)"
    if py.wrapper:
        return (f"{py.path} is a wrapper script whose interpreter could not be located; pass "
                "the interpreter itself with --python")
    return None


def make_emulated_sandbox(emulation: Emulation, syslibs: SystemLibraries,
                          env: Mapping[str, str], *, limits: Limits = DEFAULT_LIMITS,
                          cache_dir: Path | None = None, timeout: float = 180.0) -> Sandbox:
    """A :class:`Sandbox` whose executable is QEMU; compose it with
    ``emulation.isolation(inner=sandbox)``. Raises ToolMissingError when it cannot be built
    (check :func:`sandbox_blocker` first)."""
    why = sandbox_blocker(emulation)
    bwrap = find_bwrap(env)
    if why is not None or bwrap is None:
        raise ToolMissingError(f"Cannot sandbox the emulated interpreter: {why or 'no bwrap'}.",
                               hint="Debian/Ubuntu: apt-get install bubblewrap qemu-user-static.")
    emu, py = emulation.emulator, emulation.python
    assert emu.path is not None
    tp = TargetPython(Interpreter(py.path, py.version), {"PATH": os.defpath}, run,
                      emulation.isolation())
    proc = tp.run(["-I", "-S", "-c", _QUERY], timeout=timeout)
    if proc.returncode != 0:
        raise ToolMissingError(f"The emulated interpreter {py.path} did not run: "
                               f"{proc.stderr.strip()[-300:]}",
                               hint="Check it with --python PATH -c 'print(1)'.")
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    root = py.sysroot or Path("/")
    dirs = _lib_dirs(root, py.machine)
    libs = {so: p for so in sorted(syslibs.sonames) if (p := _find(so, dirs)) is not None}
    libs.update(sysroot_closure(list(libs.values()), dirs))
    natives = [Path(info["executable"])]
    for d in info["dynload"]:
        natives += sorted(Path(d).glob("*.so"))
    closure = sysroot_closure(natives, dirs, KNOWN_ABSENT)
    own = own_libraries(closure, syslibs)
    libs.update({so: p for so, p in closure.items() if so not in own})
    shown: list[Path] = [Path(info["executable"]), Path(info["stdlib"])]
    shown += [Path(d) for d in info["dynload"] if not Path(d).is_relative_to(info["stdlib"])]
    facts = elf_facts(py.path)
    loader = facts[1] if facts is not None else None
    if loader is not None:
        shown.append(Path(str(root).rstrip("/") + loader))
    box = Sandbox(bwrap=bwrap, executable=emu.path, dirs=tuple(shown), hidden=(), libs=libs,
                  ldconfig=None, ld_cache=None, own_libs=own, lambda_env={})
    return as_lambda_process(box, syslibs.runtime, limits, env, cache_dir)
