"""The static closure audit agrees with the real loader, run in the Lambda-like sandbox."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lambda_slim.native.closure import audit_closure, scan_tree
from lambda_slim.target.sandbox import Sandbox, make_sandbox, sandbox_unavailable
from lambda_slim.target.syslibs import runtime_syslibs
from tests.native_build import extension, shared_lib

REASON = sandbox_unavailable(os.environ)
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"no sandbox here: {REASON}")
EXT = "_ext.cpython-312-x86_64-linux-gnu.so"
A_BODY = "extern int stub_value(void);\nint a_value(void) { return stub_value(); }"


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    python = Path(os.path.realpath(getattr(sys, "_base_executable", sys.executable)))
    return make_sandbox(python, runtime_syslibs("python3.12", "x86_64"), os.environ)


def _loads(sb: Sandbox, opt: Path) -> tuple[bool, str]:
    code = f"import ctypes\nctypes.CDLL('/opt/python/pkg/{EXT}')\nprint('LOADED')"
    launch = sb.wrap([str(sb.executable), "-I", "-S", "-c", code], env={},
                     layer=opt / "python", paths=(), cwd=None)
    proc = subprocess.run(launch.argv, env=launch.env, capture_output=True, text=True,
                          timeout=60, check=False)
    return proc.stdout.strip() == "LOADED", proc.stderr


def _tree(opt: Path, case: str) -> None:
    py = opt / "python"
    if case == "missing":
        stub = shared_lib(opt.parent / "elsewhere" / "libstubdep.so.1", "libstubdep.so.1")
        extension(py / "pkg" / EXT, links=(str(stub),))
    elif case == "vendored":
        stub = shared_lib(py / "pkg.libs" / "libstubdep-0a1b2c3d.so.1", "libstubdep-0a1b2c3d.so.1")
        extension(py / "pkg" / EXT, links=(str(stub),), rpath="$ORIGIN/../pkg.libs",
                  new_dtags=True)
    elif case in ("rpath-inherited", "runpath-not-inherited"):
        b = shared_lib(py / "pkg.libs" / "libb.so.1", "libb.so.1")
        a = shared_lib(py / "pkg.libs" / "liba.so.1", "liba.so.1", A_BODY, links=(str(b),))
        extension(py / "pkg" / EXT, links=(str(a),), rpath="$ORIGIN/../pkg.libs",
                  new_dtags=case.startswith("runpath"))
    elif case == "opt-lib":
        stub = shared_lib(opt / "lib" / "libstubdep.so.1", "libstubdep.so.1")
        extension(py / "pkg" / EXT, links=(str(stub),))


@pytest.mark.parametrize(("case", "ok"), [("missing", False), ("vendored", True),
                                          ("rpath-inherited", True),
                                          ("runpath-not-inherited", False), ("opt-lib", True)])
def test_audit_matches_the_loader(sandbox: Sandbox, tmp_path: Path, case: str, ok: bool) -> None:
    opt = tmp_path / "opt"
    _tree(opt, case)
    audit = audit_closure(scan_tree(opt, "/opt"), runtime_syslibs("python3.12", "x86_64"))
    loaded, err = _loads(sandbox, opt)
    assert audit.ok is ok, audit.misses
    assert loaded is ok, err
    if not ok:
        assert audit.misses[0].soname in err  # the loader names the same library
