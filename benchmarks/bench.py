"""lambda-slim against the usual ways of building a Lambda layer, on the same wheels.

    .venv/bin/python benchmarks/bench.py [REQUIREMENTS] [--runtime python3.12 --arch x86_64]
        [--runs 7] [--out benchmarks/results/latest.json]

Variants (see benchmarks/README.md): raw, spr, spr-nostrip, lambda-slim, lambda-slim
--no-compile, plus a rebuild with nothing changed. Every build runs as a child process
(timed, peak RSS from os.wait4); every zip is extracted fresh, made read-only, verified with
the scoring workload and cold-started ``--runs`` times. All scratch lives in a temp dir.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench_baselines import ZIP_DEFAULT_LEVEL, uv_install_command, uv_platform, zip_command
from bench_measure import (
    ChildRun,
    cold_start_once,
    extract,
    layer_cmd,
    layer_env,
    median,
    remove_tree,
    run_child,
    run_script_on_layer,
    set_writable,
    verify_layer,
    zip_stats,
)
from bench_report import (
    ORDER,
    RAW,
    SLIM,
    SLIM_ALL,
    SLIM_NOCOMPILE,
    SLIM_TRACE,
    SPR,
    SPR_NOSTRIP,
    UV,
    UV_DEFAULT,
    Check,
    add_ratios,
    evaluate,
    table,
)
from rich.console import Console
from rich.text import Text

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BASELINES = HERE / "bench_baselines.py"
MEASURED_CLI = HERE / "measured_cli.py"
SCHEMA_VERSION = 1
REBUILD_RUNS = 3

DESCRIPTIONS = {
    RAW: "pip install --target (pip byte-compiles), zip -r9",
    SPR: "serverless-python-requirements slim: delete *.py[c|o], __pycache__*, *.dist-info*; "
         "strip *.so; zip -9",
    SPR_NOSTRIP: "the same recipe without the strip",
    UV: "uv pip install --target --python-platform --no-compile-bytecode, the delete recipe, "
        "zip -r9",
    UV_DEFAULT: "the same uv install and delete recipe, zip -r (zip's default level, 6)",
    SLIM: "lambda-slim build --no-result-cache (defaults: target pycs for what a cold start "
          "imports, zip level 6)",
    SLIM_ALL: "lambda-slim build --no-result-cache --compile=all (target pycs for every module)",
    SLIM_NOCOMPILE: "lambda-slim build --no-result-cache --no-compile",
    SLIM_TRACE: "lambda-slim build --no-result-cache --no-compile --trace SCRIPT "
                "(the example's scoring smoke test)",
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("requirements", nargs="?", type=Path, default=HERE / "stack.txt",
                   help="requirements file [default: benchmarks/stack.txt]")
    p.add_argument("--runtime", default="python3.12")
    p.add_argument("--arch", default="x86_64")
    p.add_argument("--runs", type=int, default=7, help="cold starts per variant [default: 7]")
    p.add_argument("--out", type=Path, default=HERE / "results" / "latest.json")
    p.add_argument("--python", help="target interpreter [default: discovered]")
    p.add_argument("--trace-script", type=Path,
                   default=REPO / "examples" / "xgboost-scoring" / "smoke.py",
                   help="workload for the --trace variant [default: the example's smoke.py]; "
                   "'none' skips that variant")
    p.add_argument("--keep-temp", action="store_true", help="keep the scratch dir (debugging)")
    p.add_argument("--show", type=Path, metavar="JSON",
                   help="only print the table and targets of a saved run")
    args = p.parse_args(argv)
    if args.runs < 1:
        p.error("--runs must be at least 1")
    return args


def first_line(cmd: Sequence[str], containing: str = "") -> str:
    """The first output line of ``cmd`` (that contains ``containing``), or "n/a"."""
    try:
        proc = subprocess.run(list(cmd), capture_output=True, text=True, check=False, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "n/a"
    lines = [ln.strip() for ln in (proc.stdout or proc.stderr).splitlines() if containing in ln]
    return lines[0] if lines else "n/a"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("model name", "Model", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_state() -> dict[str, Any]:
    head = first_line(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "lambda_slim"],
                           capture_output=True, text=True, check=False).stdout.strip()
    return {"commit": head, "lambda_slim_dirty": bool(dirty)}


class Bench:
    """One benchmark run: scratch dir, console, target tools and the results dict."""

    def __init__(self, args: argparse.Namespace, env: Mapping[str, str]) -> None:
        from lambda_slim.inputs.config import default_cache_dir
        from lambda_slim.target.python import find_interpreter
        from lambda_slim.target.runtimes import parse_target

        self.args = args
        self.env = dict(env)
        self.console = Console(width=max(Console().width, 280) if not sys.stdout.isatty() else None)
        self.target = parse_target(args.runtime, args.arch)
        interp = find_interpreter(self.target.runtime.python, self.env, args.python)
        if interp is None:
            raise SystemExit(f"No Python {self.target.runtime.python_str} interpreter found; "
                             "install it (pyenv install) or pass --python.")
        self.python = interp.path
        self.cache_dir = default_cache_dir(self.env)
        self.zip_bin = shutil.which("zip")
        self.unzip_bin = shutil.which("unzip")
        self.strip_bin = shutil.which("strip")
        beside = Path(sys.executable).parent / "uv"  # the test extra installs uv in the venv
        self.uv_bin = str(beside) if beside.is_file() else shutil.which("uv")
        if self.strip_bin is None:
            raise SystemExit("`strip` (binutils) is needed for the spr baseline.")
        self.tmp = Path(tempfile.mkdtemp(prefix="lambda-slim-bench-"))
        self.logs = self.tmp / "logs"
        self.variants: dict[str, dict[str, Any]] = {}
        self.zips: dict[str, Path] = {}

    def say(self, msg: str, style: str = "") -> None:
        self.console.print(Text.assemble((f"{dt.datetime.now():%H:%M:%S} ", "dim"), (msg, style)))

    def child(self, cmd: Sequence[str], what: str, *, cwd: Path | None = None,
              env: Mapping[str, str] | None = None, check: bool = True) -> ChildRun:
        run = run_child(cmd, self.logs, cwd=cwd, env=env if env is not None else self.env)
        if check and not run.ok:
            raise SystemExit(f"{what} failed (exit {run.returncode}): {' '.join(cmd)}\n"
                             f"{(run.stdout + run.stderr)[-3000:]}")
        return run

    # -- inputs ------------------------------------------------------------------------------

    def requirements(self) -> Path:
        """A copy named requirements.txt in scratch (no [tool.lambda-slim] from the source
        folder leaks into one variant only); files with includes are used in place."""
        src = self.args.requirements.resolve()
        text = src.read_text()
        if any(ln.strip().startswith(("-r", "-c", "--requirement", "--constraint"))
               for ln in text.splitlines()):
            return src
        dest = self.tmp / "req" / "requirements.txt"
        dest.parent.mkdir()
        dest.write_text(text)
        return dest

    def resolve(self, req: Path) -> list[Path]:
        """The resolved wheel set (from lambda-slim's resolution cache, filling it if cold);
        every variant installs exactly these files."""
        from lambda_slim.inputs.requirements import read_requirements
        from lambda_slim.resolve.install import resolve
        from lambda_slim.target.proc import run
        from lambda_slim.target.python import Interpreter

        res = resolve(read_requirements(req), self.target,
                      Interpreter(self.python, self.target.runtime.python), self.cache_dir, run,
                      self.env)
        wheels = [w.path for w in res.wheels]
        for w in wheels:  # warm the page cache so no variant pays for the first read
            with open(w, "rb") as fh:
                while fh.read(1 << 22):
                    pass
        return wheels

    # -- baselines ---------------------------------------------------------------------------

    def zip_layer(self, layer_dir: Path, name: str, level: int = 9) -> tuple[Path, ChildRun]:
        out = self.tmp / "zips" / f"{''.join(c for c in name if c.isalnum() or c == '-')}.zip"
        out.parent.mkdir(exist_ok=True)
        run = self.child(zip_command(layer_dir, out, self.zip_bin, level), f"zip {name}",
                         cwd=layer_dir)
        return out, run

    def baselines(self, wheels: list[Path]) -> None:
        raw_dir = self.tmp / "build" / RAW
        self.say("raw: pip install --target (byte-compiling, as pip does by default) …")
        inst = self.child([str(self.python), "-m", "pip", "install", "--target",
                           str(raw_dir / "python"), "--no-deps", "--no-index",
                           "--disable-pip-version-check", "--no-input", "-q",
                           *map(str, wheels)], "pip install")
        copies = {n: self.tmp / "build" / n for n in (SPR, SPR_NOSTRIP)}
        for d in copies.values():
            shutil.copytree(raw_dir / "python", d / "python", symlinks=True)
        self.say(f"raw: zip -r9 … (install took {inst.seconds:.1f} s)")
        raw_zip, rz = self.zip_layer(raw_dir, RAW)
        self.record_baseline(RAW, raw_zip, {"install": inst.seconds, "zip": rz.seconds},
                             [inst, rz], {})
        shutil.rmtree(raw_dir)

        for name in (SPR_NOSTRIP, SPR):
            d = copies[name]
            self.say(f"{name}: delete **/*.py[c|o], **/__pycache__*, **/*.dist-info* …")
            dl = self.child([sys.executable, str(BASELINES), "delete", str(d / "python")],
                            f"{name} delete")
            runs, phases = [inst, dl], {"install": inst.seconds, "prune": dl.seconds}
            extra: dict[str, Any] = {"deleted": json.loads(dl.stdout)}
            if name == SPR:
                self.say(f"{name}: strip every *.so …")
                st = self.child([sys.executable, str(BASELINES), "strip", str(d / "python"),
                                 str(self.strip_bin)], f"{name} strip")
                runs.append(st)
                phases["strip"] = st.seconds
                extra["stripped"] = json.loads(st.stdout)
            self.say(f"{name}: zip -r9 …")
            z, zr = self.zip_layer(d, name)
            runs.append(zr)
            phases["zip"] = zr.seconds
            self.record_baseline(name, z, phases, runs, extra)
            shutil.rmtree(d)

    def prime(self, what: str, cmd: list[str]) -> None:
        """One untimed run of ``cmd`` right before that tool's timed builds, so they are warm
        as "warm build" means for both tools (uv's archive cache; lambda-slim's unpacked
        wheels and bytecode; the page cache after the other variants' I/O). The result cache
        stays out (--no-result-cache)."""
        self.say(f"{what}: an untimed run first, to warm its caches …")
        self.child(cmd, f"prime {what}", cwd=self.tmp, check=False)

    def uv_baseline(self, wheels: list[Path]) -> None:
        """The modern baseline: uv installs the same wheels for the target without bytecode,
        then the delete recipe and zip -r9."""
        if self.uv_bin is None:
            self.say("uv: not installed (pip install uv); skipping the uv baseline", "yellow")
            return
        d = self.tmp / "build" / UV
        plat = uv_platform(self.target.machine, self.target.glibc)
        self.prime("uv", uv_install_command(self.uv_bin, self.tmp / "prime-uv" / "python", wheels,
                                            self.target.runtime.python_str, plat))
        shutil.rmtree(self.tmp / "prime-uv", ignore_errors=True)
        self.say(f"uv: uv pip install --target --python-platform {plat} --no-compile-bytecode …")
        inst = self.child(uv_install_command(self.uv_bin, d / "python", wheels,
                                             self.target.runtime.python_str, plat), "uv install")
        dl = self.child([sys.executable, str(BASELINES), "delete", str(d / "python")], "uv delete")
        for name, level in ((UV, 9), (UV_DEFAULT, ZIP_DEFAULT_LEVEL)):
            self.say(f"{name}: zip at level {level} … (install took {inst.seconds:.1f} s)")
            z, zr = self.zip_layer(d, name, level)
            self.record_baseline(name, z, {"install": inst.seconds, "prune": dl.seconds,
                                           "zip": zr.seconds}, [inst, dl, zr],
                                 {"deleted": json.loads(dl.stdout), "python_platform": plat,
                                  "zip_level": level})
        shutil.rmtree(d)

    def record(self, name: str, zip_path: Path, phases: dict[str, float], seconds: float,
               peak_rss: int | None, extra: dict[str, Any]) -> None:
        """One variant's row: sizes from its zip, phase times, wall time, memory, extras."""
        zs = zip_stats(zip_path)
        self.zips[name] = zip_path
        self.variants[name] = {
            "description": DESCRIPTIONS[name],
            "unzipped_bytes": zs.unzipped_bytes, "zip_bytes": zs.zip_bytes, "files": zs.files,
            "phases": {k: round(v, 3) for k, v in phases.items()},
            "build_seconds": round(seconds, 3),
            "peak_rss_bytes": peak_rss,
            **extra,
        }

    def record_baseline(self, name: str, zip_path: Path, phases: dict[str, float],
                        runs: list[ChildRun], extra: dict[str, Any]) -> None:
        self.record(name, zip_path, phases, sum(phases.values()),
                    max(r.maxrss_bytes for r in runs), {"zip_level": 9, **extra})

    # -- lambda-slim -------------------------------------------------------------------------

    def slim_cmd(self, req: Path, out: Path, report: Path, rss: Path, *flags: str) -> list[str]:
        cmd = [sys.executable, str(MEASURED_CLI), str(rss), "build", str(req), "-o", str(out),
               "--json", str(report), "--runtime", self.args.runtime, "--arch", self.args.arch,
               "-q", *flags]
        if self.args.python:
            cmd += ["--python", self.args.python]
        return cmd

    def slim(self, req: Path, wheels: list[Path]) -> None:
        out_dir = self.tmp / "slim"
        out_dir.mkdir()
        variants: list[tuple[str, list[str]]] = [
            (SLIM, ["--no-result-cache"]),
            (SLIM_ALL, ["--no-result-cache", "--compile=all"]),
            (SLIM_NOCOMPILE, ["--no-result-cache", "--no-compile"])]
        if str(self.args.trace_script) != "none":
            variants.append((SLIM_TRACE, ["--no-result-cache", "--no-compile", "--trace",
                                          str(self.args.trace_script.resolve())]))
        prime = out_dir / "prime"
        prime.mkdir()
        self.prime("lambda-slim", self.slim_cmd(req, prime / "p.zip", prime / "p.json",
                                                prime / "p.rss", "--no-result-cache"))
        for name, flags in variants:
            self.say(f"{name}: {' '.join(['lambda-slim build', *flags])} …")
            tag = name.replace(" ", "").replace("--", "-")
            out, rep_path, rss = (out_dir / f"{tag}.zip", out_dir / f"{tag}.json",
                                  out_dir / f"{tag}.rss")
            run = self.child(self.slim_cmd(req, out, rep_path, rss, *flags), name, cwd=self.tmp,
                             check=False)
            if run.returncode not in (0, 1, 5) or not rep_path.is_file() or not out.is_file():
                raise SystemExit(f"{name} failed (exit {run.returncode}):\n"
                                 f"{(run.stdout + run.stderr)[-3000:]}")
            rep = json.loads(rep_path.read_text())
            self.record_slim(name, out, rep, run, rss, wheels)

    def repeat(self, req: Path) -> dict[str, Any]:
        """The default build again, fresh (no result cache): is its zip byte-identical?"""
        out_dir = self.tmp / "slim"
        out, rep_path, rss = out_dir / "again.zip", out_dir / "again.json", out_dir / "ag.rss"
        self.say("lambda-slim: the default build again, to compare the zips …")
        run = self.child(self.slim_cmd(req, out, rep_path, rss, "--no-result-cache"),
                         "repeat", cwd=self.tmp, check=False)
        first = self.zips.get(SLIM)
        identical = (out.is_file() and first is not None
                     and out.read_bytes() == first.read_bytes())
        rep = json.loads(rep_path.read_text()) if rep_path.is_file() else {}
        return {"seconds": round(run.seconds, 3), "exit_code": run.returncode,
                "sha256": rep.get("zip_sha256"), "identical": identical}

    def record_slim(self, name: str, zip_path: Path, rep: dict[str, Any], run: ChildRun,
                    rss: Path, wheels: list[Path]) -> None:
        tm: dict[str, float] = rep.get("timings", {})
        g = tm.get
        phases = {
            "install": g("resolve", 0.0) + g("install", 0.0),
            "prune": g("inventory", 0.0) + g("prune", 0.0),
            "strip": g("native", 0.0) + g("strip", 0.0),
            "compile": g("compile", 0.0), "verify": g("verify", 0.0), "zip": g("zip", 0.0),
            "trace": g("trace", 0.0),
        }
        used = sorted(w.name for w in wheels)
        built = sorted(r["filename"] for r in rep.get("resolved", []))
        self.record(name, zip_path, phases, run.seconds, run.maxrss_bytes, {
            "peak_rss_self_bytes": int(rss.read_text()) * 1024 if rss.is_file() else None,
            "exit_code": run.returncode,
            "same_wheels_as_baselines": used == built,
            "zip_level": 6,
            "report": {k: rep.get(k) for k in ("final_bytes", "installed_bytes", "compiled_bytes",
                                               "bytecode", "zip_bytes", "zip_sha256", "files",
                                               "timings")},
            "report_verify": {"status": rep.get("verify", {}).get("status")},
            "trace": {k: v for k, v in (rep.get("trace") or {}).items()
                      if k != "identical_files"},
        })
        if used != built:
            self.say(f"warning: {name} built {built}, the baselines used {used}", "yellow")

    def rebuild(self, req: Path) -> dict[str, Any]:
        """The default command again without --no-result-cache: once to prime, then timed."""
        out_dir = self.tmp / "slim"
        out, rep_path, rss = out_dir / "rebuild.zip", out_dir / "rebuild.json", out_dir / "rb.rss"
        cmd = self.slim_cmd(req, out, rep_path, rss)
        self.say("rebuild: priming the result cache …")
        prime = self.child(cmd, "rebuild (prime)", cwd=self.tmp, check=False)
        times, cached, codes = [], [], [prime.returncode]
        for _ in range(REBUILD_RUNS):
            run = self.child(cmd, "rebuild", cwd=self.tmp, check=False)
            times.append(run.seconds)
            codes.append(run.returncode)
            rep = json.loads(rep_path.read_text()) if rep_path.is_file() else {}
            cached.append(bool(rep.get("cached")))
        self.say(f"rebuild: {', '.join(f'{t:.2f} s' for t in times)}")
        return {"prime_seconds": round(prime.seconds, 3), "runs": [round(t, 3) for t in times],
                "median": median(times), "cached": all(cached), "exit_codes": codes}

    # -- layers ------------------------------------------------------------------------------

    def verify_and_cold_start(self) -> None:
        env = layer_env(self.env)
        sites: dict[str, Path] = {}
        for name in ORDER:
            if name not in self.zips:
                continue
            dest = self.tmp / "layers" / name.replace(" ", "")
            extract(self.zips[name], dest, self.unzip_bin)
            set_writable(dest, False)
            if name == SLIM_TRACE:
                # A traced layer keeps what its own workload touches: judge it by that
                # workload (the broader one imports scipy.stats/optimize, never traced).
                self.say(f"{name}: its traced workload {self.args.trace_script.name} …")
                out = run_script_on_layer(self.python, dest / "python",
                                          self.args.trace_script.resolve(), env, self.logs)
            else:
                self.say(f"{name}: verification workload …")
                out = verify_layer(self.python, dest / "python", env, self.logs)
            self.variants[name]["verify"] = {"ok": out.ok, "detail": out.detail}
            self.say(f"  {'ok' if out.ok else 'FAILED'}: {out.detail}", "green" if out.ok else "red")
            if out.ok:
                sites[name] = dest / "python"
        model = self.tmp / "model.ubj"
        maker = next((s for n, s in sites.items() if n == RAW), next(iter(sites.values()), None))
        if maker is not None:
            self.child(layer_cmd(self.python, "make_model.py", str(maker), str(model)),
                       "make model", env=env)
        runs: dict[str, list[float]] = {n: [] for n in sites}
        failures: dict[str, list[str]] = {n: [] for n in sites}
        if sites:
            self.say(f"cold starts: 1 warm-up + {self.args.runs} runs per layer, round-robin …")
        for i in range(self.args.runs + 1):
            for name, site in sites.items():
                r = cold_start_once(self.python, site, model, env, self.logs)
                if not r.ok:
                    failures[name].append((r.stdout + r.stderr).strip()[-300:])
                elif i > 0:
                    runs[name].append(r.seconds)
        for name, v in self.variants.items():
            got = runs.get(name, [])
            v["cold_start"] = {
                "median": median(got), "runs": [round(x, 4) for x in got],
                "failures": failures.get(name, []),
                "why_na": None if got else ("layer failed verification" if name not in sites
                                            else "every cold start failed"),
            }
        for dest in (self.tmp / "layers").iterdir():
            remove_tree(dest)

    # -- the whole run -----------------------------------------------------------------------

    def machine(self, wheels: list[Path]) -> dict[str, Any]:
        from lambda_slim import __version__

        return {
            "uname_m": first_line(["uname", "-m"]), "nproc": os.cpu_count(),
            "nproc_available": len(os.sched_getaffinity(0)), "cpu_model": cpu_model(),
            "kernel": platform.release(),
            "versions": {
                "lambda_slim": __version__, **git_state(),
                "bench_python": platform.python_version(),
                "target_python": first_line([str(self.python), "--version"]),
                "target_pip": first_line([str(self.python), "-m", "pip", "--version"]),
                "zip": first_line([self.zip_bin, "-v"], "This is Zip")
                if self.zip_bin else "python zipfile, level 9",
                "unzip": first_line([self.unzip_bin, "-v"])
                if self.unzip_bin else "python zipfile",
                "strip": first_line([str(self.strip_bin), "--version"]),
                "uv": first_line([self.uv_bin, "--version"]) if self.uv_bin else "n/a",
                "wheels": [w.name for w in wheels],
            },
        }

    def run(self) -> dict[str, Any]:
        req = self.requirements()
        self.say(f"scratch: {self.tmp}; target {self.target.describe()}, {self.python}")
        wheels = self.resolve(req)
        self.say(f"resolved {len(wheels)} wheels: {', '.join(w.name for w in wheels)}")
        self.baselines(wheels)
        self.uv_baseline(wheels)
        self.slim(req, wheels)
        again = self.repeat(req)
        rebuild = self.rebuild(req)
        self.verify_and_cold_start()
        add_ratios(self.variants)
        return {
            "schema_version": SCHEMA_VERSION,
            "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "target": f"{self.args.runtime} {self.args.arch}",
            "requirements": str(self.args.requirements),
            "requirements_name": self.args.requirements.name,
            "cold_start_runs": self.args.runs,
            "machine": self.machine(wheels),
            "variants": self.variants,
            "rebuild": rebuild,
            "repeat": again,
        }

    def cleanup(self) -> None:
        if self.args.keep_temp:
            self.say(f"kept {self.tmp}")
        else:
            remove_tree(self.tmp)


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def render(con: Console, results: dict[str, Any]) -> list[Check]:
    """Print the table, the machine line and the targets; returns the targets."""
    checks = evaluate(results)
    con.print()
    con.print(table(results))
    m = results["machine"]
    v = m["versions"]
    con.print(f"machine: {m['uname_m']}, {m['nproc']} CPUs ({m['cpu_model']}); lambda-slim "
              f"{v['lambda_slim']} @ {v['commit']}"
              f"{' + uncommitted core changes' if v['lambda_slim_dirty'] else ''}; "
              f"{v['target_python']}; cold start = median of {results['cold_start_runs']} runs",
              highlight=False)
    con.print("phases in seconds; build = wall time of the build's child processes; ×usual = "
              "build / (pip install --target + delete recipe + zip -r9, i.e. spr-nostrip); "
              "×uv -r9 / ×uv -r = build / (uv install + delete recipe + zip at level 9 / at "
              "zip's default level 6); level = deflate level of the zip; ×all-pyc = cold start "
              "/ --compile=all's; peak RSS = largest process of the build tree (os.wait4); "
              "lambda-slim's verify excludes the init-time measurement, which runs beside its "
              "zip", highlight=False)
    con.print()
    for c in checks:
        mark = ("PASS", "green") if c.passed else ("FAIL", "bold red")
        con.print(Text.assemble(mark, f" {c.name}: {c.detail}"))
    return checks


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.show is not None:
        render(Console(width=None if sys.stdout.isatty() else 280),
               json.loads(args.show.read_text()))
        return 0
    bench = Bench(args, os.environ)
    try:
        results = bench.run()
    finally:
        bench.cleanup()
    checks = render(bench.console, results)
    results["targets"] = [{"name": c.name, "passed": c.passed, "detail": c.detail}
                          for c in checks]
    write_json(args.out, results)
    bench.console.print(f"\nwritten: {args.out}", highlight=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
