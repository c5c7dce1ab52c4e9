"""The benchmark's own logic on tiny fake trees: the spr recipe, ratios, medians, targets.

No builds and no heavy wheels; the only subprocesses are a trivial ``python -c pass`` and a
fake ``strip`` script.
"""

from __future__ import annotations

import importlib
import io
import json
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH_DIR = Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))


def _mod(name: str) -> ModuleType:
    return importlib.import_module(name)


baselines = _mod("bench_baselines")
measure = _mod("bench_measure")
report = _mod("bench_report")


def _touch(root: Path, rel: str, size: int = 10) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(b"x" * size)
    return p


FAKE_TREE = [
    "numpy/__init__.py",
    "numpy/__pycache__/__init__.cpython-312.pyc",
    "numpy/core/_multiarray_umath.cpython-312-x86_64-linux-gnu.so",
    "numpy/core/stale.pyc",
    "numpy/core/old.pyo",
    "numpy/core/not_bytecode.pyd",
    "numpy.libs/libscipy_openblas64_-ff651d7f.so",
    "numpy.libs/libgfortran-040039e1.so.5.0.0",
    "numpy-2.5.5.dist-info/RECORD",
    "numpy-2.5.5.dist-info/METADATA",
    "pandas/tests/__init__.py",
    "pandas/_libs/lib.cpython-312-x86_64-linux-gnu.so",
    "pandas/_libs/__pycache__old/stale.txt",
    "xgboost/lib/libxgboost.so",
    ".hidden/ignored.pyc",
    "bin/tool",
]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "python"
    for rel in FAKE_TREE:
        _touch(root, rel)
    return root


def _rels(root: Path, paths: list[Path]) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in paths)


def test_spr_patterns_match_like_the_plugin() -> None:
    m = baselines.spr_matches
    assert m("mod.pyc") and m("mod.pyo")
    assert m("mod.py|")  # the plugin's `[c|o]` is a character class: `|` matches too
    assert not m("mod.py") and not m("mod.pyd") and not m("mod.pyi")
    assert m("__pycache__") and m("__pycache__extra")
    assert m("numpy-2.5.5.dist-info") and m("x.dist-info-old")
    assert not m(".hidden.pyc")  # node-glob does not match dot names


def test_spr_delete_plan_lists_dist_info_pycache_and_bytecode(tree: Path) -> None:
    plan = _rels(tree, baselines.spr_delete_plan(tree))
    assert plan == sorted([
        "numpy-2.5.5.dist-info",
        "numpy/__pycache__",
        "numpy/core/old.pyo",
        "numpy/core/stale.pyc",
        "pandas/_libs/__pycache__old",
    ])


def test_spr_delete_removes_them_and_counts(tree: Path) -> None:
    res = baselines.spr_delete(tree)
    assert (res.entries, res.files, res.bytes) == (5, 6, 60)
    left = sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file())
    assert not any(".dist-info" in p or "__pycache__" in p for p in left)
    assert "numpy/core/not_bytecode.pyd" in left
    assert ".hidden/ignored.pyc" in left  # `**` does not enter dot folders
    assert "pandas/tests/__init__.py" in left  # the recipe keeps tests


def test_spr_strip_targets_only_dot_so_names(tree: Path) -> None:
    got = _rels(tree, baselines.spr_strip_targets(tree))
    assert got == [
        "numpy.libs/libscipy_openblas64_-ff651d7f.so",  # vendored libs too: what breaks numpy
        "numpy/core/_multiarray_umath.cpython-312-x86_64-linux-gnu.so",
        "pandas/_libs/lib.cpython-312-x86_64-linux-gnu.so",
        "xgboost/lib/libxgboost.so",
    ]
    assert not any(g.endswith(".so.5.0.0") for g in got)


def test_spr_strip_runs_plain_strip_once_per_target(tree: Path, tmp_path: Path) -> None:
    log = tmp_path / "strip.log"
    fake = tmp_path / "fake-strip"
    fake.write_text(f'#!/bin/sh\nprintf "%s|%s\\n" "$#" "$1" >> {log}\ntruncate -s 4 "$1"\n')
    fake.chmod(0o755)
    res = baselines.spr_strip(tree, str(fake))
    calls = log.read_text().splitlines()
    assert len(calls) == 4 and all(c.startswith("1|") for c in calls)  # no flags, one file
    assert (res.files, res.failed, res.bytes_before, res.bytes_after) == (4, [], 40, 16)
    assert (tree / "numpy.libs/libgfortran-040039e1.so.5.0.0").stat().st_size == 10


def test_zip_tree_and_zip_stats(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "layer.zip"
    assert baselines.zip_tree(tree.parent, out) == len(FAKE_TREE)
    zs = measure.zip_stats(out)
    assert (zs.unzipped_bytes, zs.files, zs.zip_bytes) == (10 * len(FAKE_TREE), len(FAKE_TREE),
                                                           out.stat().st_size)
    with zipfile.ZipFile(out) as zf:
        assert all(n.startswith("python/") for n in zf.namelist())
        assert zf.infolist()[0].compress_type == zipfile.ZIP_DEFLATED


def test_zip_command_prefers_the_binary(tmp_path: Path) -> None:
    assert baselines.zip_command(tmp_path, tmp_path / "o.zip", "/usr/bin/zip")[:2] == [
        "/usr/bin/zip", "-r9"]
    fallback = baselines.zip_command(tmp_path, tmp_path / "o.zip", None)
    assert fallback[0] == sys.executable and fallback[2] == "zip" and fallback[-1] == "9"
    # zip's default level is plain `-r` (what a user types), never spelled -r6
    assert baselines.zip_command(tmp_path, tmp_path / "o.zip", "/usr/bin/zip",
                                 baselines.ZIP_DEFAULT_LEVEL)[:2] == ["/usr/bin/zip", "-r"]
    assert baselines.zip_command(tmp_path, tmp_path / "o.zip", None, 6)[-1] == "6"


def test_zip_tree_honours_the_level(tree: Path, tmp_path: Path) -> None:
    big = tree / "numpy" / "big.py"
    big.write_bytes(b"def f(x):\n    return x + 1\n" * 20_000 + bytes(range(256)) * 400)
    sizes = {}
    for level in (1, 9):
        out = tmp_path / f"l{level}.zip"
        baselines.zip_tree(tree.parent, out, level)
        with zipfile.ZipFile(out) as zf:
            sizes[level] = zf.getinfo("python/numpy/big.py").compress_size
    assert sizes[9] < sizes[1]


def test_median_and_ratio() -> None:
    assert measure.median([3.0, 1.0, 2.0]) == 2.0
    assert measure.median([4.0, 1.0, 2.0, 3.0]) == 2.5
    assert measure.median([]) is None
    assert measure.ratio(1.0, 4.0) == 0.25
    assert measure.ratio(None, 4.0) is None
    assert measure.ratio(1.0, None) is None
    assert measure.ratio(1.0, 0.0) is None
    assert measure.fmt_ratio(0.5) == "0.50×" and measure.fmt_ratio(None) == "n/a"


def test_set_writable_round_trip(tree: Path) -> None:
    f = tree / "numpy/__init__.py"
    measure.set_writable(tree, False)
    assert not f.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert not tree.stat().st_mode & stat.S_IWUSR
    measure.set_writable(tree, True)
    assert f.stat().st_mode & stat.S_IWUSR
    measure.remove_tree(tree)
    assert not tree.exists()


def test_run_child_reports_exit_code_time_and_rss(tmp_path: Path) -> None:
    ok = measure.run_child([sys.executable, "-c", "print('hi')"], tmp_path / "logs")
    assert ok.ok and ok.stdout.strip() == "hi" and ok.seconds > 0
    assert ok.maxrss_bytes > 1_000_000
    bad = measure.run_child([sys.executable, "-c", "raise SystemExit(3)"], tmp_path / "logs")
    assert bad.returncode == 3 and not bad.ok


def test_layer_env_drops_python_variables() -> None:
    env = measure.layer_env({"PATH": "/bin", "PYTHONPATH": "/evil", "HOME": "/root"})
    assert env == {"PATH": "/bin", "HOME": "/root", "PYTHONDONTWRITEBYTECODE": "1"}


def _variant(unzipped: int, build: float, cold: float | None, ok: bool = True,
             phases: dict[str, float] | None = None, rss: int = 100_000_000) -> dict[str, Any]:
    return {"unzipped_bytes": unzipped, "zip_bytes": unzipped // 3, "files": 10,
            "build_seconds": build, "phases": phases or {}, "peak_rss_bytes": rss,
            "peak_rss_self_bytes": rss // 2, "verify": {"ok": ok, "detail": ""},
            "cold_start": {"median": cold}}


def _results(**over: dict[str, Any]) -> dict[str, Any]:
    variants = {
        "raw": _variant(300_000_000, 60.0, 1.0, phases={"install": 20.0, "zip": 40.0}),
        "spr": _variant(210_000_000, 47.0, None, ok=False),
        "spr-nostrip": _variant(230_000_000, 45.0, 2.0,
                                phases={"install": 20.0, "prune": 1.0, "zip": 24.0}),
        "lambda-slim": _variant(200_000_000, 20.0, 0.7),
        "lambda-slim --no-compile": _variant(160_000_000, 15.0, 2.0),
        "uv": _variant(228_000_000, 12.0, 2.0, phases={"install": 3.0, "prune": 1.0, "zip": 8.0}),
        "uv, zip -r": _variant(228_000_000, 10.0, 2.0,
                               phases={"install": 3.0, "prune": 1.0, "zip": 6.0}),
        "lambda-slim --compile=all": _variant(207_000_000, 21.0, 0.68),
    }
    variants["lambda-slim"]["report"] = {"zip_sha256": "ab" * 32, "compiled_bytes": 12_000_000}
    variants["lambda-slim --compile=all"]["report"] = {"compiled_bytes": 30_000_000}
    variants["lambda-slim"]["build_seconds"] = 10.5  # ≤ 1.1× the uv way at zip's default level
    variants["lambda-slim"]["unzipped_bytes"] = 185_000_000  # 0.617× raw
    for k, v in over.items():
        variants[k.replace("_", "-").replace("-no-compile", " --no-compile")].update(v)
    return {"variants": variants, "rebuild": {"median": 0.8, "cached": True},
            "repeat": {"sha256": "ab" * 32, "identical": True, "seconds": 10.0},
            "target": "python3.12 x86_64", "requirements_name": "stack.txt", "date": "today"}


def test_ratios() -> None:
    res = _results()
    report.add_ratios(res["variants"])
    assert report.usual_build_seconds(res["variants"]) == 45.0
    slim = res["variants"]["lambda-slim"]["ratios"]
    assert slim["unzipped_vs_raw"] == pytest.approx(185 / 300)
    assert slim["cold_start_vs_spr_nostrip"] == pytest.approx(0.35)
    assert slim["build_vs_usual"] == pytest.approx(10.5 / 45)
    assert report.uv_build_seconds(res["variants"]) == 12.0
    assert slim["build_vs_uv"] == pytest.approx(10.5 / 12)
    assert report.uv_build_seconds(res["variants"], report.UV_DEFAULT) == 10.0
    assert slim["build_vs_uv_default"] == pytest.approx(1.05)
    assert slim["cold_start_vs_compile_all"] == pytest.approx(0.7 / 0.68)
    del res["variants"]["uv"]
    report.add_ratios(res["variants"])  # a run without uv: no ratio, nothing breaks
    assert res["variants"]["lambda-slim"]["ratios"]["build_vs_uv"] is None
    assert res["variants"]["lambda-slim"]["ratios"]["build_vs_uv_default"] == pytest.approx(1.05)
    assert res["variants"]["spr"]["ratios"]["cold_start_vs_spr_nostrip"] is None


def test_evaluate_all_pass() -> None:
    checks = report.evaluate(_results())
    assert [c.passed for c in checks] == [True] * 11, [c for c in checks if not c.passed]


def test_evaluate_reports_each_miss() -> None:
    res = _results(lambda_slim_no_compile={"unzipped_bytes": 177_900_000},
                   lambda_slim={"build_seconds": 40.0, "cold_start": {"median": 1.0},
                                "peak_rss_bytes": 400_000_000, "unzipped_bytes": 192_000_000})
    res["rebuild"] = {"median": 2.5, "cached": True}
    failed = {c.name.split(" ")[0] + " " + c.name.split(" ")[1]: c for c in
              report.evaluate(res) if not c.passed}
    assert set(failed) == {"final unzipped", "cold start", "warm build", "rebuild with",
                           "peak memory", "issue 22:"}
    assert "0.59× raw" in failed["final unzipped"].detail
    assert "0.89×" in failed["warm build"].detail
    by = {c.name: c for c in report.evaluate(res) if c.name.startswith("issue 22")}
    assert [c.passed for c in by.values()] == [False, False, False, True]
    size, cold, build, _same = by.values()
    assert "0.64× raw" in size.detail and "12.0 MB vs --compile=all's 30.0 MB" in size.detail
    assert "1.00 s vs 0.68 s = 1.47×" in cold.detail
    assert "40.00 s vs 10.00 s = 4.00×" in build.detail and "zip -r9: 3.33×" in build.detail


def test_issue22_size_needs_both_the_ratio_and_the_bytes() -> None:
    res = _results(raw={"unzipped_bytes": 320_000_000},
                   lambda_slim={"unzipped_bytes": 195_000_000})  # 0.61× but over 191 MB
    size = report.issue22(res)[0]
    assert not size.passed and "0.61× raw" in size.detail


def test_issue22_zip_must_be_byte_identical() -> None:
    res = _results()
    res["repeat"] = {"sha256": "cd" * 32, "identical": False, "seconds": 9.0}
    assert not report.issue22(res)[3].passed
    res["repeat"] = {"sha256": "ab" * 32, "identical": False, "seconds": 9.0}
    assert not report.issue22(res)[3].passed  # same digest claimed, bytes compared differ
    del res["repeat"]
    assert not report.issue22(res)[3].passed  # a run without the second build proves nothing


def test_evaluate_treats_missing_or_unverified_as_failed() -> None:
    res = _results(lambda_slim={"verify": {"ok": False}, "cold_start": {"median": None}})
    by = {c.name: c for c in report.evaluate(res)}
    assert not next(c for n, c in by.items() if n.startswith("default")).passed
    assert not next(c for n, c in by.items() if n.startswith("cold start")).passed


def test_table_renders_every_variant() -> None:
    from rich.console import Console

    res = _results()
    report.add_ratios(res["variants"])
    con = Console(width=250, record=True, file=io.StringIO())
    con.print(report.table(res))
    text = con.export_text()
    for name in res["variants"]:  # every variant the run has (--trace is optional)
        assert name in text
    assert "level" in text and "×uv -r" in text and "×all-pyc" in text
    assert "n/a" in text and "NO" in text
    json.dumps(res)  # the results stay JSON-serialisable


def test_uv_platform_is_the_newest_manylinux_the_runtime_runs() -> None:
    assert baselines.uv_platform("x86_64", (2, 34)) == "x86_64-manylinux_2_34"  # AL2023
    assert baselines.uv_platform("aarch64", (2, 34)) == "aarch64-manylinux_2_34"
    assert baselines.uv_platform("x86_64", (2, 26)) == "x86_64-manylinux_2_17"  # AL2: uv has no 2_26


def test_uv_install_is_real_and_writes_no_bytecode(tmp_path: Path) -> None:
    """The uv baseline's install, run for real on a tiny wheel (uv is in the test extra)."""
    from tests.wheels import make_wheel

    whl = make_wheel(tmp_path / "house", "tiny", "1.0", {"tiny/__init__.py": "T = 1\n"})
    uv = Path(sys.executable).parent / "uv"
    cmd = baselines.uv_install_command(str(uv), tmp_path / "layer" / "python", [whl], "3.12",
                                       baselines.uv_platform("x86_64", (2, 34)))
    assert cmd[cmd.index("--python-platform") + 1] == "x86_64-manylinux_2_34"
    assert "--no-compile-bytecode" in cmd and "--no-deps" in cmd
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    site = tmp_path / "layer" / "python"
    assert (site / "tiny" / "__init__.py").read_text() == "T = 1\n"
    assert not list(site.rglob("*.pyc"))
    assert baselines.spr_delete(site).entries == 1  # the dist-info, as for the other baselines



def test_noise_over_runs() -> None:
    noise = _mod("bench_noise")
    runs = []
    for build, cold in ((10.0, 0.70), (12.0, 0.80), (11.0, 0.75)):
        res = _results(lambda_slim={"build_seconds": build, "cold_start": {"median": cold}})
        report.add_ratios(res["variants"])
        runs.append(res)
    rows = {(n, f): s for n, f, s in noise.noise_rows(runs)}
    assert rows[("lambda-slim", "build s")] == (10.0, 11.0, 12.0, pytest.approx(2 / 11))
    assert rows[("lambda-slim", "cold start s")][3] == pytest.approx(0.1 / 0.75)
    assert rows[("raw", "×raw (unzipped)")][3] == 0.0  # sizes do not move
    del runs[1]["variants"]["spr"]
    assert not any(n == "spr" for n, _f, _s in noise.noise_rows(runs))  # only shared variants
    assert "| lambda-slim | build s | 10.000 | 11.000 | 12.000 | 18% |" in noise.markdown(runs)
    two = noise.markdown([runs[0], runs[2]])
    assert two.startswith("Spread over 2 runs")
    assert "| lambda-slim | build s | 10.000 | 10.500 | 11.000 | 10% |" in two
    assert noise.pick({"a": {"b": True}}, "a.b") is None and noise.spread([]) is None


@pytest.mark.sandbox
def test_layers_run_without_dev_shm_as_on_lambda(tmp_path: Path) -> None:
    """Every layer workload runs with no usable /dev/shm, as on Lambda (so joblib never
    imports loky, and a traced layer without it works as it would there); the rest of the
    host is as it was."""
    if measure.shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed (scripts/test-setup installs it)")
    probe = ("import multiprocessing as mp, os, sys\n"
             "try:\n    mp.Semaphore()\nexcept OSError as exc:\n    print('no-shm', exc.errno)\n"
             "else:\n    print('shm')\n"
             "print(os.path.exists(sys.argv[1]))\n")
    marker = tmp_path / "seen.txt"
    marker.write_text("x")
    cmd = measure.without_dev_shm([sys.executable, "-c", probe, str(marker)])
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "no-shm" and out[2] == "True", out
    wrapped = measure.layer_cmd(Path(sys.executable), "coldstart.py")
    assert wrapped[:len(cmd) - 3] == cmd[:-3], wrapped  # the layer workloads go the same way
    assert wrapped[-2:] == ["-B", str(measure.WORKLOADS / "coldstart.py")]
