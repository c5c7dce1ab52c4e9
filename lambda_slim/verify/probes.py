"""Running the pruned tree in a fresh interpreter of the target's Python version.

The child sees only the given path entries and the standard library (``-I -S``: no
site-packages, no user site, no PYTHON* variables, no ``.pth`` processing — like Lambda,
which puts ``/opt/python`` on ``PYTHONPATH``) and never writes bytecode, because ``/opt`` is
read-only on Lambda.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..target.proc import Runner, tail
from ..target.python import Interpreter

_IMPORT_CHECK = r"""
import sys, json, importlib, traceback, pkgutil, warnings
warnings.simplefilter("ignore")
args = json.loads(sys.argv[1])
sys.path[:0] = args["paths"]
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
for mod in args["modules"]:
    m = attempt(mod)
    if m is None or not args["deep"] or "." in mod:
        continue
    for info in pkgutil.iter_modules(getattr(m, "__path__", None) or [], mod + "."):
        last = info.name.rsplit(".", 1)[-1]
        if not last.startswith("_") and last not in SKIP:
            attempt(info.name)
print("\n@@LAMBDA_SLIM@@" + json.dumps(res))
"""

_SMOKE = r"""
import sys, runpy, json
args = json.loads(sys.argv[1])
sys.path[:0] = args["paths"]
sys.argv = [args["script"]]
runpy.run_path(args["script"], run_name="__main__")
"""

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


@dataclass(frozen=True)
class CheckResult:
    failed: dict[str, str]
    passed: tuple[str, ...]
    smoke: tuple[SmokeResult, ...] = ()
    crash: str | None = None

    @property
    def ok(self) -> bool:
        return not self.failed and self.crash is None and all(s.ok for s in self.smoke)


@dataclass
class VerifyReport:
    status: str  # "passed" | "failed" | "skipped" | "repaired"
    interpreter: str | None
    modules_checked: int = 0
    warnings: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    culprits: list[dict[str, str]] = field(default_factory=list)
    smoke: list[dict[str, object]] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "status": self.status,
            "interpreter": self.interpreter,
            "modules_checked": self.modules_checked,
            "warnings": self.warnings,
            "failures": self.failures,
            "culprits": self.culprits,
            "smoke": self.smoke,
        }


def child_env(env: Mapping[str, str]) -> dict[str, str]:
    out = {k: v for k, v in env.items() if not k.startswith("PYTHON")}
    out["PYTHONDONTWRITEBYTECODE"] = "1"
    out.setdefault("LANG", "C.UTF-8")
    return out


def _payload(out: str) -> dict[str, str | None] | None:
    idx = out.rfind(_MARK)
    if idx < 0:
        return None
    try:
        data = json.loads(out[idx + len(_MARK):].strip().splitlines()[0])
    except (ValueError, IndexError):
        return None
    return data if isinstance(data, dict) else None


def check_imports(
    interp: Interpreter,
    paths: Sequence[Path],
    modules: Sequence[str],
    env: Mapping[str, str],
    runner: Runner,
    timeout: float = 900,
    deep: bool = False,
) -> CheckResult:
    """Import every module in one fresh process; isolate per module if that process dies.

    With ``deep``, each top-level package's public submodules are imported too (scipy's
    ``__init__`` alone loads almost nothing).
    """
    if not modules:
        return CheckResult({}, ())
    arg = json.dumps({"paths": [str(p) for p in paths], "modules": list(modules), "deep": deep})
    proc = runner([str(interp.path), "-I", "-S", "-B", "-c", _IMPORT_CHECK, arg],
                  env=child_env(env), timeout=timeout, cwd=Path(paths[0]))
    data = _payload(proc.stdout or "")
    if data is None:
        if len(modules) == 1:
            why = tail((proc.stdout or "") + (proc.stderr or ""), 15)
            return CheckResult({modules[0]: f"interpreter died (exit {proc.returncode}): {why}"},
                               ())
        failed: dict[str, str] = {}
        passed: list[str] = []
        for m in modules:
            one = check_imports(interp, paths, [m], env, runner, timeout, deep)
            failed.update(one.failed)
            passed.extend(one.passed)
        return CheckResult(failed, tuple(passed))
    failed = {m: err for m, err in data.items() if err}
    return CheckResult(failed, tuple(m for m, err in data.items() if not err))


def run_smoke(
    interp: Interpreter,
    paths: Sequence[Path],
    script: Path,
    env: Mapping[str, str],
    runner: Runner,
    timeout: float = 900,
) -> SmokeResult:
    script = script.resolve()
    arg = json.dumps({"paths": [str(p) for p in [*paths, script.parent]], "script": str(script)})
    proc = runner([str(interp.path), "-I", "-S", "-B", "-c", _SMOKE, arg],
                  env=child_env(env), timeout=timeout, cwd=script.parent)
    output = tail((proc.stdout or "") + "\n" + (proc.stderr or ""), 30)
    return SmokeResult(str(script), proc.returncode == 0, output)


def check_loadable(
    interp: Interpreter, files: Sequence[Path], env: Mapping[str, str], runner: Runner
) -> dict[str, str | None]:
    """dlopen each file in the target interpreter; path -> error (None when it loads)."""
    if not files:
        return {}
    proc = runner([str(interp.path), "-I", "-S", "-B", "-c", _LOAD_CHECK,
                   json.dumps([str(f) for f in files])], env=child_env(env), timeout=600)
    data = _payload(proc.stdout or "")
    if data is None:
        if len(files) == 1:
            return {str(files[0]): f"loading crashed the interpreter (exit {proc.returncode})"}
        out: dict[str, str | None] = {}
        for f in files:
            out.update(check_loadable(interp, [f], env, runner))
        return out
    return data


_MISSING_MOD = re.compile(r"No module named '([^']+)'")
_MISSING_FILE = re.compile(r"(?:No such file or directory|cannot open shared object file)[^'\"]*"
                           r"['\"]?([^'\"\s]+)")
_PATHLIKE = re.compile(r"['\"]([^'\"]+)['\"]")


def mentioned_paths(error: str, root: Path) -> set[str]:
    """Relative paths an error message points at: missing modules and missing files."""
    out: set[str] = set()
    for m in _MISSING_MOD.finditer(error):
        base = m.group(1).replace(".", "/")
        out.update({base + ".py", base + "/__init__.py", base})
    root_s = str(root) + os.sep
    for m in _PATHLIKE.finditer(error):
        p = m.group(1)
        if p.startswith(root_s):
            out.add(p[len(root_s):])
    for m in _MISSING_FILE.finditer(error):
        out.add(m.group(1).rsplit("/", 1)[-1])
    return out
