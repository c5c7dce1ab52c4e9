"""The process Lambda starts, as the sandbox reproduces it (issue 18 item 3), each part checked
from inside a real sandbox made by the one factory (target/placement.py): the function's user
in /etc/passwd, no /dev/shm, /tmp sized by --ephemeral-storage, Lambda's quotas, the stand-in
interpreter's own OpenSSL, host paths under /tmp; matplotlib from real PyPI wheels."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from lambda_slim.target.placement import Limits, RunSettings, place
from lambda_slim.target.python import TargetPython
from lambda_slim.target.runtimes import parse_target
from lambda_slim.target.sandbox import sandbox_unavailable

REASON = sandbox_unavailable(os.environ)
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"no sandbox here: {REASON}")
MIB = 1024 * 1024


def _boxed(runtime: str = "python3.12", limits: Limits | None = None) -> TargetPython:
    placed = place(RunSettings(parse_target(runtime, "x86_64"), limits=limits or Limits()),
                   dict(os.environ))
    assert placed.sandboxed and placed.runnable is not None, placed.notes
    return placed.runnable


def _run(tp: TargetPython, code: str, layer: Path | None = None,
         paths: Sequence[Path] = ()) -> subprocess.CompletedProcess[str]:
    proc = tp.run(["-I", "-S", "-c", code], layer=layer, paths=paths, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.fixture(scope="module")
def py312() -> TargetPython:
    return _boxed()


def test_the_function_user_has_a_passwd_entry_and_no_home(py312: TargetPython) -> None:
    out = _run(py312, "import getpass, grp, os, pathlib, pwd\n"
                      "home = pathlib.Path.home()\n"
                      "print(getpass.getuser(), os.getuid(), os.getgid(),\n"
                      "      pwd.getpwuid(os.getuid()).pw_dir, grp.getgrgid(os.getgid()).gr_name,\n"
                      "      home, home.exists(), os.environ.get('HOME'))").stdout.split()
    assert out == ["sbx_user1051", "993", "990", "/home/sbx_user1051", "sbx_user1051",
                   "/home/sbx_user1051", "False", "None"]


def test_no_dev_shm_so_multiprocessing_locks_fail_but_pipe_and_threads_work(
        py312: TargetPython) -> None:
    code = ("import concurrent.futures as cf, multiprocessing as mp, os, threading\n"
            "print('shm', os.path.exists('/dev/shm'))\n"
            "for make in (mp.Lock, mp.Queue, lambda: mp.Pool(2),\n"
            "             lambda: cf.ProcessPoolExecutor(2).submit(abs, -1).result()):\n"
            "    try:\n"
            "        make()\n"
            "        print('worked')\n"
            "    except OSError as exc:\n"
            "        print('OSError', exc.errno)\n"
            "a, b = mp.Pipe()\n"
            "a.send(5)\n"
            "print('pipe', b.recv())\n"
            "t = threading.Thread(target=print, args=('thread',))\n"
            "t.start(); t.join()\n"
            "print(open('/dev/null', 'w').write('x'), len(os.urandom(4)))\n")
    # glibc >= 2.34 opens /dev/shm/sem.* directly (ENOENT, as on Amazon Linux 2023); an
    # older one finds the sandbox's read-only root tmpfs in /proc/mounts (EROFS). Lambda on
    # Amazon Linux 2 gives ENOSYS (38): verify/causes.py treats them alike.
    libc = os.confstr("CS_GNU_LIBC_VERSION") or "glibc 0.0"
    glibc = tuple(int(x) for x in libc.split()[1].split(".")[:2])
    expected = "2" if glibc >= (2, 34) else "30"
    for tp in (py312, _boxed("python3.11")):
        lines = _run(tp, code).stdout.splitlines()
        assert lines[0] == "shm False"
        assert all(line.split() == ["OSError", expected] for line in lines[1:5]), lines
        assert lines[5:] == ["pipe 5", "thread", "1 4"]


def test_quotas_and_tmp_size(py312: TargetPython) -> None:
    code = ("import os, resource\n"
            "print(*resource.getrlimit(resource.RLIMIT_NOFILE),\n"
            "      *resource.getrlimit(resource.RLIMIT_NPROC))\n"
            "st = os.statvfs('/tmp')\n"
            "print(st.f_blocks * st.f_frsize)\n"
            "fds = []\n"
            "try:\n"
            "    for _ in range(1100):\n"
            "        fds.append(os.open('/dev/null', os.O_RDONLY))\n"
            "    print('opened all')\n"
            "except OSError as exc:\n"
            "    print('errno', exc.errno)\n")
    limits, tmp, opened = _run(py312, code).stdout.splitlines()
    nofile_soft, nofile_hard, nproc_soft, nproc_hard = (int(x) for x in limits.split())
    assert (nofile_soft, nofile_hard) == (1024, 1024)
    # set inside the sandbox for root too (where the kernel does not enforce it)
    assert (nproc_soft, nproc_hard) == (1024, 1024)
    assert int(tmp) == 512 * MIB
    assert opened == "errno 24"  # EMFILE
    bigger = _boxed(limits=Limits(tmp_mb=1024))
    st = _run(bigger, "import os; st = os.statvfs('/tmp'); print(st.f_blocks * st.f_frsize)")
    assert int(st.stdout) == 1024 * MIB


def test_the_stand_in_interpreters_own_openssl_stays_visible_on_amazon_linux_2() -> None:
    """python3.11 = Amazon Linux 2, whose system has no OpenSSL 3: the runtime's Python brings
    its own OpenSSL, so `import ssl` works; the system library folder still lacks it."""
    tp = _boxed("python3.11")
    out = _run(tp, "import os, ssl\n"
                   "print(ssl.OPENSSL_VERSION.split()[0], os.path.exists('/usr/lib64/libssl.so.3'),"
                   " os.path.exists('/var/lang/lib/libssl.so.3'))").stdout.split()
    assert out == ["OpenSSL", "False", "True"]


def test_host_paths_under_tmp_are_visible(py312: TargetPython) -> None:
    """A folder the sandbox is given (a stand-in, a function's layer) may live under /tmp;
    the sandbox's own fresh /tmp must not hide it."""
    base = Path(tempfile.mkdtemp(prefix="lambda-slim-under-tmp-"))
    try:
        (base / "task").mkdir()
        (base / "extra").mkdir()
        (base / "extra" / "from_tmp.py").write_text("WHERE = __file__\n")
        for p in (base, base / "task", base / "extra", base / "extra" / "from_tmp.py"):
            os.chmod(p, 0o755)
        out = _run(py312, f"import sys; sys.path.insert(0, {str(base / 'extra')!r})\n"
                          "import from_tmp\n"
                          "print(from_tmp.WHERE)",
                   paths=[base / "task", base / "extra"]).stdout.split()
        assert out == [str(base / "extra" / "from_tmp.py")]
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def matplotlib_layer() -> Iterator[Path]:
    """matplotlib and its dependencies from real PyPI wheels for python3.11 (manylinux2014)."""
    base = Path(tempfile.mkdtemp(prefix="lambda-slim-mpl-"))
    wheels, layer = base / "wheels", base / "python"
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:",
                    "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311",
                    "--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_17_x86_64",
                    "-d", str(wheels), "matplotlib"], check=True, timeout=600)
    for whl in sorted(wheels.glob("*.whl")):
        with zipfile.ZipFile(whl) as zf:
            zf.extractall(layer)
    yield layer
    shutil.rmtree(base, ignore_errors=True)


def test_matplotlib_falls_back_to_tmp_and_saves_a_png(matplotlib_layer: Path) -> None:
    """matplotlib#18014 on Lambda: the config dir under the (missing) home cannot be made,
    matplotlib says so and uses a /tmp folder. Without the passwd entry it cannot even find
    the home directory (matplotlib#25838)."""
    tp = _boxed("python3.11")
    proc = _run(tp, "import sys; sys.path.insert(0, '/opt/python')\n"
                    "import matplotlib\n"
                    "matplotlib.use('Agg')\n"
                    "import matplotlib.pyplot as plt\n"
                    "fig, ax = plt.subplots()\n"
                    "ax.plot([1, 2, 3])\n"
                    "fig.savefig('/tmp/plot.png')\n"
                    "print(open('/tmp/plot.png', 'rb').read(8) == b'\\x89PNG\\r\\n\\x1a\\n',\n"
                    "      matplotlib.get_configdir())", layer=matplotlib_layer)
    png, configdir = proc.stdout.split()
    assert png == "True" and configdir.startswith("/tmp/")
    assert "failed for path /home/sbx_user1051/.config/matplotlib" in proc.stderr
    assert "Matplotlib created a temporary" in proc.stderr
