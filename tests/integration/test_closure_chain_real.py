"""The closure audit's DT_RPATH/DT_RUNPATH rule, three objects deep, against the real glibc
loader: each case of tests/unit/test_closure_search_paths.py compiled with gcc and dlopen'ed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lambda_slim.native.closure import audit_closure, scan_tree
from tests.native_build import shared_lib
from tests.unit.test_closure_search_paths import CASES, SYSLIBS, Paths

EXT = "_ext.cpython-312-x86_64-linux-gnu.so"


def _build(py: Path, ext: Paths, a: Paths, b: Paths) -> Path:
    """pkg/EXT -> pkg.libs/liba.so.1 -> libb.so.1 -> libc_dep.so.1, each with the given paths."""

    def link(paths: Paths) -> dict[str, object]:
        if "runpath" in paths:
            return {"rpath": ":".join(paths["runpath"]), "new_dtags": True}
        return {"rpath": ":".join(paths["rpath"])} if "rpath" in paths else {}

    libs = py / "pkg.libs"
    c = shared_lib(libs / "libc_dep.so.1", "libc_dep.so.1", "int c_value(void) { return 3; }")
    b_lib = shared_lib(libs / "libb.so.1", "libb.so.1",
                       "extern int c_value(void);\nint b_value(void) { return c_value(); }",
                       links=(str(c),), **link(b))  # type: ignore[arg-type]
    a_lib = shared_lib(libs / "liba.so.1", "liba.so.1",
                       "extern int b_value(void);\nint a_value(void) { return b_value(); }",
                       links=(str(b_lib),), **link(a))  # type: ignore[arg-type]
    return shared_lib(py / "pkg" / EXT, EXT,
                      "extern int a_value(void);\nint ext_value(void) { return a_value(); }",
                      links=(str(a_lib),), **link(ext))  # type: ignore[arg-type]


def _one_tag_each(name: str) -> bool:
    """gcc writes DT_RPATH or DT_RUNPATH, never both: the unit test covers that case."""
    return not any("rpath" in p and "runpath" in p for p in CASES[name][:3])


@pytest.mark.parametrize("case", sorted(filter(_one_tag_each, CASES)))
def test_audit_agrees_with_glibc_three_objects_deep(tmp_path: Path, case: str) -> None:
    ext, a, b, missing = CASES[case]
    opt = tmp_path / "opt"
    so = _build(opt / "python", ext, a, b)
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", "import ctypes, sys\n"
                           "print(ctypes.CDLL(sys.argv[1]).ext_value())", str(so)],
                          capture_output=True, text=True, env={}, timeout=60, check=False)
    audit = audit_closure(scan_tree(opt, "/opt"), SYSLIBS)
    if missing is None:
        assert proc.stdout.strip() == "3", proc.stderr  # glibc loads the whole chain
        assert audit.ok, audit.misses
    else:
        assert proc.returncode != 0 and missing in proc.stderr, proc.stdout
        assert [m.soname for m in audit.misses] == [missing]
