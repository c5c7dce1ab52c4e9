"""The ``strip`` rule. Its plan needs the ELF scan, so the native strip stage
(:mod:`lambda_slim.native.strip`) applies it after the file rules."""

from __future__ import annotations

from .context import Rule

RULE = Rule(
    "strip",
    "strip --strip-unneeded on ELF shared objects; a stripped copy with LOAD segments the "
    "loader refuses (patchelf-rewritten *.libs/ files) is dropped, and one that no longer "
    "loads is put back",
    None,
    order=90,
)
