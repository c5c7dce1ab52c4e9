"""Turning the measured variants into ratios, the issue's pass/fail targets and a rich table.

Everything here is a pure function of the results dict that ``bench.py`` writes as JSON, so
the table can be re-rendered from a saved run and the logic is unit-tested without builds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench_measure import fmt_ratio, ratio
from rich.table import Table

LAMBDA_LIMIT = 262_144_000
#: "Fits with room to spare": at most this share of the limit, the rest left for function code.
ROOM_SHARE = 0.90
BUILD_ISSUE_LIMIT = 180_000_000

RAW, SPR, SPR_NOSTRIP, UV = "raw", "spr", "spr-nostrip", "uv"
#: the uv way zipped at zip's default level (6) instead of -9
UV_DEFAULT = "uv, zip -r"
SLIM, SLIM_NOCOMPILE = "lambda-slim", "lambda-slim --no-compile"
SLIM_ALL = "lambda-slim --compile=all"
SLIM_TRACE = "lambda-slim --trace --no-compile"
ORDER = (RAW, SPR, SPR_NOSTRIP, UV, UV_DEFAULT, SLIM, SLIM_ALL, SLIM_NOCOMPILE, SLIM_TRACE)
#: issue 22: the default layer against raw, its cold start against all-bytecode's, its warm
#: build against uv + zip at the default level
ISSUE22_SIZE, ISSUE22_SIZE_BYTES, ISSUE22_COLD, ISSUE22_BUILD = 0.62, 191_000_000, 1.05, 1.1
TRACE_LIMIT = 125 * 1024 * 1024  # issue 6: final tree ≤ 125 MiB without bytecode
DIRECT_UPLOAD = 52_428_800
PHASES = ("install", "prune", "strip", "trace", "compile", "verify", "zip")


def usual_build_seconds(variants: dict[str, dict[str, Any]]) -> float | None:
    """The "usual way" baseline: pip install --target (byte-compiling), the find/delete
    recipe, zip -r9 — i.e. the spr-nostrip pipeline, sharing raw's install."""
    v = variants.get(SPR_NOSTRIP)
    if not v:
        return None
    return float(sum(v["phases"].get(p, 0.0) for p in ("install", "prune", "zip")))


def uv_build_seconds(variants: dict[str, dict[str, Any]], name: str = UV) -> float | None:
    """The modern baseline: ``uv pip install --target --python-platform
    --no-compile-bytecode``, the delete recipe, ``zip -r9`` (``name=UV_DEFAULT``: ``zip -r``,
    zip's default level)."""
    v = variants.get(name)
    if not v:
        return None
    return float(sum(v["phases"].get(p, 0.0) for p in ("install", "prune", "zip")))


def add_ratios(variants: dict[str, dict[str, Any]]) -> None:
    """Fill each variant's ``ratios``: size vs raw, cold start vs spr-nostrip, build vs the
    usual way and vs the uv way (both measured in this run)."""
    raw = variants.get(RAW, {})
    nostrip = variants.get(SPR_NOSTRIP, {})
    usual = usual_build_seconds(variants)
    fastest = uv_build_seconds(variants)
    uv_default = uv_build_seconds(variants, UV_DEFAULT)
    all_pyc = variants.get(SLIM_ALL, {})
    for v in variants.values():
        v["ratios"] = {
            "unzipped_vs_raw": ratio(v.get("unzipped_bytes"), raw.get("unzipped_bytes")),
            "zip_vs_raw": ratio(v.get("zip_bytes"), raw.get("zip_bytes")),
            "cold_start_vs_spr_nostrip": ratio(v.get("cold_start", {}).get("median"),
                                               nostrip.get("cold_start", {}).get("median")),
            "build_vs_usual": ratio(v.get("build_seconds"), usual),
            "build_vs_uv": ratio(v.get("build_seconds"), fastest),
            "build_vs_uv_default": ratio(v.get("build_seconds"), uv_default),
            "cold_start_vs_compile_all": ratio(v.get("cold_start", {}).get("median"),
                                               all_pyc.get("cold_start", {}).get("median")),
        }


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


def _mb(n: float | None) -> str:
    return "n/a" if n is None else f"{n / 1e6:,.1f} MB"


def _s(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f} s"


def evaluate(results: dict[str, Any]) -> list[Check]:
    """The issue's targets for the default stack, judged on this run's own numbers."""
    vs: dict[str, dict[str, Any]] = results["variants"]
    raw, slim, nc = vs.get(RAW, {}), vs.get(SLIM, {}), vs.get(SLIM_NOCOMPILE, {})
    nostrip = vs.get(SPR_NOSTRIP, {})
    checks: list[Check] = []

    r = ratio(nc.get("unzipped_bytes"), raw.get("unzipped_bytes"))
    ok = r is not None and r <= 0.55 and bool(nc.get("verify", {}).get("ok"))
    checks.append(Check(
        "final unzipped (--no-compile) ≤ 0.55× raw, and verifies", ok,
        f"{_mb(nc.get('unzipped_bytes'))} = {fmt_ratio(r)} raw ({_mb(raw.get('unzipped_bytes'))});"
        f" verifies: {nc.get('verify', {}).get('ok', 'n/a')}"))

    final = slim.get("unzipped_bytes")
    room = None if final is None else LAMBDA_LIMIT - final
    ok = (final is not None and final <= ROOM_SHARE * LAMBDA_LIMIT
          and bool(slim.get("verify", {}).get("ok")))
    checks.append(Check(
        f"default (with bytecode) fits {LAMBDA_LIMIT:,} with room (≤ {ROOM_SHARE:.0%}), verifies",
        ok, f"{_mb(final)}, {ratio(final, LAMBDA_LIMIT) or 0:.1%} of the limit, "
        f"{_mb(room)} to spare; verifies: {slim.get('verify', {}).get('ok', 'n/a')}"))

    cs, base = slim.get("cold_start", {}).get("median"), nostrip.get("cold_start", {}).get("median")
    r = ratio(cs, base)
    checks.append(Check("cold start (default) ≤ 0.4× spr-nostrip", r is not None and r <= 0.4,
                        f"{_s(cs)} vs {_s(base)} = {fmt_ratio(r)}"))

    usual = usual_build_seconds(vs)
    r = ratio(slim.get("build_seconds"), usual)
    rn = ratio(nc.get("build_seconds"), usual)
    fastest = uv_build_seconds(vs)
    ru = ratio(slim.get("build_seconds"), fastest)
    uv_default = uv_build_seconds(vs, UV_DEFAULT)
    rud = ratio(slim.get("build_seconds"), uv_default)
    checks.append(Check(
        "warm build (default) ≤ 0.5× raw baseline's install + prune + zip",
        r is not None and r <= 0.5,
        f"{_s(slim.get('build_seconds'))} vs {_s(usual)} = {fmt_ratio(r)} "
        f"(--no-compile: {_s(nc.get('build_seconds'))} = {fmt_ratio(rn)}); vs the uv way's "
        f"install + prune + zip -r9 {_s(fastest)}: {fmt_ratio(ru)}, with zip -r (level 6) "
        f"{_s(uv_default)}: {fmt_ratio(rud)}"))

    rb = results.get("rebuild", {}).get("median")
    cached = results.get("rebuild", {}).get("cached")
    checks.append(Check("rebuild with nothing changed < 2 s",
                        rb is not None and rb < 2.0 and bool(cached),
                        f"{_s(rb)} (median; served from the result cache: {cached})"))

    peaks = [(n, vs[n].get("peak_rss_bytes")) for n in (SLIM, SLIM_NOCOMPILE) if n in vs]
    worst = max((p for _n, p in peaks if p is not None), default=None)
    selfs = [vs[n].get("peak_rss_self_bytes") for n in (SLIM, SLIM_NOCOMPILE) if n in vs]
    worst_self = max((p for p in selfs if p is not None), default=None)
    checks.append(Check(
        "peak memory of the build < 300 MB", worst is not None and worst < 300e6,
        f"largest process of the build tree {_mb(worst)}; the lambda-slim process itself "
        f"{_mb(worst_self)}"))

    final_nc, raw_b = nc.get("unzipped_bytes"), raw.get("unzipped_bytes")
    detail = (f"final {final_nc:,} bytes beside the raw install's {raw_b:,} bytes"
              if final_nc is not None and raw_b is not None else "n/a")
    checks.append(Check(
        f"build issue: --no-compile final ≤ {BUILD_ISSUE_LIMIT:,} bytes, verifies",
        final_nc is not None and final_nc <= BUILD_ISSUE_LIMIT
        and bool(nc.get("verify", {}).get("ok")), detail))

    checks += issue22(results)

    tr = vs.get(SLIM_TRACE)
    if tr:
        final_t, zip_t = tr.get("unzipped_bytes"), tr.get("zip_bytes")
        ok_v = bool(tr.get("verify", {}).get("ok"))
        checks.append(Check(
            "trace: final ≤ 125 MiB without bytecode, zip ≤ 50 MB, verifies",
            final_t is not None and final_t <= TRACE_LIMIT and zip_t is not None
            and zip_t <= DIRECT_UPLOAD and ok_v,
            f"{_mb(final_t)} ({(final_t or 0) / 2**20:.1f} MiB), zip {_mb(zip_t)}; touched by "
            f"the workload: {_mb(tr.get('trace', {}).get('touched_bytes'))}; verifies: {ok_v}"))
        added = None
        if tr.get("build_seconds") is not None and nc.get("build_seconds") is not None:
            added = tr["build_seconds"] - nc["build_seconds"]
        checks.append(Check(
            "trace adds < 30 s to a warm build", added is not None and added < 30,
            f"{_s(tr.get('build_seconds'))} vs --no-compile {_s(nc.get('build_seconds'))}: "
            f"+{_s(added)} (trace phase {_s(tr.get('phases', {}).get('trace'))})"))
    return checks


def _rep(v: dict[str, Any], key: str) -> Any:
    """A value of a lambda-slim variant's own JSON report (None for the baselines)."""
    return (v.get("report") or {}).get(key)


def issue22(results: dict[str, Any]) -> list[Check]:
    """Issue 22's targets: bytecode where it pays, a build as fast as uv + zip."""
    vs: dict[str, dict[str, Any]] = results["variants"]
    raw, slim, all_pyc = vs.get(RAW, {}), vs.get(SLIM, {}), vs.get(SLIM_ALL, {})
    checks: list[Check] = []
    final, ok_v = slim.get("unzipped_bytes"), bool(slim.get("verify", {}).get("ok"))
    r = ratio(final, raw.get("unzipped_bytes"))
    checks.append(Check(
        f"issue 22: default ≤ {ISSUE22_SIZE}× raw (≤ {ISSUE22_SIZE_BYTES / 1e6:.0f} MB), "
        "verifies", r is not None and r <= ISSUE22_SIZE and final is not None
        and final <= ISSUE22_SIZE_BYTES and ok_v,
        f"{_mb(final)} = {fmt_ratio(r)} raw; bytecode {_mb(_rep(slim, 'compiled_bytes'))} vs "
        f"--compile=all's {_mb(_rep(all_pyc, 'compiled_bytes'))}; verifies: {ok_v}"))
    cs, base = (slim.get("cold_start", {}).get("median"),
                all_pyc.get("cold_start", {}).get("median"))
    r = ratio(cs, base)
    checks.append(Check(
        f"issue 22: cold start (default) ≤ {ISSUE22_COLD}× --compile=all's",
        r is not None and r <= ISSUE22_COLD, f"{_s(cs)} vs {_s(base)} = {fmt_ratio(r)}"))
    uv_default = uv_build_seconds(vs, UV_DEFAULT)
    r = ratio(slim.get("build_seconds"), uv_default)
    checks.append(Check(
        f"issue 22: warm build (default) ≤ {ISSUE22_BUILD}× uv + zip -r (default level)",
        r is not None and r <= ISSUE22_BUILD,
        f"{_s(slim.get('build_seconds'))} vs {_s(uv_default)} = {fmt_ratio(r)} (zip -r9: "
        f"{fmt_ratio(ratio(slim.get('build_seconds'), uv_build_seconds(vs)))})"))
    again = results.get("repeat") or {}
    first = _rep(slim, "zip_sha256")
    same = bool(again.get("identical")) and first is not None and again.get("sha256") == first
    checks.append(Check(
        "issue 22: default zip byte-identical across two fresh builds", same,
        f"sha256 {str(first)[:12]}… then {str(again.get('sha256'))[:12]}… "
        f"(second build {_s(again.get('seconds'))})"))
    return checks


def table(results: dict[str, Any]) -> Table:
    vs: dict[str, dict[str, Any]] = results["variants"]
    t = Table(title=f"lambda-slim benchmark: {results['target']} · {results['requirements_name']}"
              f" · {results['date']}", title_justify="left")
    cols = ["variant", "unzipped", "×raw", "zip", "level", "files", "verifies", *PHASES,
            "build", "×usual", "×uv -r9", "×uv -r", "peak RSS", "cold start", "×spr-ns",
            "×all-pyc"]
    for c in cols:
        t.add_column(c, justify="left" if c in ("variant", "verifies") else "right")
    for name in ORDER:
        v = vs.get(name)
        if v is None:
            continue
        rt = v["ratios"]
        ph = v["phases"]
        cs = v["cold_start"]
        verifies = "yes" if v["verify"]["ok"] else "NO"
        t.add_row(
            name, _mb(v["unzipped_bytes"]), fmt_ratio(rt["unzipped_vs_raw"]), _mb(v["zip_bytes"]),
            str(v.get("zip_level", "-")), f"{v['files']:,}", verifies,
            *[f"{ph[p]:.1f}" if p in ph else "-" for p in PHASES],
            f"{v['build_seconds']:.1f} s", fmt_ratio(rt["build_vs_usual"]),
            fmt_ratio(rt.get("build_vs_uv")), fmt_ratio(rt.get("build_vs_uv_default")),
            _mb(v["peak_rss_bytes"]),
            "n/a" if cs.get("median") is None else f"{cs['median']:.3f} s",
            fmt_ratio(rt["cold_start_vs_spr_nostrip"]),
            fmt_ratio(rt.get("cold_start_vs_compile_all")),
        )
    return t
