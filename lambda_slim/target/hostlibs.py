"""What the sandbox borrows from this machine: an interpreter's own closure and host libraries.

The sandbox shows the child only the runtime's system libraries (those this machine has) plus
what the stand-in interpreter itself needs: its executable, its standard library and the
shared libraries its stdlib extension modules link. These helpers find those files; they run
only trusted system tools (the interpreter, ``ldd``, ``ldconfig -p``) on system files.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import ToolMissingError
from .proc import run
from .python import Interpreter, TargetPython

_LDCONFIG_LINE = re.compile(r"^\s*(\S+)\s+\(([^)]*)\)\s+=>\s+(\S+)\s*$")
_LDD_ARROW = re.compile(r"^\s*(\S+)\s+=>\s+(/\S+)\s+\(0x[0-9a-f]+\)\s*$")
_LDD_LOADER = re.compile(r"^\s*(/\S+)\s+\(0x[0-9a-f]+\)\s*$")
#: ``ldconfig -p`` spells the 64-bit ABIs like this.
_LDCONFIG_ABI = {"x86_64": "x86-64", "aarch64": "AArch64"}

_QUERY = r"""
import json, os, sys, sysconfig
exe = getattr(sys, "_base_executable", None) or sys.executable
paths = sysconfig.get_paths()
dyn = [p for p in sys.path if p.endswith("lib-dynload")]
print(json.dumps({
    "executable": os.path.realpath(exe),
    "stdlib": os.path.realpath(paths["stdlib"]),
    "platstdlib": os.path.realpath(paths["platstdlib"]),
    "dynload": [os.path.realpath(p) for p in dyn],
    "purelib": os.path.realpath(sysconfig.get_paths(vars={"base": sys.base_prefix,
                                "platbase": sys.base_prefix})["purelib"]),
}))
"""


@dataclass(frozen=True)
class InterpreterFiles:
    """The files a stand-in interpreter needs inside the sandbox (all host paths)."""

    executable: Path
    dirs: tuple[Path, ...]  # stdlib folders, mounted read-only at the same path
    site_packages: tuple[Path, ...]  # folders inside ``dirs`` to hide (installed packages)
    libs: dict[str, Path]  # soname -> real file, the closure of the executable and lib-dynload


def _run(argv: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False,
                          env={"LC_ALL": "C", "PATH": os.defpath})


#: ``ldd``'s answer per file in this process, keyed by the file's path and stat (a file
#: changed or replaced since is asked again): every sandbox of a build, and every build of a
#: long-lived process (the test suite's in-process builds), asks about the same system files.
_LDD_SEEN: dict[tuple[str, int, int, int], dict[str, Path]] = {}


def _stat_key(name: str) -> tuple[str, int, int, int] | None:
    try:
        st = os.stat(name)
    except OSError:
        return None
    return (name, st.st_ino, st.st_size, st.st_mtime_ns)


def _ldd(files: list[str]) -> dict[str, dict[str, Path]]:
    """file -> {soname: real path} for every file, from ``ldd``'s per-file sections
    (remembered per file and stat for this process: see :data:`_LDD_SEEN`)."""
    keys = {f: _stat_key(f) for f in files}
    known = {f: _LDD_SEEN[k] for f, k in keys.items() if k is not None and k in _LDD_SEEN}
    missing = [f for f in files if f not in known]
    if not missing:
        return {f: dict(d) for f, d in known.items()}
    fresh = _ldd_run(missing)
    for f in missing:
        key = keys[f]
        if key is not None and key == _stat_key(f):  # unchanged while ldd read it
            _LDD_SEEN[key] = dict(fresh.get(f, {}))
    return {**{f: dict(d) for f, d in known.items()}, **fresh}


def _ldd_run(files: list[str]) -> dict[str, dict[str, Path]]:
    ldd = shutil.which("ldd") or shutil.which("ldd", path="/usr/bin:/bin")
    if ldd is None:
        raise ToolMissingError("ldd is not installed, needed to build the Lambda-like sandbox.",
                               hint="Install glibc's tools (Debian/Ubuntu: libc-bin).")
    out: dict[str, dict[str, Path]] = {}
    for i in range(0, len(files), 200):
        chunk = files[i:i + 200]
        proc = _run([ldd, *chunk], timeout=120)
        current = chunk[0] if len(chunk) == 1 else None
        for line in proc.stdout.splitlines():
            if len(chunk) > 1 and not line.startswith(("\t", " ")) and line.endswith(":"):
                current = line[:-1]
                continue
            if current is None:
                continue
            deps = out.setdefault(current, {})
            m = _LDD_ARROW.match(line)
            if m:
                deps.setdefault(m.group(1), Path(os.path.realpath(m.group(2))))
                continue
            m = _LDD_LOADER.match(line)
            if m:
                deps.setdefault(Path(m.group(1)).name, Path(os.path.realpath(m.group(1))))
    return out


def ldd_closure(files: Iterable[Path], exclude: Iterable[str] = ()) -> dict[str, Path]:
    """soname -> real path of every library the loader maps for ``files`` (via ``ldd``).

    A file whose closure holds a soname in ``exclude`` contributes nothing (the sandbox
    would rather lose ``_tkinter`` than show the child libX11).
    """
    names = [str(f) for f in files]
    if not names:
        return {}
    banned = set(exclude)
    out: dict[str, Path] = {}
    for deps in _ldd(names).values():
        if banned.isdisjoint(deps):
            for so, path in deps.items():
                out.setdefault(so, path)
    return out


def interpreter_files(python: Path, exclude: Iterable[str] = ()) -> InterpreterFiles:
    """Ask ``python`` where its pieces are, then find the libraries they link."""
    tp = TargetPython(Interpreter(python, (0, 0)), {"LC_ALL": "C", "PATH": os.defpath}, run)
    proc = tp.run(["-I", "-S", "-c", _QUERY], timeout=60)
    if proc.returncode != 0:
        raise ToolMissingError(f"The interpreter {python} did not run: {proc.stderr.strip()}",
                               hint="Pass a working interpreter of the target's version.")
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    exe = Path(info["executable"])
    dirs: list[Path] = []
    for d in (info["stdlib"], info["platstdlib"], *info["dynload"]):
        p = Path(d)
        if p.is_dir() and not any(p == q or q in p.parents for q in dirs):
            dirs = [q for q in dirs if p not in q.parents] + [p]
    hidden = [Path(info["purelib"])] if any(Path(info["purelib"]).is_relative_to(d)
                                            for d in dirs) else []
    natives = [exe]
    for d in info["dynload"]:
        natives += sorted(Path(d).glob("*.so"))
    sh = Path("/bin/sh")
    if sh.exists():
        natives.append(Path(os.path.realpath(sh)))
    return InterpreterFiles(exe, tuple(dirs), tuple(p for p in hidden if p.is_dir()),
                            ldd_closure(natives, exclude))


def host_libraries(sonames: Iterable[str], machine: str) -> dict[str, Path]:
    """soname -> real file on this machine, for the ``sonames`` it has (ldconfig's cache)."""
    wanted = set(sonames)
    abi = _LDCONFIG_ABI.get(machine, machine)
    ldconfig = shutil.which("ldconfig") or shutil.which("ldconfig", path="/sbin:/usr/sbin")
    out: dict[str, Path] = {}
    if ldconfig is not None:
        for line in _run([ldconfig, "-p"]).stdout.splitlines():
            m = _LDCONFIG_LINE.match(line)
            if m and m.group(1) in wanted and abi in m.group(2).split(","):
                out.setdefault(m.group(1), Path(os.path.realpath(m.group(3))))
    triplet = f"{machine}-linux-gnu"
    for folder in ("/lib64", "/usr/lib64", f"/lib/{triplet}", f"/usr/lib/{triplet}"):
        for so in wanted - set(out):
            p = Path(folder) / so
            if p.exists():
                out[so] = Path(os.path.realpath(p))
    return out


def find_ldconfig() -> Path | None:
    """The host's ``ldconfig`` (mounted into the sandbox so ctypes.util.find_library works)."""
    found = shutil.which("ldconfig") or shutil.which("ldconfig", path="/sbin:/usr/sbin")
    return Path(os.path.realpath(found)) if found else None
