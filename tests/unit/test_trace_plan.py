from __future__ import annotations

from pathlib import Path

from lambda_slim.native.elf import ElfInfo, NativeFile
from lambda_slim.verify.trace import identical_files, plan_trace

FILES = {
    "pkg/__init__.py": 10,
    "pkg/core.py": 10,
    "pkg/unused_mod.py": 10,
    "pkg/data.json": 10,
    "pkg/used/__init__.py": 10,
    "pkg/used/a.py": 10,
    "pkg/idle/__init__.py": 10,
    "pkg/idle/big.py": 1000,
    "pkg/idle/deep/x.py": 10,
    "pkg/ext.so": 100,
    "pkg.libs/libneeded.so": 500,
    "pkg.libs/libnever.so": 500,
    "other/__init__.py": 10,
    "other/sub/y.py": 10,
    "single.py": 10,
    "pkg-1.0.dist-info/METADATA": 10,
    "pkg-1.0.dist-info/licenses/LICENSE": 10,
}
TOUCHED = frozenset({"pkg/__init__.py", "pkg/core.py", "pkg/used/__init__.py", "pkg/used/a.py",
                     "pkg/ext.so"})


def elf(rel: str, needed: tuple[str, ...] = ()) -> NativeFile:
    info = ElfInfo("x86_64", "ET_DYN", (2, 17), False, False, True, needed)
    return NativeFile(rel, "pkg", "elf", info)


NATIVES = [elf("pkg/ext.so", ("libneeded.so", "libc.so.6")), elf("pkg.libs/libneeded.so"),
           elf("pkg.libs/libnever.so")]


def removed(granularity: str, keep: tuple[str, ...] = ()) -> set[str]:
    return {e.rel for e in plan_trace(FILES, TOUCHED, NATIVES, granularity, keep)}


def test_package_granularity_drops_untouched_subpackages_only() -> None:
    out = removed("package")
    assert {"pkg/idle/__init__.py", "pkg/idle/big.py", "pkg/idle/deep/x.py"} <= out
    assert "pkg.libs/libnever.so" in out
    # needed by a kept extension (DT_NEEDED), untouched modules in a live package, data,
    # untouched top-level packages and modules, dist-info and licenses all stay
    for kept in ("pkg.libs/libneeded.so", "pkg/unused_mod.py", "pkg/data.json",
                 "other/sub/y.py", "single.py", "pkg-1.0.dist-info/METADATA",
                 "pkg-1.0.dist-info/licenses/LICENSE", "pkg/__init__.py"):
        assert kept not in out, kept


def test_module_and_file_granularity() -> None:
    mod = removed("module")
    assert "pkg/unused_mod.py" in mod and "pkg/data.json" not in mod
    f = removed("file")
    assert {"pkg/unused_mod.py", "pkg/data.json"} <= f
    assert "pkg/__init__.py" not in f and "pkg/used/__init__.py" not in f


def test_keep_glob_protects() -> None:
    assert "pkg/idle/big.py" not in removed("package", keep=("pkg/idle/*",))


def test_pyc_of_touched_source_counts_as_touched() -> None:
    files = {"pkg/__init__.py": 1, "pkg/core.py": 1, "pkg/__pycache__/core.cpython-312.pyc": 1,
             "pkg/__pycache__/other.cpython-312.pyc": 1, "pkg/other.py": 1}
    out = {e.rel for e in plan_trace(files, frozenset({"pkg/__init__.py", "pkg/core.py"}), [],
                                     "file", ())}
    assert out == {"pkg/__pycache__/other.cpython-312.pyc", "pkg/other.py"}


def test_identical_files(tmp_path: Path) -> None:
    blob = b"x" * 70000
    for rel in ("a.libs/libg.so", "b.libs/libg2.so", "c/other.so"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(blob if "other" not in rel else b"y" * 70000)
    groups = identical_files(tmp_path, {"a.libs/libg.so": 70000, "b.libs/libg2.so": 70000,
                                        "c/other.so": 70000})
    assert groups == [(70000, ["a.libs/libg.so", "b.libs/libg2.so"])]
