"""Tiny real ELF files compiled with gcc for the closure audit and the sandbox tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def need_gcc() -> str:
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed (apt-get install gcc)")
    return gcc


def shared_lib(out: Path, soname: str, body: str = "int stub_value(void) { return 42; }",
               links: tuple[str, ...] = (), rpath: str | None = None,
               new_dtags: bool = False) -> Path:
    """Compile ``body`` into ``out`` with DT_SONAME ``soname``; link ``links`` (full paths)."""
    gcc = need_gcc()
    out.parent.mkdir(parents=True, exist_ok=True)
    src = out.parent / (out.name + ".c")
    src.write_text(body + "\n")
    cmd = [gcc, "-shared", "-fPIC", "-o", str(out), str(src), f"-Wl,-soname,{soname}",
           "-Wl,--no-as-needed"]
    for lib in links:
        cmd += [f"-L{Path(lib).parent}", f"-l:{Path(lib).name}"]
    if rpath is not None:
        cmd.append(f"-Wl,-rpath,{rpath}")
        cmd.append("-Wl,--enable-new-dtags" if new_dtags else "-Wl,--disable-new-dtags")
    subprocess.run(cmd, check=True, capture_output=True)
    src.unlink()
    return out


def extension(out: Path, links: tuple[str, ...] = (), rpath: str | None = None,
              new_dtags: bool = False) -> Path:
    """A shared object linking ``links``; named like an extension module by the caller."""
    body = "extern int stub_value(void);\nint ext_value(void) { return stub_value(); }" if links \
        else "int ext_value(void) { return 1; }"
    return shared_lib(out, out.name, body, links, rpath, new_dtags)


LIBGOMP = Path("/usr/lib/x86_64-linux-gnu/libgomp.so.1")
LOAD_EXT = ("import ctypes, os\n"
            "_lib = ctypes.CDLL(os.path.join(os.path.dirname(__file__), '_ext.so'))\n")


def gomp_wheel(tmp_path: Path, at_import: bool) -> Path:
    """``gompuser`` ships ``_ext.so`` linking libgomp.so.1 from the system (this host has it,
    Lambda does not); its ``__init__`` loads it, or only its optional ``plugin`` does."""
    from tests.wheels import make_wheel

    if not LIBGOMP.exists():
        pytest.skip(f"{LIBGOMP} is not on this host (apt-get install libgomp1)")
    ext = shared_lib(tmp_path / "build" / "_ext.so", "_ext.so",
                     "int ext_value(void) { return 1; }", links=(str(LIBGOMP),))
    files: dict[str, str | bytes] = {"gompuser/_ext.so": ext.read_bytes()}
    files["gompuser/__init__.py"] = LOAD_EXT if at_import else "VALUE = 1\n"
    files["gompuser/plugin.py"] = "VALUE = 2\n" if at_import else LOAD_EXT
    house = tmp_path / "house"
    make_wheel(house, "gompuser", "1.0", files, tag="py3-none-manylinux2014_x86_64")
    (tmp_path / "requirements.txt").write_text(f"--no-index\n--find-links {house}\ngompuser\n")
    return tmp_path
