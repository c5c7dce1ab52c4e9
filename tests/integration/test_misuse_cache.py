"""Issue 11, caches: a cached wheel is proven on every use, and a cached result is reused
only when every input that can change the zip or the verdict is unchanged."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.wheels import make_wheel, wheelhouse_requirements

RunCli = Callable[..., int]
REUSED = "[reused from the result cache]"


def _cached_wheels(cache: Path) -> list[Path]:
    return sorted((cache / "wheels").rglob("tiny-*.whl"))


def _layer_text(zip_path: Path) -> str:
    with zipfile.ZipFile(zip_path) as zf:
        return zf.read("python/tiny/__init__.py").decode()


# --- case 1: the wheel cache is content-verified ------------------------------------------


def _tamper_same_size(whl: Path) -> None:
    """A valid wheel of the same size whose module says T = 2 (stored, so sizes match)."""
    size = whl.stat().st_size
    tmp = whl.parent / "evil"
    evil = make_wheel(tmp, "tiny", "1.0", {"tiny/__init__.py": "T = 2\n"})
    assert evil.stat().st_size == size
    shutil.copyfile(evil, whl)
    shutil.rmtree(tmp)


def _corrupt_same_size(whl: Path) -> None:
    data = whl.read_bytes().replace(b"T = 1", b"T = 9")
    whl.write_bytes(data)


@pytest.mark.parametrize("spoil", [_tamper_same_size, _corrupt_same_size])
def test_spoiled_cached_wheel_is_fetched_again_never_shipped(
        spoil: Callable[[Path], None], project: Path, tmp_cache: Path, run_cli: RunCli,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("build", "-q", "--json", "r1.json", cwd=project) == 0
    (whl,) = _cached_wheels(tmp_cache)
    good = hashlib.sha256(whl.read_bytes()).hexdigest()
    spoil(whl)
    capsys.readouterr()
    code = run_cli("build", "-q", "--no-result-cache", "--json", "r2.json", cwd=project)
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "BadZipFile" not in out.err
    assert "does not match" in out.err  # the user is told the cache was spoiled
    assert _layer_text(project / "layer.zip") == "T = 1\n"
    rep = json.loads((project / "r2.json").read_text())
    assert [w["sha256"] for w in rep["resolved"]] == [good]


@pytest.mark.parametrize("spoil", [_tamper_same_size, _corrupt_same_size])
def test_spoiled_cached_wheel_without_a_source_is_a_clear_error(
        spoil: Callable[[Path], None], project: Path, tmp_path: Path, tmp_cache: Path,
        run_cli: RunCli, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("build", "-q", cwd=project) == 0
    (whl,) = _cached_wheels(tmp_cache)
    spoil(whl)
    shutil.rmtree(tmp_path / "house")  # nowhere to fetch a good copy from
    (project / "layer.zip").unlink()
    capsys.readouterr()
    code = run_cli("build", "-q", "--no-result-cache", cwd=project)
    err = capsys.readouterr().err
    assert code == 3, err
    assert "BadZipFile" not in err and "Traceback" not in err
    assert "sha256" in err and "tiny" in err
    assert not (project / "layer.zip").exists()


def test_hash_pin_is_checked_on_every_use(tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """The resolution record and the wheel are both rewritten (same size): the --hash pin in
    the requirements still catches it."""
    house = tmp_path / "house"
    whl = make_wheel(house, "tiny", "1.0", {"tiny/__init__.py": "T = 1\n"})
    pin = hashlib.sha256(whl.read_bytes()).hexdigest()
    req = wheelhouse_requirements(tmp_path / "requirements.txt", house,
                                  f"tiny==1.0 --hash=sha256:{pin}")
    assert run_cli("build", str(req), "-q", cwd=tmp_path) == 0
    (cached,) = _cached_wheels(tmp_cache)
    _tamper_same_size(cached)
    evil = hashlib.sha256(cached.read_bytes()).hexdigest()
    moved = cached.parent.parent / evil / cached.name  # the store is content-addressed
    moved.parent.mkdir()
    cached.rename(moved)
    for index in (tmp_cache / "resolutions").glob("*.json"):
        index.write_text(index.read_text().replace(pin, evil))
    shutil.rmtree(house)
    capsys.readouterr()
    code = run_cli("build", str(req), "-q", "--no-result-cache", cwd=tmp_path)
    err = capsys.readouterr().err
    assert code == 3, err
    assert "--hash" in err and "tiny" in err


# --- case 4: a local wheel rebuilt under the same name is picked up --------------------


def test_rebuilt_local_wheel_with_the_same_name_is_picked_up(
        tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
        capsys: pytest.CaptureFixture[str]) -> None:
    dist = tmp_path / "dist"
    make_wheel(dist, "tiny", "1.0", {"tiny/__init__.py": "T = 1\n"})
    (tmp_path / "requirements.txt").write_text("--no-index\n--find-links ./dist\ntiny\n")
    assert run_cli("build", "-q", cwd=tmp_path) == 0
    assert _layer_text(tmp_path / "layer.zip") == "T = 1\n"
    make_wheel(dist, "tiny", "1.0", {"tiny/__init__.py": "T = 'rebuilt'\n"})
    assert run_cli("build", "-q", "--refresh", "--no-result-cache", cwd=tmp_path) == 0, \
        capsys.readouterr().err
    assert _layer_text(tmp_path / "layer.zip") == "T = 'rebuilt'\n"


# --- cases 2 and 3: the result cache ----------------------------------------------------


def test_budget_verdict_follows_the_current_budget(project: Path, tmp_cache: Path,
                                                   run_cli: RunCli,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("build", "-q", cwd=project) == 0
    capsys.readouterr()
    assert run_cli("build", "-q", "--budget", "100", cwd=project) == 1
    out = capsys.readouterr().out
    assert "OVER BUDGET" in out and "> 100 " in out
    assert run_cli("build", "-q", cwd=project) == 0
    assert "within budget" in capsys.readouterr().out
    monkeypatch.setenv("LAMBDA_SLIM_BUDGET", "100")
    assert run_cli("build", "-q", cwd=project) == 1
    monkeypatch.delenv("LAMBDA_SLIM_BUDGET")
    assert run_cli("build", "-q", "--budget", "100", "--no-result-cache", cwd=project) == 1
    assert run_cli("build", "-q", "--budget", "100", cwd=project) == 1
    assert (project / "layer.zip").is_file()  # over budget still writes the zip


def test_cached_result_is_announced(project: Path, tmp_cache: Path, run_cli: RunCli,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("build", "-q", cwd=project) == 0
    assert REUSED not in capsys.readouterr().out
    assert run_cli("build", "-q", cwd=project) == 0
    assert REUSED in capsys.readouterr().out


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


#: name -> what to change between the two builds; returns the extra build args
Change = Callable[[Path, pytest.MonkeyPatch], list[str]]


def _args(*args: str) -> Change:
    return lambda _p, _m: list(args)


def _env(name: str, value: str) -> Change:
    def change(_p: Path, m: pytest.MonkeyPatch) -> list[str]:
        m.setenv(name, value)
        return []
    return change


def _file(rel: str, text: str | None = None) -> Change:
    def change(p: Path, _m: pytest.MonkeyPatch) -> list[str]:
        _write(p / rel, text if text is not None else (p / rel).read_text() + "# changed\n")
        return []
    return change


CHANGES: dict[str, Change] = {
    "budget flag": _args("--budget", "200MiB"),
    "budget env": _env("LAMBDA_SLIM_BUDGET", "200MiB"),
    "keep": _args("--keep", "tiny/*"),
    "rule off": _args("--no-dist-info"),
    "compile mode": _args("--no-compile"),
    "zip level": _args("--zip-level", "9"),
    "epoch": _env("SOURCE_DATE_EPOCH", "1700000000"),
    "requirements text": _file("requirements.txt"),
    "smoke script": _file("smoke/smoke.py", "import tiny\nprint(open(__file__).name)\n"),
    "smoke data file": _file("smoke/expected.txt", "2\n"),
    "smoke helper in a subfolder": _file("smoke/lib/helper.py", "H = 2\n"),
    "repair": _args("--repair"),
    "installer": _args("--installer", "pip"),
    "trace granularity": _args("--trace-granularity", "file"),
    "variants off": _args("--no-variants"),
    "overflow": _args("--overflow"),
    "memory": _args("--memory", "1024"),
    "smoke timeout": _args("--smoke-timeout", "100"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_every_input_is_part_of_the_result_cache_key(
        change: str, project: Path, tmp_cache: Path, run_cli: RunCli,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _write(project / "smoke" / "smoke.py",
           "import tiny\nfrom pathlib import Path\n"
           "assert Path(__file__).with_name('expected.txt').read_text().strip() in '12'\n")
    _write(project / "smoke" / "expected.txt", "1\n")
    _write(project / "smoke" / "lib" / "helper.py", "H = 1\n")
    base = ["build", "-q", "--smoke", "smoke/smoke.py"]
    assert run_cli(*base, cwd=project) == 0, capsys.readouterr().err
    assert run_cli(*base, cwd=project) == 0
    assert REUSED in capsys.readouterr().out  # unchanged: reused
    extra = CHANGES[change](project, monkeypatch)
    assert run_cli(*base, *extra, cwd=project) == 0, capsys.readouterr().err
    assert REUSED not in capsys.readouterr().out, f"{change} is not in the cache key"


def test_smoke_reading_changed_data_is_rerun(project: Path, tmp_cache: Path, run_cli: RunCli,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    _write(project / "smoke.py", "from pathlib import Path\nimport tiny\n"
           "assert Path(__file__).with_name('data.txt').read_text() == 'ok'\n")
    _write(project / "data.txt", "ok")
    assert run_cli("build", "-q", "--smoke", "smoke.py", cwd=project) == 0
    _write(project / "data.txt", "broken")
    capsys.readouterr()
    assert run_cli("build", "-q", "--smoke", "smoke.py", cwd=project) == 5
    assert REUSED not in capsys.readouterr().out
    assert os.path.exists(project / "layer.zip")


def test_offline_refresh_never_takes_a_spoiled_wheel_from_the_cache(
        project: Path, tmp_path: Path, tmp_cache: Path, run_cli: RunCli,
        capsys: pytest.CaptureFixture[str]) -> None:
    """--refresh with the index gone falls back to the cache, whose wheels must still hash
    to the address they are stored under."""
    assert run_cli("build", "-q", cwd=project) == 0
    (whl,) = _cached_wheels(tmp_cache)
    _tamper_same_size(whl)
    shutil.rmtree(tmp_path / "house")
    capsys.readouterr()
    assert run_cli("build", "-q", "--refresh", cwd=project) == 3
    err = capsys.readouterr().err
    assert "does not match the sha256 it is stored under" in err
    assert _layer_text(project / "layer.zip") == "T = 1\n"  # the previous zip is untouched
