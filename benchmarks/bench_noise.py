"""How much the benchmark's figures move between runs: the spread of each figure over several
saved runs of ``bench.py`` on the same machine, as a markdown table.

    .venv/bin/python benchmarks/bench_noise.py run1.json run2.json run3.json

A figure's noise is (max - min) / median over the runs; a change smaller than that is not a
change. Sizes do not move (the zips are reproducible); times and ratios do.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: (label, getter) for each figure worth comparing across runs
FIGURES: tuple[tuple[str, str], ...] = (
    ("build s", "build_seconds"),
    ("cold start s", "cold_start.median"),
    ("×raw (unzipped)", "ratios.unzipped_vs_raw"),
    ("×uv -r (build)", "ratios.build_vs_uv_default"),
    ("×uv -r9 (build)", "ratios.build_vs_uv"),
    ("×all-pyc (cold start)", "ratios.cold_start_vs_compile_all"),
)


def pick(variant: dict[str, Any], dotted: str) -> float | None:
    cur: Any = variant
    for part in dotted.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return float(cur) if isinstance(cur, (int, float)) and not isinstance(cur, bool) else None


def spread(values: Sequence[float]) -> tuple[float, float, float, float] | None:
    """(min, median, max, (max - min) / median) of the values, None without any."""
    if not values:
        return None
    mid = statistics.median(values)
    lo, hi = min(values), max(values)
    return lo, mid, hi, (hi - lo) / mid if mid else 0.0


def noise_rows(runs: Sequence[dict[str, Any]]) -> list[tuple[str, str, tuple[float, ...] | None]]:
    """(variant, figure, spread) for every variant present in every run."""
    names = [n for n in runs[0]["variants"] if all(n in r["variants"] for r in runs)]
    rows = []
    for name in names:
        for label, key in FIGURES:
            vals = [v for r in runs if (v := pick(r["variants"][name], key)) is not None]
            if len(vals) == len(runs):
                rows.append((name, label, spread(vals)))
    return rows


def markdown(runs: Sequence[dict[str, Any]]) -> str:
    out = [f"Spread over {len(runs)} runs ({', '.join(r.get('date', '?') for r in runs)}):", "",
           "| variant | figure | min | median | max | noise |", "| --- | --- | ---: | ---: | ---: | ---: |"]
    for name, label, s in noise_rows(runs):
        if s is None:
            continue
        lo, mid, hi, rel = s
        out.append(f"| {name} | {label} | {lo:.3f} | {mid:.3f} | {hi:.3f} | {rel:.0%} |")
    return "\n".join(out)


def main(argv: Sequence[str]) -> int:
    if len(argv) < 2:
        print("usage: bench_noise.py RUN.json RUN.json [RUN.json ...]", file=sys.stderr)
        return 2
    print(markdown([json.loads(Path(a).read_text()) for a in argv]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
