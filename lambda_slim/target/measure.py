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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .bootstrap import BOOTSTRAP_CODE
from .proc import tail

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

#: ``python -I -S -B -c CODE ARGS``: Lambda's ``sys.path`` setup for ``paths`` (``.pth``
#: files included), then the imports, timed from before the setup. With ``keep_going`` a
#: failing import is recorded instead of raised; ``report`` is code that adds entries to
#: ``_out`` (what a caller wants to know about the started process).
IMPORT_TIMING_CODE = PEAK_RSS_CODE + BOOTSTRAP_CODE + r"""
import importlib, json, sys, time, traceback
_args = json.loads(sys.argv[1])
_t0 = time.perf_counter()
_lambda_slim_bootstrap(_args["paths"])
_failed = {}
for _m in _args["modules"]:
    try:
        importlib.import_module(_m)
    except BaseException as _e:
        if not _args.get("keep_going"):
            raise
        _failed[_m] = "".join(traceback.format_exception_only(type(_e), _e)).strip()
_dt = time.perf_counter() - _t0
_out = {"init_s": _dt, "rss": _lambda_slim_peak_rss(), "failed": _failed}
exec(_args.get("report", ""))
print("\n" + MARK + json.dumps(_out))
""".replace("MARK", repr(MARK))

#: Runs ``argv_after_python`` in the target (isolation included) with a timeout.
RunChild = Callable[[Sequence[str], float], subprocess.CompletedProcess[str]]


@dataclass(frozen=True)
class Measurement:
    init_ms: float  # median over the runs
    samples_ms: tuple[float, ...]
    max_rss_bytes: int
    environment: str  # "sandbox" or "host"
    #: module -> error, for the imports that failed (only with ``keep_going``; last run)
    failed: Mapping[str, str] = field(default_factory=dict)
    #: what the ``report`` code added, from the last run
    extra: Mapping[str, Any] = field(default_factory=dict)

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


def measure_data(stdout: str) -> dict[str, Any] | None:
    """The JSON object a timing run printed after the marker, or None when it printed none."""
    idx = stdout.rfind(MARK)
    if idx < 0:
        return None
    try:
        data = json.loads(stdout[idx + len(MARK):].strip().splitlines()[0])
        float(data["init_s"]), int(data["rss"])
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return data if isinstance(data, dict) else None


def parse_measure(stdout: str) -> tuple[float, int] | None:
    """(seconds, rss bytes) from a child's output, or None when it printed no result."""
    data = measure_data(stdout)
    return (float(data["init_s"]), int(data["rss"])) if data is not None else None


def measure_init(run: RunChild, modules: Sequence[str], paths: Sequence[str], *,
                 environment: str, runs: int = 3, timeout: float = 120.0,
                 keep_going: bool = False, report: str = "") -> Measurement | MeasureFailed:
    """Import ``modules`` ``runs`` times, each in a fresh interpreter started by ``run``,
    after Lambda's ``sys.path`` setup for ``paths`` (as the child sees them)."""
    arg = json.dumps({"paths": list(paths), "modules": list(modules), "keep_going": keep_going,
                      "report": report})
    samples: list[float] = []
    peak = 0
    data: dict[str, Any] = {}
    for _ in range(max(1, runs)):
        proc = run(["-I", "-S", "-B", "-c", IMPORT_TIMING_CODE, arg], timeout)
        got = measure_data(proc.stdout or "")
        if proc.returncode != 0 or got is None:
            return MeasureFailed(proc.returncode,
                                 tail((proc.stdout or "") + "\n" + (proc.stderr or ""), 15))
        data = got
        samples.append(float(got["init_s"]) * 1000.0)
        peak = max(peak, int(got["rss"]))
    extra = {k: v for k, v in data.items() if k not in ("init_s", "rss", "failed")}
    return Measurement(round(statistics.median(samples), 1), tuple(round(s, 1) for s in samples),
                       peak, environment, dict(data.get("failed") or {}), extra)
