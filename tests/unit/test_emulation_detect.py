"""Finding an emulator and a foreign interpreter, and wrapping argv (no subprocesses)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from lambda_slim.errors import InputError
from lambda_slim.target.emulation import (
    EmulatedIsolation,
    Emulator,
    ForeignPython,
    Launch,
    Missing,
    _classify,
    find_emulator,
    find_sysroot,
    interpreter_candidates,
    launcher,
)

_MACHINES = ("aarch64", "x86_64") if os.uname().machine == "aarch64" else ("x86_64", "aarch64")

# Debian's qemu-aarch64 binfmt registration (/proc/sys/fs/binfmt_misc/qemu-aarch64).
AARCH64_ENTRY = """enabled
interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P
flags: POCF
offset 0
magic 7f454c460201010000000000000000000200b700
mask ffffffffffffff00fffffffffffffffffeffffff
"""


def _binfmt(tmp_path: Path, status: str = "enabled", entry: str = AARCH64_ENTRY) -> Path:
    d = tmp_path / "binfmt_misc"
    d.mkdir()
    (d / "status").write_text(status + "\n")
    (d / "register").write_text("")
    (d / "qemu-aarch64").write_text(entry)
    return d


def test_binfmt_handler_is_an_emulator(tmp_path: Path) -> None:
    got = find_emulator("aarch64", {"PATH": str(tmp_path)}, _binfmt(tmp_path))
    assert isinstance(got, Emulator) and got.path is None
    assert got.binfmt is not None and got.binfmt.name == "qemu-aarch64"
    assert got.name == "qemu-aarch64"


@pytest.mark.parametrize(("status", "entry"), [
    ("disabled", AARCH64_ENTRY),
    ("enabled", AARCH64_ENTRY.replace("enabled", "disabled", 1)),
    ("enabled", AARCH64_ENTRY.replace("b700", "3e00")),  # an x86_64 handler
])
def test_disabled_or_other_binfmt_handlers_do_not_count(tmp_path: Path, status: str,
                                                        entry: str) -> None:
    got = find_emulator("aarch64", {"PATH": str(tmp_path)}, _binfmt(tmp_path, status, entry))
    assert isinstance(got, Missing)
    assert "qemu-aarch64-static" in got.what and "apt-get install qemu-user-static" in got.how


def test_qemu_on_path_is_preferred_static_first(tmp_path: Path) -> None:
    for name in ("qemu-aarch64", "qemu-aarch64-static"):
        exe = tmp_path / name
        exe.write_text("#!/bin/sh\n")
        exe.chmod(0o755)
    got = find_emulator("aarch64", {"PATH": str(tmp_path)}, tmp_path / "no-binfmt")
    assert isinstance(got, Emulator) and got.path == tmp_path / "qemu-aarch64-static"


def test_interpreter_candidates_env_then_uv(tmp_path: Path) -> None:
    uv = tmp_path / "home" / ".local" / "share" / "uv" / "python"
    for d in ("cpython-3.11.9-linux-aarch64-gnu", "cpython-3.11.9-linux-x86_64-gnu",
              "cpython-3.12.1-linux-aarch64-gnu"):
        exe = uv / d / "bin" / ("python" + d.split("-")[1].rsplit(".", 1)[0])
        exe.parent.mkdir(parents=True)
        exe.write_text("")
    env = {"HOME": str(tmp_path / "home"), "LAMBDA_SLIM_PYTHON_3_11_AARCH64": "/opt/py"}
    got = interpreter_candidates("aarch64", (3, 11), env)
    assert got == [("/opt/py", "$LAMBDA_SLIM_PYTHON_3_11_AARCH64"),
                   (str(uv / "cpython-3.11.9-linux-aarch64-gnu/bin/python3.11"), "uv")]


def test_sysroot_is_found_above_the_interpreter_or_in_qemu_ld_prefix(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "lib").mkdir(parents=True)
    (root / "lib" / "ld-linux-aarch64.so.1").write_text("")
    exe = root / "usr" / "bin" / "python3.11"
    exe.parent.mkdir(parents=True)
    exe.write_text("")
    loader = "/lib/ld-linux-aarch64.so.1"
    assert find_sysroot(exe, loader, "aarch64", {}) == root
    elsewhere = tmp_path / "uv" / "bin" / "python3.11"
    elsewhere.parent.mkdir(parents=True)
    elsewhere.write_text("")
    assert find_sysroot(elsewhere, loader, "aarch64", {"QEMU_LD_PREFIX": str(root)}) == root
    assert find_sysroot(elsewhere, None, "aarch64", {}) is None  # static
    if not Path(loader).exists() and not Path("/usr/aarch64-linux-gnu" + loader).exists():
        missing = find_sysroot(elsewhere, loader, "aarch64", {})
        assert isinstance(missing, Missing)
        assert "libc6-arm64-cross" in missing.how and "QEMU_LD_PREFIX" in missing.how


def test_classify_scripts_and_wrong_machines(tmp_path: Path) -> None:
    script = tmp_path / "py"
    script.write_text("#!/bin/sh\nexec qemu-aarch64-static ...\n")
    script.chmod(0o755)
    got = _classify(str(script), "--python", "aarch64", (3, 11), {})
    assert isinstance(got, ForeignPython) and got.wrapper and got.sysroot is None
    here, other = _MACHINES
    host = _classify(sys.executable, "--python", other, (3, 11), {})
    assert isinstance(host, Missing) and f"{here} executable, not {other}" in host.what
    gone = _classify(str(tmp_path / "nope"), "$X", "aarch64", (3, 11), {})
    assert isinstance(gone, Missing) and "is not an executable file" in gone.what


def _python(sysroot: Path | None, wrapper: bool = False) -> ForeignPython:
    return ForeignPython(Path("/r/usr/bin/python3.11"), (3, 11), "aarch64", sysroot, wrapper,
                         "--python")


def test_launcher_prefixes_qemu_or_sets_qemu_ld_prefix_for_binfmt() -> None:
    qemu = Emulator("aarch64", Path("/usr/bin/qemu-aarch64-static"), None)
    binfmt = Emulator("aarch64", None, Path("/proc/sys/fs/binfmt_misc/qemu-aarch64"))
    assert launcher(qemu, _python(Path("/r"))) == (
        ["/usr/bin/qemu-aarch64-static", "-L", "/r", "/r/usr/bin/python3.11"], {})
    assert launcher(qemu, _python(None)) == (
        ["/usr/bin/qemu-aarch64-static", "/r/usr/bin/python3.11"], {})
    assert launcher(binfmt, _python(Path("/r"))) == (
        ["/r/usr/bin/python3.11"], {"QEMU_LD_PREFIX": "/r"})
    assert launcher(qemu, _python(None, wrapper=True)) == (["/r/usr/bin/python3.11"], {})


class _Sandbox:
    """Stands in for the Lambda-like sandbox: runs argv under a marker, maps paths."""

    name = "sandbox"

    def wrap(self, argv: Sequence[str], *, env: Mapping[str, str], layer: Path | None,
             paths: Sequence[Path], cwd: Path | None) -> Launch:
        return Launch(["unshare", "--", *argv], dict(env), Path("/var/task"))

    def inside(self, host_path: Path) -> str:
        return "/opt/python" if host_path.name == "python" else str(host_path)


def test_emulated_isolation_replaces_the_interpreter_and_composes() -> None:
    qemu = Emulator("aarch64", Path("/usr/bin/qemu-aarch64-static"), None)
    host = EmulatedIsolation(qemu, _python(Path("/r")))
    assert host.name == "host+qemu-aarch64"
    got = host.wrap(["python3.11", "-I", "-c", "1"], env={"A": "1"}, layer=None, paths=[],
                    cwd=Path("/tmp"))
    assert got == Launch(["/usr/bin/qemu-aarch64-static", "-L", "/r", "/r/usr/bin/python3.11",
                          "-I", "-c", "1"], {"A": "1"}, Path("/tmp"))
    assert host.inside(Path("/x/python")) == "/x/python"
    boxed = EmulatedIsolation(qemu, _python(Path("/r")), _Sandbox())
    assert boxed.name == "sandbox+qemu-aarch64"
    got = boxed.wrap(["python3.11", "-c", "1"], env={}, layer=Path("/l/python"), paths=[],
                     cwd=None)
    assert got.argv[:3] == ["unshare", "--", "/usr/bin/qemu-aarch64-static"]
    assert boxed.inside(Path("/l/python")) == "/opt/python"
    assert boxed.support_paths() == [Path("/usr/bin/qemu-aarch64-static"), Path("/r")]


def test_explicit_wrong_interpreter_is_bad_input(tmp_path: Path) -> None:
    from lambda_slim.target.emulation import find_foreign_python

    qemu = Emulator("aarch64", Path("/usr/bin/qemu-aarch64-static"), None)
    here, other = _MACHINES
    with pytest.raises(InputError, match=f"{here} executable, not {other}"):
        find_foreign_python(other, (3, 11), {}, qemu, explicit=sys.executable)
    got = find_foreign_python("aarch64", (3, 11), {"HOME": str(tmp_path)}, qemu)
    assert isinstance(got, Missing)
    assert "No aarch64 Python 3.11 interpreter" in got.what
    assert "LAMBDA_SLIM_PYTHON_3_11_AARCH64" in got.how and "uv python install" in got.how
