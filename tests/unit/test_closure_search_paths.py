"""The closure audit's library search, three objects deep, against glibc's rule (elf/dl-load.c
``_dl_map_object``; elf/get-dynamic-info.h): a requester with DT_RUNPATH searches no DT_RPATH at
all; otherwise the DT_RPATH of the requester, then of the object that loaded it, and on up the
chain, where an object that has DT_RUNPATH contributes no DT_RPATH of its own but does not stop
the walk; then LD_LIBRARY_PATH, then the requester's own DT_RUNPATH (never inherited).
tests/integration/test_closure_chain_real.py checks the same cases against the real loader."""

from __future__ import annotations

import pytest

from lambda_slim.native.closure import ElfDeps, audit_closure
from lambda_slim.target.syslibs import runtime_syslibs

X = "/opt/python/pkg.libs"
EXT = "/opt/python/pkg/_ext.cpython-312-x86_64-linux-gnu.so"
SYSLIBS = runtime_syslibs("python3.12", "x86_64")
Paths = dict[str, tuple[str, ...]]


def chain(ext: Paths, a: Paths, b: Paths) -> dict[str, ElfDeps]:
    """EXT needs liba, liba needs libb, libb needs libc_dep; the three libraries in pkg.libs."""

    def elf(needed: tuple[str, ...], soname: str | None, paths: Paths) -> ElfDeps:
        return ElfDeps("x86_64", soname, needed, paths.get("rpath", ()), paths.get("runpath", ()))

    return {
        EXT: elf(("liba.so.1",), None, ext),
        f"{X}/liba.so.1": elf(("libb.so.1",), "liba.so.1", a),
        f"{X}/libb.so.1": elf(("libc_dep.so.1",), "libb.so.1", b),
        f"{X}/libc_dep.so.1": elf((), "libc_dep.so.1", {}),
    }


RP = ("$ORIGIN/../pkg.libs",)
HERE = ("$ORIGIN",)
NOWHERE = ("$ORIGIN/../nothing",)

#: name: (EXT's search paths, liba's, libb's, the library that is not found or None)
CASES: dict[str, tuple[Paths, Paths, Paths, str | None]] = {
    "rpath-inherited-three-deep": ({"rpath": RP}, {}, {}, None),
    # liba has DT_RUNPATH: its own DT_RPATH is ignored, but EXT's is still inherited by libb
    "rpath-inherited-past-a-runpath-object": ({"rpath": RP}, {"runpath": HERE}, {}, None),
    # libb itself has DT_RUNPATH: no DT_RPATH is searched for its needs, inherited or not
    "no-rpath-for-a-runpath-requester": ({"rpath": RP}, {"runpath": HERE}, {"runpath": NOWHERE},
                                         "libc_dep.so.1"),
    # DT_RUNPATH is never inherited: liba finds libb through its own, libb's need is not found
    "runpath-not-inherited": ({"runpath": RP}, {"runpath": HERE}, {}, "libc_dep.so.1"),
    # an object with both: DT_RUNPATH wins, its DT_RPATH is not searched for anyone
    "rpath-of-a-runpath-object-ignored": ({"runpath": RP}, {"rpath": RP, "runpath": HERE}, {},
                                          "libc_dep.so.1"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_search_paths_follow_glibc_three_objects_deep(case: str) -> None:
    ext, a, b, missing = CASES[case]
    result = audit_closure(chain(ext, a, b), SYSLIBS)
    assert [m.soname for m in result.misses] == ([missing] if missing else []), result.misses
