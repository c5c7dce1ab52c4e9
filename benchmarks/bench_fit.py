"""Issue 15's two targets, measured: "make it fit and make it run".

    .venv/bin/python benchmarks/bench_fit.py [--out benchmarks/results/fit.json] [--only 1|2]
        [--baseline]

1. ``xgboost pandas numpy scipy joblib`` as people write it, default flags: within
   262,144,000 bytes, verified, the xgboost -> xgboost-cpu replacement announced.
   ``--baseline`` also builds it with ``--no-variants --no-gpu`` (what the tool did before).
2. ``xgboost-cpu pandas numpy scipy joblib scikit-learn pyarrow statsmodels`` with
   ``--overflow``: within the limit, verified as Lambda starts it (sandbox where available),
   init time with and without overflow printed.

Each build is a child process (``--no-result-cache``), timed, with its peak RSS; numbers come
from the build's own JSON report. Scratch lives in a temp dir removed at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench_measure import run_child
from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
MEASURED_CLI = HERE / "measured_cli.py"
LIMIT = 262_144_000
TARGET_1 = ("xgboost", "pandas", "numpy", "scipy", "joblib")
TARGET_2 = ("xgboost-cpu", "pandas", "numpy", "scipy", "joblib", "scikit-learn", "pyarrow",
            "statsmodels")


def build(tmp: Path, name: str, reqs: Sequence[str], *flags: str) -> dict[str, Any]:
    work = tmp / name
    work.mkdir()
    req = work / "requirements.txt"
    req.write_text("\n".join(reqs) + "\n")
    rep_path = work / "report.json"
    cmd = [sys.executable, str(MEASURED_CLI), str(work / "rss"), "build", str(req), "-o",
           str(work / "layer.zip"), "--json", str(rep_path), "--no-result-cache", "-q", *flags]
    run = run_child(cmd, work / "logs", cwd=work)
    if not rep_path.is_file():
        raise SystemExit(f"{name}: build failed (exit {run.returncode}):\n"
                         f"{(run.stdout + run.stderr)[-3000:]}")
    rep: dict[str, Any] = json.loads(rep_path.read_text())
    return {"name": name, "requirements": list(reqs), "flags": list(flags),
            "exit": run.returncode, "seconds": round(run.seconds, 1),
            "peak_rss_bytes": run.maxrss_bytes, "installed_bytes": rep["installed_bytes"],
            "final_bytes": rep["final_bytes"], "zip_bytes": rep["zip_bytes"],
            "verify": rep["verify"]["status"],
            "replacements": rep.get("variants", {}).get("replacements", []),
            "gpu": rep.get("gpu", []), "overflow": rep.get("overflow"),
            "output": run.stdout[-4000:]}


def checks(rows: dict[str, dict[str, Any]]) -> list[tuple[str, bool, str]]:
    out: list[tuple[str, bool, str]] = []
    t1 = rows.get("target-1")
    if t1:
        swapped = any(r["original"] == "xgboost" and r["variant"] == "xgboost-cpu"
                      and not r["skipped"] for r in t1["replacements"])
        out.append(("target 1 fits 262,144,000 bytes", t1["final_bytes"] <= LIMIT,
                    f"{t1['final_bytes']:,} bytes"))
        out.append(("target 1 verified", t1["verify"] == "passed", t1["verify"]))
        out.append(("target 1 announces xgboost -> xgboost-cpu",
                    swapped and "variant: xgboost -> xgboost-cpu" in t1["output"],
                    "in the report and the printed summary"))
    t2 = rows.get("target-2")
    if t2:
        ov = t2["overflow"] or {}
        before = ov.get("before_bytes") or t2["final_bytes"]
        out.append(("target 2 is at least the limit before overflow", before > LIMIT,
                    f"{t2['installed_bytes']:,} bytes installed, {before:,} after pruning"))
        out.append(("target 2 fits with --overflow", t2["final_bytes"] <= LIMIT,
                    f"{t2['final_bytes']:,} bytes"))
        out.append(("target 2 verified as Lambda starts it",
                    t2["verify"] == "passed" and bool(ov.get("verified")),
                    f"{ov.get('environment')}"))
        out.append(("target 2 init time with and without overflow printed",
                    ov.get("init_ms_with") is not None and "overflow: init" in t2["output"],
                    f"{(ov.get('init_ms_without') or 0) / 1000:.2f} s without, "
                    f"{(ov.get('init_ms_with') or 0) / 1000:.2f} s with"))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=HERE / "results" / "fit.json")
    ap.add_argument("--only", choices=["1", "2"])
    ap.add_argument("--baseline", action="store_true",
                    help="also build target 1 with --no-variants --no-gpu")
    args = ap.parse_args(argv)
    con = Console()
    tmp = Path(tempfile.mkdtemp(prefix="bench-fit-"))
    rows: dict[str, dict[str, Any]] = {}
    try:
        if args.only in (None, "1"):
            con.print("target 1: lambda-slim build (default flags) …")
            rows["target-1"] = build(tmp, "target-1", TARGET_1)
            if args.baseline:
                con.print("target 1 baseline: --no-variants --no-gpu …")
                rows["target-1-baseline"] = build(tmp, "target-1-baseline", TARGET_1,
                                                  "--no-variants", "--no-gpu")
        if args.only in (None, "2"):
            con.print("target 2: lambda-slim build --overflow …")
            rows["target-2"] = build(tmp, "target-2", TARGET_2, "--overflow")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    t = Table(title="Issue 15 targets (python3.12 x86_64)", title_justify="left")
    for col in ("build", "exit", "installed", "final", "zip", "verify", "seconds", "peak RSS"):
        t.add_column(col, justify="left" if col in ("build", "verify") else "right")
    for name, r in rows.items():
        t.add_row(name, str(r["exit"]), f"{r['installed_bytes']:,}", f"{r['final_bytes']:,}",
                  f"{r['zip_bytes']:,}", r["verify"], f"{r['seconds']}",
                  f"{r['peak_rss_bytes'] / 2**20:.0f} MiB")
    con.print(t)
    results = checks(rows)
    for what, ok, detail in results:
        con.print(f"[{'green' if ok else 'red'}]{'PASS' if ok else 'FAIL'}[/] {what}: {detail}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for r in rows.values():
        r.pop("output", None)
    args.out.write_text(json.dumps({
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "builds": rows,
        "targets": [{"check": w, "pass": ok, "detail": d} for w, ok, d in results],
    }, indent=1) + "\n")
    con.print(f"wrote {args.out}")
    return 0 if all(ok for _w, ok, _d in results) else 1


if __name__ == "__main__":
    sys.exit(main())
