"""Builds judged against the process Lambda starts (issue 18 item 3): smoke scripts that need
/dev/shm or more /tmp than the function has are refused naming the limit and the fix; `.pth`
files run as Lambda's bootstrap.py runs them; `requests` (and so `ssl`) verifies on the
Amazon Linux 2 runtimes; a dying interpreter's last words are reported."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from lambda_slim.target.sandbox import sandbox_unavailable
from tests.wheels import make_wheel, wheelhouse_requirements

RunCli = Callable[..., int]
HOST_SSL = "/usr/lib/x86_64-linux-gnu/libssl.so.3"
REASON = sandbox_unavailable(os.environ)
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"no sandbox here: {REASON}")


def _tiny(tmp_path: Path) -> Path:
    house = tmp_path / "house"
    make_wheel(house, "tiny", "1.0", {"tiny/__init__.py": "T = 1\n"})
    return wheelhouse_requirements(tmp_path / "requirements.txt", house, "tiny")


def _report(path: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(path.read_text())
    return data


@pytest.mark.parametrize("runtime", ["python3.11", "python3.12"])
def test_a_smoke_using_a_process_pool_is_refused_naming_dev_shm(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path, runtime: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Lambda fails with [Errno 38] on Amazon Linux 2 (glibc 2.26) and [Errno 2] on Amazon
    Linux 2023 (glibc 2.34); the sandbox runs this host's glibc (its errno:
    tests/integration/test_sandbox_lambda.py): the verdict and the message are the same."""
    smoke = tmp_path / "pool.py"
    smoke.write_text("import multiprocessing, tiny\n"
                     "if __name__ == '__main__':\n"
                     "    with multiprocessing.Pool(2) as pool:\n"
                     "        assert pool.map(abs, [-1, -2]) == [1, 2]\n")
    code = run_cli("build", str(_tiny(tmp_path)), "--runtime", runtime, "--smoke", str(smoke),
                   "-o", str(tmp_path / "l.zip"), cwd=tmp_path)
    err = capsys.readouterr().err
    assert code == 5, err
    assert "/dev/shm" in err and "threads" in err and "Pipe" in err
    assert "[Errno 38]" in err and "[Errno 2]" in err  # both runtimes' errors are named
    assert not (tmp_path / "l.zip").exists()
    threads = tmp_path / "threads.py"  # the fix the message names works
    threads.write_text("import concurrent.futures as cf, tiny\n"
                       "with cf.ThreadPoolExecutor(2) as ex:\n"
                       "    assert list(ex.map(abs, [-1, -2])) == [1, 2]\n")
    assert run_cli("build", str(_tiny(tmp_path)), "--smoke", str(threads), "-o",
                   str(tmp_path / "l.zip"), cwd=tmp_path) == 0, capsys.readouterr().err


def test_a_smoke_writing_more_than_tmp_holds_is_refused_naming_the_setting(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    smoke = tmp_path / "fill.py"
    smoke.write_text("import tiny\n"
                     "block = b'x' * (1024 * 1024)\n"
                     "with open('/tmp/big.bin', 'wb') as fh:\n"
                     "    for _ in range(600):\n"
                     "        fh.write(block)\n")
    args = ("build", str(_tiny(tmp_path)), "--smoke", str(smoke), "-o", str(tmp_path / "l.zip"))
    code = run_cli(*args, cwd=tmp_path)
    err = capsys.readouterr().err
    assert code == 5, err
    assert "/tmp is full" in err and "512 MB" in err and "--ephemeral-storage" in err
    code = run_cli(*args, "--ephemeral-storage", "1024", "--json", str(tmp_path / "r.json"),
                   cwd=tmp_path)
    assert code == 0, capsys.readouterr().err
    assert _report(tmp_path / "r.json")["verify"]["status"] == "passed"  # type: ignore[index]


def test_ephemeral_storage_outside_lambdas_range_is_exit_2(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
        capsys: pytest.CaptureFixture[str]) -> None:
    code = run_cli("build", str(_tiny(tmp_path)), "--ephemeral-storage", "20000", "-o",
                   str(tmp_path / "l.zip"), cwd=tmp_path)
    assert code == 2
    assert "10240" in capsys.readouterr().err


def test_a_package_importable_only_through_its_pth_file_builds(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The `.pth` adds a folder to sys.path (as setuptools' editable-style and some vendored
    layouts do); Lambda's bootstrap.py runs it through site.addsitedir("/opt/python")."""
    house = tmp_path / "house"
    make_wheel(house, "pth-pkg", "1.0", {"pth_pkg.pth": "pth-src\n",
                                         "pth-src/hidden_mod/__init__.py": "VALUE = 7\n"})
    req = wheelhouse_requirements(tmp_path / "requirements.txt", house, "pth-pkg")
    smoke = tmp_path / "smoke.py"
    smoke.write_text("import hidden_mod\nassert hidden_mod.VALUE == 7\n")
    code = run_cli("build", str(req), "--smoke", str(smoke), "-o", str(tmp_path / "l.zip"),
                   "--json", str(tmp_path / "r.json"), cwd=tmp_path)
    assert code == 0, capsys.readouterr().err
    verify = _report(tmp_path / "r.json")["verify"]
    assert isinstance(verify, dict)
    assert verify["environment"] == "sandbox" and verify["smoke"][0]["ok"] is True
    with zipfile.ZipFile(tmp_path / "l.zip") as zf:
        assert "python/pth_pkg.pth" in zf.namelist()


def test_a_function_on_an_overflow_layer_builds(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The workflow the overflow hint recommends: the layer's packed distributions come back
    through its `.pth` when the handler is loaded (a false exit 5 before)."""
    house = tmp_path / "house"
    blob = (os.urandom(2048) + b"overflow " * 4000) * 60  # ~2.3 MB, compresses well
    make_wheel(house, "heavy", "1.0", {"heavy/__init__.py": "N = 3\n", "heavy/blob.bin": blob})
    make_wheel(house, "tiny", "1.0", {"tiny/__init__.py": "T = 1\n"})
    req = wheelhouse_requirements(tmp_path / "requirements.txt", house, "heavy")
    layer = tmp_path / "layer.zip"
    code = run_cli("build", str(req), "--budget", "1MB", "--overflow", "-o", str(layer),
                   cwd=tmp_path)
    printed = capsys.readouterr()
    assert code == 0, printed.err
    # issue 18 item 6: the build says what a function-set PYTHONPATH does to the .pth
    assert "PYTHONPATH" in printed.out + printed.err
    assert "opentelemetry-lambda#1714" in printed.out + printed.err
    src = tmp_path / "src"
    src.mkdir()
    (src / "app.py").write_text("import heavy\n\ndef handler(event, context):\n"
                                "    return heavy.N\n")
    fn_req = wheelhouse_requirements(tmp_path / "fn-requirements.txt", house, "tiny")
    code = run_cli("build", str(fn_req), "--function", str(src),
                   "--layer-zip", str(layer), "--handler", "app.handler", "-o",
                   str(tmp_path / "f.zip"), "--json", str(tmp_path / "f.json"), cwd=tmp_path)
    assert code == 0, capsys.readouterr().err
    handler = _report(tmp_path / "f.json")["function"]
    assert isinstance(handler, dict) and handler["handler"]["ok"] is True
    assert handler["handler"]["environment"] == "sandbox"


@pytest.mark.parametrize("runtime", ["python3.11", "python3.10"])
def test_requests_verifies_on_amazon_linux_2_runtimes(
        runtime: str, tmp_path: Path, run_cli: RunCli,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`import ssl` (urllib3) works there: Lambda's Python brings its own OpenSSL."""
    (tmp_path / "requirements.txt").write_text("requests\n")
    smoke = tmp_path / "smoke.py"
    smoke.write_text("import ssl, requests\n"
                     "assert requests.Session().get_adapter('https://example.com')\n"
                     "ssl.create_default_context()\n")
    code = run_cli("build", str(tmp_path / "requirements.txt"), "--runtime", runtime,
                   "--smoke", str(smoke), "--require-verify", "--no-result-cache", "-o",
                   str(tmp_path / "l.zip"),
                   "--json", str(tmp_path / "r.json"), cwd=tmp_path)
    assert code == 0, capsys.readouterr().err
    verify = _report(tmp_path / "r.json")["verify"]
    assert isinstance(verify, dict)
    assert verify["environment"] == "sandbox" and verify["status"] == "passed"


def test_a_dying_interpreter_reports_its_last_stderr_lines(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli, py312: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    house = tmp_path / "house"
    make_wheel(house, "dies", "1.0", {"dies/__init__.py":
                                      "import os, sys\n"
                                      "sys.stderr.write('fatal: the config service is gone\\n')\n"
                                      "sys.stderr.flush()\n"
                                      "os._exit(3)\n"})
    req = wheelhouse_requirements(tmp_path / "requirements.txt", house, "dies")
    code = run_cli("build", str(req), "-o", str(tmp_path / "l.zip"), cwd=tmp_path)
    err = capsys.readouterr().err
    assert code == 5, err
    assert "exit 3" in err and "fatal: the config service is gone" in err


def test_matplotlib_saves_a_png_to_tmp_as_on_lambda(
        tmp_path: Path, run_cli: RunCli, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 18's done-when: matplotlib (real PyPI wheels) builds with a smoke saving a PNG
    to /tmp, verified in the sandbox, where the function's user has a passwd entry but no
    home. python3.12 x86_64 as the issue says (`pip download --only-binary=:all:` for
    cp312 manylinux x86_64 finds matplotlib 3.11.2 and its dependencies' wheels)."""
    (tmp_path / "requirements.txt").write_text("matplotlib\n")
    smoke = tmp_path / "plot.py"
    smoke.write_text("import getpass, matplotlib\n"
                     "assert getpass.getuser() == 'sbx_user1051'\n"
                     "matplotlib.use('Agg')\n"
                     "import matplotlib.pyplot as plt\n"
                     "fig, ax = plt.subplots()\n"
                     "ax.plot([1, 2, 3])\n"
                     "fig.savefig('/tmp/plot.png')\n"
                     "assert open('/tmp/plot.png', 'rb').read(4) == b'\\x89PNG'\n")
    code = run_cli("build", str(tmp_path / "requirements.txt"), "--runtime", "python3.12",
                   "--arch", "x86_64", "--smoke", str(smoke), "--require-verify", "--no-result-cache", "-o",
                   str(tmp_path / "l.zip"), "--json", str(tmp_path / "r.json"), cwd=tmp_path)
    assert code == 0, capsys.readouterr().err
    verify = _report(tmp_path / "r.json")["verify"]
    assert isinstance(verify, dict)
    assert verify["environment"] == "sandbox" and verify["smoke"][0]["ok"] is True


@pytest.mark.skipif(shutil.which("gcc") is None or not Path(HOST_SSL).exists(),
                    reason="needs gcc and this machine's libssl.so.3")
def test_a_wheel_linking_openssl_3_is_still_refused_on_amazon_linux_2(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The stand-in interpreter's own OpenSSL is visible at /var/lang/lib (so `ssl` works),
    but a wheel's library that links libssl.so.3 from the system is refused (exit 4): Lambda's
    python3.11 system has no OpenSSL 3 (awslabs/aws-media-replay-engine#13)."""
    src = tmp_path / "uses_ssl.c"
    src.write_text("int uses_ssl(void) { return 1; }\n")
    lib = tmp_path / "_uses_ssl.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(lib), str(src), "-Wl,--no-as-needed",
                    HOST_SSL], check=True)
    house = tmp_path / "house"
    make_wheel(house, "sslwheel", "1.0", {
        "sslwheel/__init__.py": "import ctypes, os\n"
                                "LIB = ctypes.CDLL(os.path.join(os.path.dirname(__file__), "
                                "'_uses_ssl.so'))\n",
        "sslwheel/_uses_ssl.so": lib.read_bytes()}, tag="py3-none-manylinux2014_x86_64")
    req = wheelhouse_requirements(tmp_path / "requirements.txt", house, "sslwheel")
    code = run_cli("build", str(req), "--runtime", "python3.11", "--no-strip", "-o",
                   str(tmp_path / "l.zip"), cwd=tmp_path)
    err = capsys.readouterr().err
    assert code == 4, err
    assert "libssl.so.3" in err and "sslwheel/_uses_ssl.so" in err
