"""The static closure audit on trees of real gcc-built ELF files (no Python child)."""

from __future__ import annotations

from pathlib import Path

from lambda_slim.native.closure import audit_closure, describe_misses, scan_tree
from lambda_slim.target.syslibs import runtime_syslibs
from tests.native_build import extension, shared_lib

EXT = "_ext.cpython-312-x86_64-linux-gnu.so"
A_BODY = "extern int stub_value(void);\nint a_value(void) { return stub_value(); }"


def _stub(where: Path, name: str = "libstubdep.so.1") -> Path:
    return shared_lib(where / name, name)


def test_missing_system_library_is_reported_with_distribution_and_advice(tmp_path: Path) -> None:
    build = tmp_path / "build"
    stub = _stub(build)
    layer = tmp_path / "opt"
    extension(layer / "python" / "pkg" / EXT, links=(str(stub),))
    res = audit_closure(scan_tree(layer, "/opt"), runtime_syslibs("python3.12", "x86_64"),
                        owners={f"/opt/python/pkg/{EXT}": "pkg-dist"})
    assert not res.ok and res.checked == 1
    (miss,) = res.misses
    assert (miss.file, miss.soname, miss.distribution) == (f"/opt/python/pkg/{EXT}", "libstubdep.so.1",
                                                           "pkg-dist")
    text = describe_misses(res.misses)
    assert f"/opt/python/pkg/{EXT} (from pkg-dist) needs libstubdep.so.1" in text
    assert "--system-lib libstubdep.so.1" in text and "lib/" in text


def test_vendored_in_dot_libs_with_origin_rpath_passes(tmp_path: Path) -> None:
    layer = tmp_path / "python"
    stub = _stub(layer / "pkg.libs", "libstubdep-1a2b3c4d.so.1")
    extension(layer / "pkg" / EXT, links=(str(stub),), rpath="$ORIGIN/../pkg.libs",
              new_dtags=True)
    res = audit_closure(scan_tree(layer), runtime_syslibs("python3.12", "x86_64"))
    assert res.ok, describe_misses(res.misses)
    assert res.checked == 2


def test_wrong_rpath_is_a_miss(tmp_path: Path) -> None:
    layer = tmp_path / "python"
    stub = _stub(layer / "pkg.libs")
    extension(layer / "pkg" / EXT, links=(str(stub),), rpath="$ORIGIN/../elsewhere.libs")
    res = audit_closure(scan_tree(layer), runtime_syslibs("python3.12", "x86_64"))
    assert [m.soname for m in res.misses] == ["libstubdep.so.1"]


def test_opt_lib_and_user_declared_sonames(tmp_path: Path) -> None:
    opt = tmp_path / "opt"
    stub = _stub(opt / "lib")  # a layer's lib/ is /opt/lib, on LD_LIBRARY_PATH
    extension(opt / "python" / "pkg" / EXT, links=(str(stub),))
    syslibs = runtime_syslibs("python3.12", "x86_64")
    assert audit_closure(scan_tree(opt, "/opt"), syslibs).ok
    (opt / "lib" / "libstubdep.so.1").unlink()
    assert not audit_closure(scan_tree(opt, "/opt"), syslibs).ok
    assert audit_closure(scan_tree(opt, "/opt"), syslibs.with_user(["libstubdep.so.1"])).ok


def test_rpath_is_inherited_but_runpath_is_not(tmp_path: Path) -> None:
    """glibc: a dependency without its own paths searches its loader's DT_RPATH, never its
    DT_RUNPATH. auditwheel-style trees rely on the former."""
    for new_dtags, ok in ((False, True), (True, False)):
        layer = tmp_path / ("runpath" if new_dtags else "rpath") / "python"
        b = _stub(layer / "pkg.libs", "libb.so.1")
        a = shared_lib(layer / "pkg.libs" / "liba.so.1", "liba.so.1", A_BODY, links=(str(b),))
        extension(layer / "pkg" / EXT, links=(str(a),), rpath="$ORIGIN/../pkg.libs",
                  new_dtags=new_dtags)
        res = audit_closure(scan_tree(layer), runtime_syslibs("python3.12", "x86_64"))
        assert res.ok is ok, (new_dtags, describe_misses(res.misses))
        if not ok:
            assert [(m.file, m.soname) for m in res.misses] == [("/opt/python/pkg.libs/liba.so.1",
                                                                 "libb.so.1")]


def test_already_loaded_soname_satisfies_a_later_need(tmp_path: Path) -> None:
    """libb is loaded first through liba's RPATH; libc2 asks for it by soname only."""
    layer = tmp_path / "python"
    b = _stub(layer / "pkg.libs", "libb.so.1")
    c = shared_lib(layer / "pkg" / "sub" / "libc2.so.1", "libc2.so.1", A_BODY, links=(str(b),))
    a = shared_lib(layer / "pkg.libs" / "liba.so.1", "liba.so.1", A_BODY, links=(str(b),),
                   rpath="$ORIGIN", new_dtags=True)
    extension(layer / "pkg" / EXT, links=(str(a), str(c)), rpath="$ORIGIN/../pkg.libs:$ORIGIN/sub",
              new_dtags=True)
    res = audit_closure(scan_tree(layer), runtime_syslibs("python3.12", "x86_64"))
    assert res.ok, describe_misses(res.misses)


def test_runtime_libraries_and_known_absent_ones(tmp_path: Path) -> None:
    layer = tmp_path / "python"
    extension(layer / "pkg" / EXT)  # libc only
    assert audit_closure(scan_tree(layer), runtime_syslibs("python3.10", "x86_64")).ok
    gl = shared_lib(tmp_path / "sys" / "libGL.so.1", "libGL.so.1")
    extension(layer / "cv2" / EXT, links=(str(gl),))
    res = audit_closure(scan_tree(layer), runtime_syslibs("python3.12", "x86_64"),
                        owners={f"/opt/python/cv2/{EXT}": "opencv-python"})
    (miss,) = res.misses
    assert miss.reported_missing and "opencv" in miss.reported_missing
    assert "use opencv-python-headless instead of opencv-python" in miss.advice[0]


def test_function_code_and_layers_share_one_loader_view(tmp_path: Path) -> None:
    """A layer's extension may use a library the function ships in /var/task/lib."""
    task = tmp_path / "task"
    stub = _stub(task / "lib")
    layer = tmp_path / "python"
    extension(layer / "pkg" / EXT, links=(str(stub),))
    syslibs = runtime_syslibs("python3.12", "x86_64")
    assert not audit_closure(scan_tree(layer), syslibs).ok
    both = {**scan_tree(layer), **scan_tree(task, "/var/task")}
    assert audit_closure(both, syslibs).ok
