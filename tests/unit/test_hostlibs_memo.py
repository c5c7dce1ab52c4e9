"""``ldd`` is asked once per file and stat in a process (every sandbox asks about the same
system files), and asked again when the file changed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from lambda_slim.target import hostlibs


def test_ldd_is_asked_once_per_file_and_again_when_it_changed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sh = Path(os.path.realpath("/bin/sh"))
    if shutil.which("ldd") is None or not sh.exists():
        pytest.skip("needs ldd and /bin/sh (libc-bin)")
    exe = tmp_path / "sh"
    shutil.copy2(sh, exe)
    asked: list[list[str]] = []
    real = hostlibs._ldd_run

    def counting(files: list[str]) -> dict[str, dict[str, Path]]:
        asked.append(list(files))
        return real(files)

    monkeypatch.setattr(hostlibs, "_ldd_run", counting)
    first = hostlibs.ldd_closure([exe])
    assert "libc.so.6" in first, first  # the real answer, from the real ldd
    assert hostlibs.ldd_closure([exe]) == first
    assert asked == [[str(exe)]]  # the second sandbox did not ask again
    exe.write_bytes(b"not an ELF file")  # changed (size and mtime): asked again
    assert hostlibs.ldd_closure([exe]) == {}
    assert asked == [[str(exe)], [str(exe)]]
