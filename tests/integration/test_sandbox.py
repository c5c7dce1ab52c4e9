"""The Lambda-like sandbox, for real: bubblewrap, namespaces, a real interpreter and layer."""

from __future__ import annotations

import ctypes.util
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from lambda_slim.target.lambda_process import SANDBOX_UID
from lambda_slim.target.measure import Measurement, measure_init
from lambda_slim.target.sandbox import Sandbox, make_sandbox, sandbox_unavailable
from lambda_slim.target.syslibs import runtime_syslibs

REASON = sandbox_unavailable(os.environ)
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"no sandbox here: {REASON}")
SYS_PYTHON = Path("/usr/bin/python3.11") if Path("/usr/bin/python3.11").exists() else None


def _run(sb: Sandbox, code: str, layer: Path, paths: Sequence[Path] = (),
         as_user: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:
    launch = sb.wrap([str(sb.executable), "-I", "-S", "-B", "-c",
                      "import sys; sys.path[:0] = ['/opt/python']\n" + code],
                     env={"PYTHONDONTWRITEBYTECODE": "1", "HOME": "/root"}, layer=layer,
                     paths=paths, cwd=None)
    return subprocess.run([*as_user, *launch.argv], env=launch.env, capture_output=True,
                          text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def world() -> Iterator[Path]:
    """A world-readable folder (the non-root run must read it) with a layer and a task."""
    base = Path(tempfile.mkdtemp(prefix="lambda-slim-sbx-"))
    os.chmod(base, 0o755)
    pkg = base / "layer" / "python" / "goodpkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("VALUE = 42\n")
    (base / "task").mkdir()
    (base / "task" / "smoke.py").write_text("print('smoke ran')\n")
    for d in base.rglob("*"):
        os.chmod(d, 0o755 if d.is_dir() else 0o644)
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    python = Path(os.path.realpath(getattr(sys, "_base_executable", sys.executable)))
    return make_sandbox(python, runtime_syslibs("python3.12", "x86_64"), os.environ)


def test_layer_imports_as_non_root_with_lambda_environment(sandbox: Sandbox, world: Path) -> None:
    proc = _run(sandbox, "import os, goodpkg\n"
                         "print(goodpkg.VALUE, os.getuid(), os.environ.get('HOME'),\n"
                         "      os.environ['AWS_EXECUTION_ENV'], os.environ['LD_LIBRARY_PATH'],\n"
                         "      os.getcwd(), sorted(os.listdir('/var/task')))",
                world / "layer" / "python", paths=[world / "task"])
    assert proc.returncode == 0, proc.stderr
    value, uid, home, exec_env, ld_path, cwd, task = proc.stdout.split(" ", 6)
    assert (value, uid, home, exec_env) == ("42", str(SANDBOX_UID), "None",
                                             "AWS_Lambda_python3.12")
    assert SANDBOX_UID != 0 and ld_path.endswith(":/opt/lib")
    assert cwd == "/var/task" and "smoke.py" in task


def test_host_only_libraries_are_hidden(sandbox: Sandbox, world: Path) -> None:
    host = {name: ctypes.util.find_library(name) for name in ("X11", "gomp", "magic")}
    present = [n for n, found in host.items() if found]
    if not present:
        pytest.skip("none of libX11/libgomp/libmagic is installed on this host")
    code = ("import ctypes, ctypes.util\n"
            f"names = {present!r}\n"
            "print([ctypes.util.find_library(n) for n in names])\n"
            "print(ctypes.util.find_library('c'), ctypes.util.find_library('stdc++'))\n"
            "for n in names:\n"
            "    try:\n"
            "        ctypes.CDLL(f'lib{n}.so.1' if n != 'X11' else 'libX11.so.6')\n"
            "        print('LOADED', n)\n"
            "    except OSError as exc:\n"
            "        print('ERR', exc)\n")
    proc = _run(sandbox, code, world / "layer" / "python")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == str([None] * len(present))
    assert lines[1] == "libc.so.6 libstdc++.so.6"  # what Lambda has is still found
    assert "LOADED" not in proc.stdout
    assert "cannot open shared object file" in proc.stdout


def test_only_tmp_is_writable(sandbox: Sandbox, world: Path) -> None:
    code = ("import os\n"
            "for p in ('/opt/python/goodpkg/new.txt', '/var/task/out.txt', '/etc/x', '/x'):\n"
            "    try:\n"
            "        open(p, 'w')\n"
            "        print('WROTE', p)\n"
            "    except OSError as exc:\n"
            "        print('ERR', exc.filename, exc.strerror)\n"
            "open('/tmp/ok.txt', 'w').write('fine')\n"
            "print('TMP', open('/tmp/ok.txt').read())\n")
    proc = _run(sandbox, code, world / "layer" / "python", paths=[world / "task"])
    assert proc.returncode == 0, proc.stderr
    assert "WROTE" not in proc.stdout
    assert "ERR /opt/python/goodpkg/new.txt Read-only file system" in proc.stdout
    assert "TMP fine" in proc.stdout
    assert not (world / "layer" / "python" / "goodpkg" / "new.txt").exists()
    assert not (world / "task" / "out.txt").exists()


def test_host_packages_are_hidden(sandbox: Sandbox, world: Path) -> None:
    proc = _run(sandbox, "import importlib.util as u\nprint(u.find_spec('pytest'), "
                         "u.find_spec('elftools'))", world / "layer" / "python")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "None None"


def test_inside_maps_layer_task_and_other_paths(sandbox: Sandbox, world: Path) -> None:
    bound = sandbox.bound(world / "layer" / "python", [world / "task", world / "extra"])
    assert bound.inside(world / "layer" / "python" / "goodpkg") == "/opt/python/goodpkg"
    assert bound.inside(world / "task" / "smoke.py") == "/var/task/smoke.py"
    assert bound.inside(world / "extra" / "x.py") == str(world / "extra" / "x.py")


@pytest.mark.skipif(SYS_PYTHON is None, reason="needs /usr/bin/python3.11 (world-readable)")
def test_works_for_an_ordinary_user(world: Path) -> None:
    """Unprivileged user namespaces: the same sandbox run by `nobody` via setpriv."""
    if os.getuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to become an ordinary user")
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    probe = subprocess.run([*nobody, "bwrap", "--unshare-user", "--ro-bind", "/", "/", "true"],
                           capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"this kernel refuses unprivileged user namespaces: {probe.stderr.strip()}")
    assert SYS_PYTHON is not None
    cache = Path(tempfile.mkdtemp(prefix="lambda-slim-sbx-cache-"))
    os.chown(cache, 65534, 65534)
    sb = make_sandbox(SYS_PYTHON, runtime_syslibs("python3.11", "x86_64"), os.environ,
                      cache_dir=cache)
    proc = _run(sb, "import os, goodpkg\nprint(goodpkg.VALUE, os.getuid())\n"
                    "try:\n    open('/opt/python/goodpkg/x', 'w')\n"
                    "except OSError as e:\n    print(e.strerror)",
                world / "layer" / "python", as_user=nobody)
    shutil.rmtree(cache, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:2] == [f"42 {SANDBOX_UID}", "Read-only file system"]


def test_measure_init_and_peak_rss_in_the_sandbox(sandbox: Sandbox, world: Path) -> None:
    layer = world / "layer" / "python"

    def run(argv: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
        launch = sandbox.wrap([str(sandbox.executable), *argv], env={}, layer=layer, paths=(),
                              cwd=None)
        return subprocess.run(launch.argv, env=launch.env, capture_output=True, text=True,
                              timeout=timeout, check=False)

    got = measure_init(run, ["goodpkg", "json", "decimal"], ["/opt/python"],
                       environment=sandbox.name, runs=3)
    assert isinstance(got, Measurement), got
    assert got.environment == "sandbox" and len(got.samples_ms) == 3
    assert 0 < got.init_ms < 10_000 and not got.over_init_limit
    assert 2 * 1024 * 1024 < got.max_rss_bytes < 512 * 1024 * 1024
    assert got.fits(128) and not got.fits(1)
    bad = measure_init(run, ["no_such_module_here"], ["/opt/python"], environment="sandbox")
    assert not isinstance(bad, Measurement) and "No module named" in bad.output
