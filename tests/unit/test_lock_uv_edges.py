"""uv.lock without the network: every edge's marker judged for the target (not the package's),
and sources that would run code on the build machine refused before pip."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_slim.cli import main
from lambda_slim.errors import EXIT_USAGE, InputError
from lambda_slim.inputs.locks import LockedInput, LockTarget, read_input

H = "a" * 64


def _pkg(name: str, deps: str = "", source: str = 'registry = "https://pypi.org/simple"') -> str:
    wheel = (f'wheels = [{{ url = "https://files.example/{name}-1.0-py3-none-any.whl", '
             f'hash = "sha256:{H}" }}]\n')
    return (f'[[package]]\nname = "{name}"\nversion = "1.0"\nsource = {{ {source} }}\n'
            + (f"dependencies = [{deps}]\n" if deps else "") + wheel + "\n")


# app -> a (aarch64 only) -> c ; app -> b -> c (python < 3.12 only) ; b -> w (windows only)
# app[fmt] -> f ; c is wanted through a on aarch64 whatever b's edge says.
EDGES = ('version = 1\nrequires-python = ">=3.10"\n\n'
         '[[package]]\nname = "app"\nversion = "0.1.0"\nsource = { virtual = "." }\n'
         'dependencies = [{ name = "a", marker = "platform_machine == \'aarch64\'" }, { name = "b" }]\n'
         '[package.optional-dependencies]\nfmt = [{ name = "f" }]\n\n'
         + _pkg("a", '{ name = "c" }')
         + _pkg("b", '{ name = "c", marker = "python_full_version < \'3.12\'" }, '
                     '{ name = "w", marker = "sys_platform == \'win32\'" }')
         + _pkg("c") + _pkg("f") + _pkg("w"))


def _pins(tmp_path: Path, target: LockTarget, extras: tuple[str, ...] = ()) -> set[str]:
    from lambda_slim.inputs.locks import Selection

    lock = tmp_path / "uv.lock"
    lock.write_text(EDGES)
    got = read_input(lock, target, Selection(extras=extras))
    assert isinstance(got, LockedInput)
    return {p.name for p in got.pins}


@pytest.mark.parametrize(("target", "extras", "want"), [
    (LockTarget((3, 12), "x86_64"), (), {"b"}),
    (LockTarget((3, 12), "aarch64"), (), {"a", "b", "c"}),  # c through a's unconditional edge
    (LockTarget((3, 11), "x86_64"), (), {"b", "c"}),  # c through b's python edge
    (LockTarget((3, 13), "x86_64"), ("fmt",), {"b", "f"}),
])
def test_uv_lock_judges_each_edge_marker_for_the_target(tmp_path: Path, target: LockTarget,
                                                        extras: tuple[str, ...], want: set[str]) -> None:
    assert _pins(tmp_path, target, extras) == want


LOCAL = ('version = 1\nrequires-python = ">=3.10"\n\n'
         '[[package]]\nname = "app"\nversion = "0.1.0"\nsource = { virtual = "." }\n'
         'dependencies = [{ name = "lambda-slim-local-src" }]\n\n'
         '[[package]]\nname = "lambda-slim-local-src"\nversion = "0.2.0"\nsource = { SOURCE }\n')


@pytest.mark.parametrize("source", ['path = "src"', 'directory = "src"', 'editable = "src"',
                                    'path = "dist/lambda_slim_local_src-0.2.0.tar.gz"'])
def test_uv_lock_local_sources_are_refused_before_pip_runs_any_code(
        tmp_path: Path, source: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A path or directory source is a project pip would build: its setup.py would run on the
    build machine. Exit 2 naming the entry; the setup.py never runs."""
    src = tmp_path / "src"
    src.mkdir()
    marker = tmp_path / "setup-ran"
    (src / "setup.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n"
                                  "from setuptools import setup\nsetup(name='lambda-slim-local-src', "
                                  "version='0.2.0')\n")
    lock = tmp_path / "uv.lock"
    lock.write_text(LOCAL.replace("SOURCE", source))
    with pytest.raises(InputError, match="lambda-slim-local-src"):
        read_input(lock, LockTarget((3, 12), "x86_64"))
    code = main(["build", str(lock), "-o", str(tmp_path / "l.zip"), "-q", "--no-result-cache"])
    assert code == EXIT_USAGE
    assert "lambda-slim-local-src" in capsys.readouterr().err
    assert not marker.exists() and not (tmp_path / "l.zip").exists()
