"""Running the pruned tree in a fresh interpreter of the target's Python version.

Every run goes through :class:`~lambda_slim.target.python.TargetPython` (so a sandbox or an
emulator can wrap it); the layer is passed as ``layer`` and other folders as ``paths``, and
the scripts receive paths as the child sees them. The child sees only the given path
entries and the standard library (``-I -S``: no site-packages, no user site, no PYTHON*
variables), set up as Lambda's bootstrap.py does (:mod:`lambda_slim.target.bootstrap`: each
entry a site dir, so its ``.pth`` files run), and never writes bytecode, because ``/opt`` is
read-only on Lambda.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..target.bootstrap import BOOTSTRAP_CODE
from ..target.measure import PEAK_RSS_CODE
from ..target.proc import tail
from ..target.python import TargetPython

#: The source files of every module loaded so far, and every file the process has mapped
#: (``/proc/self/maps``: shared libraries loaded by the loader or ctypes too; QEMU's user
#: mode shows the guest's), printed after :data:`LOADED_MARK` (``--compile=imported`` ships
#: bytecode for the modules; the closure verdict judges the native files). Mapped paths are
#: real paths, given back under the ``sys.path`` entry they are below.
LOADED_MARK = "@@LAMBDA_SLIM_LOADED@@"
_LOADED_CODE = r"""
def _lambda_slim_loaded():
    import sys, json, os
    files = {f for m in list(sys.modules.values())
             for f in [getattr(m, "__file__", None)] if isinstance(f, str)}
    roots = [(os.path.realpath(p) + "/", p.rstrip("/") + "/") for p in args["paths"]]
    try:
        with open("/proc/self/maps") as fh:
            for line in fh:
                parts = line.split(None, 5)
                path = parts[5].strip() if len(parts) == 6 else ""
                for real, given in roots:
                    if path.startswith(real):
                        files.add(given + path[len(real):])
    except OSError:
        pass
    print("\n" + MARK + json.dumps(sorted(files)), flush=True)
""".replace("MARK", repr(LOADED_MARK))

_IMPORT_CHECK = _LOADED_CODE + BOOTSTRAP_CODE + r"""
import sys, json, importlib, traceback, pkgutil, warnings
warnings.simplefilter("ignore")
args = json.loads(sys.argv[1])
_lambda_slim_bootstrap(args["paths"])
SKIP = {"tests", "test", "testing", "conftest", "setup", "__main__"}
res = {}
def attempt(mod):
    try:
        m = importlib.import_module(mod)
        res[mod] = None
        return m
    except BaseException as exc:
        tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
        res[mod] = "".join(tb[-6:]).strip()
        return None
wanted = set(args["modules"])
for mod in args.get("cold") or ():  # what a cold start imports, first, in a fresh process
    if mod in wanted:
        attempt(mod)
    else:
        try:
            importlib.import_module(mod)
        except BaseException:
            pass
if args.get("cold") is not None:
    LOADED_PRINT
for mod in args["modules"]:
    m = attempt(mod)
    if m is None or not args["deep"] or "." in mod:
        continue
    for info in pkgutil.iter_modules(getattr(m, "__path__", None) or [], mod + "."):
        last = info.name.rsplit(".", 1)[-1]
        if not last.startswith("_") and last not in SKIP:
            attempt(info.name)
print("\n@@LAMBDA_SLIM@@" + json.dumps(res))
""".replace("LOADED_PRINT", "_lambda_slim_loaded()")

_RSS_MARK = "@@LAMBDA_SLIM_RSS@@"
_SMOKE = PEAK_RSS_CODE + _LOADED_CODE + BOOTSTRAP_CODE + r"""
import sys, runpy, json, atexit
args = json.loads(sys.argv[1])
_lambda_slim_bootstrap(args["paths"])
sys.argv = [args["script"]]
atexit.register(lambda: print("\nRSS_MARK%d" % _lambda_slim_peak_rss(), flush=True))
atexit.register(_lambda_slim_loaded)
runpy.run_path(args["script"], run_name="__main__")
""".replace("RSS_MARK", _RSS_MARK)
_RSS_LINE = re.compile(re.escape(_RSS_MARK) + r"(\d+)")
_LOADED_LINE = re.compile(re.escape(LOADED_MARK) + r"(.*)")

_LOAD_CHECK = r"""
import sys, json, ctypes
res = {}
for p in json.loads(sys.argv[1]):
    try:
        ctypes.CDLL(p, mode=ctypes.RTLD_LOCAL)
        res[p] = None
    except OSError as exc:
        res[p] = str(exc)
print("\n@@LAMBDA_SLIM@@" + json.dumps(res))
"""

_MARK = "@@LAMBDA_SLIM@@"


@dataclass(frozen=True)
class SmokeResult:
    script: str
    ok: bool
    output: str
    max_rss_bytes: int | None = None
    #: source files of the modules loaded when the script ended (as the child saw them)
    loaded: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckResult:
    failed: dict[str, str]
    passed: tuple[str, ...]
    #: with ``cold``: source files of the modules those imports loaded (as the child saw them)
    loaded: tuple[str, ...] = ()


@dataclass(frozen=True)
class Culprit:
    """A removal that broke an import or a smoke script."""

    rule: str
    path: str
    needed_by: str


@dataclass(frozen=True)
class SmokeOutcome:
    script: str
    ok: bool


@dataclass(frozen=True)
class OptionalFailure:
    """A part of the layer that will not import (or load) on Lambda, as it would not there
    with nothing pruned either, and that no requested import, smoke script or handler uses."""

    item: str  # a module ("PIL.ImageTk") or a native file ("/opt/python/numba/…/omppool….so")
    reason: str


@dataclass
class VerifyReport:
    status: str  # "passed" | "failed" | "skipped" | "repaired"
    interpreter: str | None
    modules_checked: int = 0
    warnings: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    culprits: list[Culprit] = field(default_factory=list)
    smoke: list[SmokeOutcome] = field(default_factory=list)
    #: How the probes were isolated (the :class:`Isolation`'s name): "host", "sandbox", ...
    environment: str = "host"
    #: Median wall time of a fresh interpreter importing the requested packages (ms).
    init_ms: float | None = None
    #: Peak resident memory of the import runs and smoke scripts (bytes).
    max_rss_bytes: int | None = None
    #: Warnings, not errors (``--strict`` makes them errors): see :class:`OptionalFailure`.
    optional_failures: list[OptionalFailure] = field(default_factory=list)
    #: The layer's native files (relative to its python/ folder) that the requested imports,
    #: smoke scripts and handler loaded; None when the run did not report them. The build
    #: manifest carries them, so ``check`` judges the closure as this build did.
    loaded_natives: list[str] | None = None


def payload(out: str) -> dict[str, Any] | None:
    """The JSON object a probe script printed after the marker, or None if it died first."""
    idx = out.rfind(_MARK)
    if idx < 0:
        return None
    try:
        data = json.loads(out[idx + len(_MARK):].strip().splitlines()[0])
    except (ValueError, IndexError):
        return None
    return data if isinstance(data, dict) else None


def split_loaded(out: str) -> tuple[str, tuple[str, ...]]:
    """(``out`` without the loaded-files lines, the files the last such line lists)."""
    files: tuple[str, ...] = ()
    for m in _LOADED_LINE.finditer(out):
        try:
            got = json.loads(m.group(1))
        except ValueError:
            continue
        if isinstance(got, list):
            files = tuple(str(f) for f in got)
    return _LOADED_LINE.sub("", out), files


def check_imports(
    tp: TargetPython,
    paths: Sequence[Path],
    modules: Sequence[str],
    timeout: float = 900,
    deep: bool = False,
    cold: Sequence[str] | None = None,
) -> CheckResult:
    """Import every module in one fresh process; isolate per module if that process dies.

    ``paths[0]`` is the layer's ``python/`` folder, the rest extra folders (such as what the
    runtime provides). With ``deep``, each top-level package's public submodules are imported
    too (scipy's ``__init__`` alone loads almost nothing). With ``cold``, those modules are
    imported first (a failure only counts for the ones in ``modules``) and the files they
    loaded are reported: what a cold start reads.
    """
    if not modules:
        return CheckResult({}, ())
    layer, extra = paths[0], tuple(paths[1:])
    arg = json.dumps({"paths": [tp.inside(p, layer=layer, paths=extra) for p in paths],
                      "modules": list(modules), "deep": deep,
                      "cold": list(cold) if cold is not None else None})
    proc = tp.run(["-I", "-S", "-B", "-c", _IMPORT_CHECK, arg], layer=layer, paths=extra,
                  cwd=layer, timeout=timeout)
    stdout, loaded = split_loaded(proc.stdout or "")
    data = payload(stdout)
    if data is None:
        if len(modules) == 1:
            why = tail(stdout + (proc.stderr or ""), 15)
            return CheckResult({modules[0]: f"interpreter died (exit {proc.returncode}): {why}"},
                               ())
        failed: dict[str, str] = {}
        passed: list[str] = []
        for m in modules:
            one = check_imports(tp, paths, [m], timeout, deep)
            failed.update(one.failed)
            passed.extend(one.passed)
        return CheckResult(failed, tuple(passed), loaded)
    failed = {m: err for m, err in data.items() if err}
    return CheckResult(failed, tuple(m for m, err in data.items() if not err), loaded)


def run_smoke(tp: TargetPython, paths: Sequence[Path], script: Path,
              timeout: float = 900) -> SmokeResult:
    """Run ``script`` as ``__main__`` with the layer (``paths[0]``), the other ``paths`` and
    the script's own folder importable."""
    script = script.resolve()
    layer, extra = paths[0], (script.parent, *paths[1:])  # the script's folder: /var/task
    arg = json.dumps({
        "paths": [tp.inside(p, layer=layer, paths=extra) for p in [layer, *extra]],
        "script": tp.inside(script, layer=layer, paths=extra),
    })
    proc = tp.run(["-I", "-S", "-B", "-c", _SMOKE, arg], layer=layer, paths=extra,
                  cwd=script.parent, timeout=timeout)
    stdout, loaded = split_loaded(proc.stdout or "")
    rss = [int(m.group(1)) for m in _RSS_LINE.finditer(stdout)]
    stdout = _RSS_LINE.sub("", stdout)
    output = tail(stdout + "\n" + (proc.stderr or ""), 30)
    return SmokeResult(str(script), proc.returncode == 0, output, max(rss) if rss else None,
                       loaded)


def check_loadable(tp: TargetPython, files: Sequence[Path], *,
                   layer: Path | None = None) -> dict[str, str | None]:
    """dlopen each file (inside ``layer``) in the target; host path -> error (None: it loads)."""
    if not files:
        return {}
    seen = {tp.inside(f, layer=layer): str(f) for f in files}
    proc = tp.run(["-I", "-S", "-B", "-c", _LOAD_CHECK, json.dumps(list(seen))], layer=layer,
                  timeout=600)
    data = payload(proc.stdout or "")
    if data is None:
        if len(files) == 1:
            return {str(files[0]): f"loading crashed the interpreter (exit {proc.returncode})"}
        out: dict[str, str | None] = {}
        for f in files:
            out.update(check_loadable(tp, [f], layer=layer))
        return out
    return {seen.get(p, p): err for p, err in data.items()}


_MISSING_MOD = re.compile(r"No module named '([^']+)'")
_MISSING_FILE = re.compile(r"(?:No such file or directory|cannot open shared object file)[^'\"]*"
                           r"['\"]?([^'\"\s]+)")
_PATHLIKE = re.compile(r"['\"]([^'\"]+)['\"]")


def mentioned_paths(error: str, root: str) -> set[str]:
    """Relative paths an error message points at: missing modules and missing files
    (``root`` is the layer folder as the child saw it)."""
    out: set[str] = set()
    for m in _MISSING_MOD.finditer(error):
        base = m.group(1).replace(".", "/")
        out.update({base + ".py", base + "/__init__.py", base})
    root_s = root.rstrip(os.sep) + os.sep
    for m in _PATHLIKE.finditer(error):
        p = m.group(1)
        if p.startswith(root_s):
            out.add(p[len(root_s):])
    for m in _MISSING_FILE.finditer(error):
        out.add(m.group(1).rsplit("/", 1)[-1])
    return out
