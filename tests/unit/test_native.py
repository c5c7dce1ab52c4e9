from __future__ import annotations

import io
import sysconfig
from pathlib import Path

import pytest

from lambda_slim.native.elf import check_binary, inspect_elf, inspect_elf_stream, sniff
from lambda_slim.target.runtimes import parse_target


def a_real_extension() -> Path:
    """Any ELF shared object of this interpreter's standard library."""
    libdir = Path(sysconfig.get_config_var("DESTSHARED") or sysconfig.get_paths()["platstdlib"])
    so = sorted(libdir.glob("*.so"))
    assert so, libdir
    return so[0]


def test_sniff_by_magic_not_name() -> None:
    assert sniff(b"\x7fELF", "libfoo.so.1.2") == "elf"
    assert sniff(b"\x7fELF", "weird-name") == "elf"
    assert sniff(b"\xcf\xfa\xed\xfe", "x.so") == "macho"
    assert sniff(b"\xca\xfe\xba\xbe", "Foo.class") is None  # Java, not a fat Mach-O
    assert sniff(b"MZ\x90\x00", "x.pyd") == "pe"
    assert sniff(b"MZ\x90\x00", "readme.txt") is None


def test_real_elf_is_inspected() -> None:
    info = inspect_elf(a_real_extension())
    assert info.machine in ("x86_64", "aarch64")
    assert info.aligned
    assert info.max_glibc is None or info.max_glibc >= (2, 2)


def test_wrong_arch_and_new_glibc_are_problems() -> None:
    data = bytearray(a_real_extension().read_bytes())
    # e_machine at offset 18 (little endian): 0xB7 = EM_AARCH64, 0x3E = EM_X86_64
    native = data[18]
    data[18] = 0xB7 if native == 0x3E else 0x3E
    info = inspect_elf_stream(io.BytesIO(bytes(data)))
    host = parse_target("python3.12", "x86_64" if native == 0x3E else "arm64")
    prob = check_binary("elf", info, host, "pkg/x.so", "pkg")
    assert prob is not None and prob.kind == "arch" and "pkg/x.so" in prob.describe()
    real = inspect_elf(a_real_extension())
    if real.max_glibc is not None and real.max_glibc > (2, 17):
        al2 = parse_target("python3.11", "x86_64" if native == 0x3E else "arm64")
        fake_al2 = type(al2)(type(al2.runtime)("python3.11", (3, 11), "AL2", (2, 17)), al2.arch)
        prob = check_binary("elf", real, fake_al2, "x.so", "pkg")
        assert prob is not None and prob.kind == "glibc" and "GLIBC_" in prob.detail


@pytest.mark.parametrize("kind", ["macho", "pe"])
def test_foreign_formats_are_errors(kind: str) -> None:
    prob = check_binary(kind, None, parse_target("python3.12", "x86_64"), "a.so", "pkg")
    assert prob is not None and prob.kind == "format"
