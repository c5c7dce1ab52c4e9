"""The runtime system-library sets: conservative, sourced, extensible by the user."""

from __future__ import annotations

import pytest

from lambda_slim.errors import ConfigError
from lambda_slim.target.syslibs import (
    AL2,
    AL2023,
    KNOWN_ABSENT,
    RUNTIME_FAMILY,
    runtime_syslibs,
    validate_soname,
)


@pytest.mark.parametrize("runtime", sorted(RUNTIME_FAMILY))
@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_every_entry_has_a_source_and_known_absent_ones_stay_absent(runtime: str,
                                                                     arch: str) -> None:
    libs = runtime_syslibs(runtime, arch)
    for so in ("libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1", "libz.so.1"):
        assert libs.provides(so)
    for so in libs.sonames:
        assert libs.source(so) and len(libs.source(so) or "") > 20
    for so in KNOWN_ABSENT:
        assert not libs.provides(so), so
    loader = "ld-linux-x86-64.so.2" if arch == "x86_64" else "ld-linux-aarch64.so.1"
    assert libs.provides(loader)
    assert not libs.provides("ld-linux-aarch64.so.1" if arch == "x86_64" else
                             "ld-linux-x86-64.so.2")


def test_families_differ_where_the_evidence_says() -> None:
    al2, al2023 = runtime_syslibs("python3.11", "x86_64"), runtime_syslibs("python3.12", "x86_64")
    assert (al2.family, al2023.family) == (AL2, AL2023)
    assert not al2.provides("libssl.so.3") and al2023.provides("libssl.so.3")
    assert al2.absent_report("libssl.so.3") and al2023.absent_report("libssl.so.3") is None
    assert al2.provides("libcrypt.so.1") and not al2023.provides("libcrypt.so.1")
    for so in ("libGL.so.1", "libgomp.so.1", "libmagic.so.1", "libodbc.so.2",
               "libgthread-2.0.so.0"):
        assert not al2.provides(so) and not al2023.provides(so)
        assert al2023.absent_report(so)


def test_user_declared_sonames() -> None:
    libs = runtime_syslibs("python3.12", "arm64", user=["libgomp.so.1"])
    assert libs.provides("libgomp.so.1")
    assert "--system-lib" in (libs.source("libgomp.so.1") or "")
    more = libs.with_user([" libodbc.so.2 "])
    assert more.provides("libodbc.so.2") and more.provides("libgomp.so.1")
    assert not libs.provides("libodbc.so.2")  # frozen: with_user returns a copy


@pytest.mark.parametrize("bad", ["", "gomp", "/usr/lib/libgomp.so.1", "libgomp.a", "-lgomp"])
def test_bad_sonames_are_refused_with_the_fix(bad: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate_soname(bad, "system-libs")
    assert info.value.exit_code == 2
    assert "system-libs" in info.value.message and "readelf -d" in (info.value.hint or "")


def test_unknown_runtime_or_arch() -> None:
    with pytest.raises(ConfigError):
        runtime_syslibs("python3.9", "x86_64")
    with pytest.raises(ConfigError):
        runtime_syslibs("python3.12", "aarch64")
