"""Init time and peak memory of a layer, measured in fresh interpreters in the target.

Init time is what the layer adds to a cold start: the wall time a fresh interpreter spends
importing the requested packages (the median of several runs, so one slow disk read does
not decide). Peak memory is the child's high-water mark of resident memory (``VmHWM``; the
``ru_maxrss`` of ``getrusage`` where /proc is missing), the largest over the runs.
"""

from __future__ import annotations

import json
import statistics
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass

#: Lambda's limit on the init phase of an on-demand function (LAMBDA_FACTS: 10 s).
INIT_LIMIT_MS = 10_000.0
MARK = "@@LAMBDA_SLIM_MEASURE@@"

PEAK_RSS_CODE = r"""
def _lambda_slim_peak_rss():
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
"""

IMPORT_TIMING_CODE = PEAK_RSS_CODE + r"""
import importlib, json, sys, time
_args = json.loads(sys.argv[1])
sys.path[:0] = _args["paths"]
_t0 = time.perf_counter()
for _m in _args["modules"]:
    importlib.import_module(_m)
_dt = time.perf_counter() - _t0
print("\n" + MARK + json.dumps({"init_s": _dt, "rss": _lambda_slim_peak_rss()}))
""".replace("MARK", repr(MARK))

#: Runs ``argv_after_python`` in the target (isolation included) with a timeout.
RunChild = Callable[[Sequence[str], float], subprocess.CompletedProcess[str]]


@dataclass(frozen=True)
class Measurement:
    init_ms: float  # median over the runs
    samples_ms: tuple[float, ...]
    max_rss_bytes: int
    environment: str  # "sandbox" or "host"

    @property
    def over_init_limit(self) -> bool:
        return self.init_ms > INIT_LIMIT_MS

    def fits(self, memory_mb: int) -> bool:
        """Whether the peak resident memory fits a function of ``memory_mb`` MB."""
        return self.max_rss_bytes <= memory_mb * 1024 * 1024


@dataclass(frozen=True)
class MeasureFailed:
    """A measuring run did not finish; ``output`` holds its last lines."""

    returncode: int
    output: str


def parse_measure(stdout: str) -> tuple[float, int] | None:
    """(seconds, rss bytes) from a child's output, or None when it printed no result."""
    idx = stdout.rfind(MARK)
    if idx < 0:
        return None
    try:
        data = json.loads(stdout[idx + len(MARK):].strip().splitlines()[0])
        return float(data["init_s"]), int(data["rss"])
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def measure_init(run: RunChild, modules: Sequence[str], paths: Sequence[str], *,
                 environment: str, runs: int = 3,
                 timeout: float = 120.0) -> Measurement | MeasureFailed:
    """Import ``modules`` (with ``paths`` first on sys.path, as the child sees them) ``runs``
    times, each in a fresh interpreter started by ``run``."""
    arg = json.dumps({"paths": list(paths), "modules": list(modules)})
    samples: list[float] = []
    peak = 0
    for _ in range(max(1, runs)):
        proc = run(["-I", "-S", "-B", "-c", IMPORT_TIMING_CODE, arg], timeout)
        got = parse_measure(proc.stdout or "")
        if proc.returncode != 0 or got is None:
            tail = ((proc.stdout or "") + (proc.stderr or "")).strip().splitlines()[-15:]
            return MeasureFailed(proc.returncode, "\n".join(tail))
        samples.append(got[0] * 1000.0)
        peak = max(peak, got[1])
    return Measurement(round(statistics.median(samples), 1), tuple(round(s, 1) for s in samples),
                       peak, environment)
