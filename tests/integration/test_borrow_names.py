"""Which vendored copy may serve a missing soname, with real gcc-built libraries: a longer
version of the same soname (``libfoo.so.1.0.0`` for ``libfoo.so.1``) may; a different major
version that merely starts with the same characters (``libfoo.so.10``) never may."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_slim.native.borrow import find_copies
from lambda_slim.native.closure import audit_closure, scan_tree
from lambda_slim.target.syslibs import runtime_syslibs
from tests.native_build import extension, shared_lib


@pytest.mark.parametrize(("vendored", "serves"), [
    ("libfoo-1a2b3c4d.so.1.0.0", True),  # auditwheel's hashed name of libfoo.so.1.0.0
    ("libfoo.so.1.2", True),
    ("libfoo-1a2b3c4d.so.10", False),  # another ABI: libfoo.so.10 is not libfoo.so.1
    ("libfoo.so.10", False),
    ("libfoo.so.1x", False),
])
def test_only_the_same_soname_or_a_longer_version_of_it_is_borrowed(
        tmp_path: Path, vendored: str, serves: bool) -> None:
    root = tmp_path / "python"
    # the copy another wheel vendors: its file name and DT_SONAME both say `vendored`
    shared_lib(root / "vendor.libs" / vendored, vendored, "int stub_value(void) { return 7; }")
    plain = shared_lib(tmp_path / "elsewhere" / "libfoo.so.1", "libfoo.so.1")
    extension(root / "user" / "_native.so", links=(str(plain),))  # DT_NEEDED libfoo.so.1
    elfs = scan_tree(root, "/opt/python")
    audit = audit_closure(elfs, runtime_syslibs("python3.12", "x86_64"))
    assert [m.soname for m in audit.misses] == ["libfoo.so.1"]
    rels = [k[len("/opt/python/"):] for k in elfs]
    borrowed, unserved = find_copies(audit.misses, root, rels, {})
    if serves:
        assert [(b.soname, b.source) for b in borrowed] == [("libfoo.so.1", f"vendor.libs/{vendored}")]
        assert unserved == []
    else:
        assert borrowed == [] and [m.soname for m in unserved] == ["libfoo.so.1"]
