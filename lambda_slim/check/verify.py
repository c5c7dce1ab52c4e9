"""``check --verify``: the build's import check on the zips themselves, in the Lambda-like sandbox.

The zips are extracted (through the safe reader) as Lambda does: layers in order under
``opt/`` (later ones overwriting earlier ones), the function under ``task/``. Then every
distribution's own import (:func:`~lambda_slim.verify.verdict.own_imports`: ``PIL`` for pillow)
runs in a fresh interpreter placed by the build's one factory
(:func:`~lambda_slim.target.placement.place`), on the build's ``sys.path``
(:func:`~lambda_slim.verify.diagnose.lambda_paths`) with the build's stand-in
``/var/runtime`` (:func:`~lambda_slim.resolve.var_runtime.var_runtime`: the runtime's SDK at
its floor, or ``--runtime-sdk``), as Lambda runs it: code that imports boto3 without shipping
it gets the runtime's, and a shipped boto3 meets the runtime's botocore unless the zips ship
one. The run reports the files the imports mapped (``/proc/self/maps``). What that shows is
judged by the build's verdict functions: an import failing for a missing library is refused
(exit 4), naming the native files behind it when the closure audit knows them (they are the
ones the import loads); the other files the audit flagged are judged optional by this run. An
import failing for another reason is a warning (check judges native loadability; ``lambda-slim
build`` verifies the rest). A distribution
requiring an SDK version the runtime's does not satisfy, where only the runtime provides
that SDK package, is a warning naming the pin, as the build's ``runtime-provided`` rule judges
it (the build then keeps the SDK in the layer).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..artifact.zipread import ZipLimits, extract_listing, read_zip_listing
from ..errors import LambdaSlimError
from ..native.closure import ClosureResult, Miss
from ..resolve.var_runtime import var_runtime
from ..rules.runtime_provided import needs_newer
from ..target.placement import Placement, RunSettings, place
from ..target.proc import Runner
from ..target.proc import run as default_runner
from ..target.python import Interpreter
from ..target.runtimes import Target
from ..target.sdk import RuntimeSdk, runtime_sdk
from ..target.syslibs import SystemLibraries
from ..tree.inventory import Dist, read_inventory
from ..verify.causes import MISSING_LIBRARY, Cause, classify
from ..verify.diagnose import lambda_paths
from ..verify.probes import check_imports
from ..verify.verdict import broken_layer, own_imports, same_library
from .closure import MISSING, Loads
from .model import Finding

IMPORT_FAILED = "verify-import-failed"
NOT_VERIFIED = "not-verified"
SDK_OLDER = "runtime-sdk-older"


@dataclass(frozen=True)
class Verified:
    """What ``check --verify`` found: the runs that show what loads, and its findings."""

    loads: tuple[Loads, ...]
    findings: tuple[Finding, ...]


def _place_tree(paths: Sequence[tuple[Path, str]], work: Path,
                limits: ZipLimits | None) -> tuple[Path, Path | None]:
    """Extract (or copy) each PATH where Lambda puts it: ``work/opt`` for layers (its
    ``python/`` is the layer folder), ``work/task`` for the function. Returns the layer folder
    and the function folder."""
    opt, task = work / "opt", None
    (opt / "python").mkdir(parents=True)
    for p, kind in paths:
        dest = opt if kind == "layer" else work / "task"
        if kind != "layer":
            task = dest
        if p.is_dir():
            shutil.copytree(p, dest / "python" if p.name == "python" and kind == "layer"
                            else dest, dirs_exist_ok=True, symlinks=True)
        else:
            extract_listing(read_zip_listing(p, limits), dest)
    return opt / "python", task


def _dists(folders: Sequence[Path]) -> list[Dist]:
    """Every distribution installed in ``folders``."""
    return [d for folder in folders if folder.is_dir()
            for d in read_inventory(folder).dists.values()]


def _own_imports(dists: Sequence[Dist]) -> list[str]:
    """Every distribution's own import names (sorted, once each)."""
    return sorted({m for d in dists for m in own_imports(d.display_name, d.top_level)})


def _sdk_findings(dists: Sequence[Dist], sdk: RuntimeSdk, target: Target) -> list[Finding]:
    """Requirements on boto3/botocore that only the runtime serves (the zips do not ship
    that package) and that its SDK does not satisfy: the build's rule would keep the SDK."""
    served = {"boto3", "botocore"} - {d.name for d in dists}
    return [Finding(
        "warning", SDK_OLDER,
        f"{why} ({sdk.describe()}: {sdk.source}). On Lambda the zip's code runs against the "
        "runtime's copy, as it did here: ship that package in the layer too (`lambda-slim "
        "build` keeps the SDK then), or pass --runtime-sdk botocore==X with the version your "
        "function prints") for why in needs_newer(dists, sdk, target.marker_environment(),
                                                   served)]


def _behind(module: str, cause: Cause, misses: Sequence[Miss]) -> list[Miss]:
    """The closure audit's misses that explain ``module`` failing for a missing library: those
    for that library under the module's own folder, else anywhere."""
    named = [m for m in misses if same_library(m.soname, {cause.detail})]
    top = module.split(".", 1)[0]
    own = [m for m in named if f"/{top}/" in m.file]
    return own or named


def _on_lambda(path: str, seen: Mapping[str, str]) -> str:
    """A loaded file as the child saw it -> its path on Lambda (a host run sees host paths)."""
    for inside, mount in seen.items():
        if path.startswith(inside + "/"):
            return mount + path[len(inside):]
    return path


def _judge(failed: Mapping[str, str], loaded: Sequence[str], closure: ClosureResult,
           syslibs: SystemLibraries, environment: str) -> Verified:
    where = "the Lambda-like sandbox" if environment.startswith("sandbox") else "this host"
    by = f"importing the distributions' own packages in {where} (check --verify)"
    tops = frozenset(m.split(".", 1)[0] for m in failed)
    loads = [Loads(frozenset(loaded), by, failed=tops)]
    findings: list[Finding] = []
    unexplained: list[tuple[str, Cause]] = []
    for module, err in sorted(failed.items()):
        cause = classify(err)
        if cause.kind != MISSING_LIBRARY:
            findings.append(Finding(
                "warning", IMPORT_FAILED,
                f"`import {module}` fails in {where}: {cause.describe()}. check --verify judges "
                "native libraries only; `lambda-slim build` verifies the rest (a module another "
                "layer provides is found only when that layer is checked too)"))
            continue
        behind = _behind(module, cause, closure.misses)
        if behind:
            loads.append(Loads(frozenset(m.file for m in behind),
                               f"`import {module}` in {where} (check --verify)", failed=tops))
        else:
            unexplained.append((module, cause))
    if unexplained:
        refused = broken_layer(unexplained, environment, ())
        findings.append(Finding("error", MISSING,
                                f"{refused.message}\n    {refused.hint or ''}".rstrip()))
    return Verified(tuple(loads), tuple(findings))


class Verifier(Protocol):
    """What ``check_paths`` calls for ``--verify`` (:class:`ImportCheck`; tests pass fakes)."""

    def __call__(self, paths: Sequence[tuple[Path, str]], target: Target,
                 closure: ClosureResult, syslibs: SystemLibraries) -> Verified: ...


@dataclass(frozen=True)
class ImportCheck:
    """``check --verify``, bound to where it runs (made at the CLI edge)."""

    env: Mapping[str, str]
    #: ``--require-verify``: no sandbox (or no interpreter) is fatal, exit 6
    require: bool = False
    system_libs: tuple[str, ...] = ()
    cache_dir: Path | None = None
    python: str | None = None
    runner: Runner = default_runner
    limits: ZipLimits | None = None
    timeout: float = 900
    #: ``--runtime-sdk``: the SDK the user's function printed (default: the runtime's floor)
    runtime_sdk: str | None = None

    def _runtime_dir(self, target: Target, placement: Placement,
                     sdk: RuntimeSdk) -> tuple[Path | None, list[Finding]]:
        """The build's stand-in /var/runtime for ``target`` (made once, cached), or None
        and a warning saying the imports ran without the runtime's SDK."""
        why = "no cache folder to keep it in"
        if self.cache_dir is not None:
            pip = placement.native or Interpreter(Path(sys.executable), sys.version_info[:2])
            try:
                return var_runtime(target, sdk, pip, self.cache_dir, self.runner,
                                   self.env), []
            except LambdaSlimError as exc:
                why = exc.message
        return None, [Finding(
            "warning", NOT_VERIFIED,
            f"check --verify could not make the stand-in /var/runtime (awslambdaric and "
            f"{sdk.describe()}): {why}. The imports ran without the runtime's SDK, so code "
            "that imports boto3 without shipping it fails here but not on Lambda")]

    def __call__(self, paths: Sequence[tuple[Path, str]], target: Target,
                 closure: ClosureResult, syslibs: SystemLibraries) -> Verified:
        """Import every distribution's own packages from ``paths`` (PATH, kind) for
        ``target`` and judge what that shows. Raises ToolMissingError (exit 6) when
        ``require`` cannot be honoured; otherwise a run that cannot happen here is a warning
        saying so."""
        settings = RunSettings(target, python=self.python, system_libs=self.system_libs,
                               require=self.require, cache_dir=self.cache_dir)
        placement = place(settings, self.env, self.runner)
        notes = [Finding("warning", NOT_VERIFIED, n) for n in placement.notes]
        tp = placement.runnable
        if tp is None:
            return Verified((), (*notes, Finding(
                "warning", NOT_VERIFIED, "check --verify: nothing was imported (see above); "
                "missing libraries are judged from the zips alone")))
        base = self.cache_dir
        if base is not None:
            base.mkdir(parents=True, exist_ok=True)
        sdk = runtime_sdk(target.runtime.name, self.runtime_sdk)
        stand_in, missing = self._runtime_dir(target, placement, sdk)
        notes += missing
        with tempfile.TemporaryDirectory(prefix="check-verify-", dir=base) as tmp:
            layer, task = _place_tree(paths, Path(tmp), self.limits)
            python = target.runtime.python
            site = layer / "lib" / f"python{python[0]}.{python[1]}" / "site-packages"
            dists = _dists([f for f in (task, site, layer) if f is not None])
            modules = _own_imports(dists)
            notes += _sdk_findings(dists, sdk, target)
            run_paths = lambda_paths(layer, [*([task] if task is not None else []),
                                             *([site] if site.is_dir() else [])], stand_in)
            res = check_imports(tp, run_paths, modules, timeout=self.timeout, cold=modules)
            mounts = {layer: "/opt/python", task: "/var/task", stand_in: "/var/runtime"}
            seen = {tp.inside(p, layer=layer, paths=run_paths[1:]).rstrip("/"): mount
                    for p, mount in mounts.items() if p is not None}
            loaded = [_on_lambda(f, seen) for f in res.loaded]
        got = _judge(res.failed, loaded, closure, syslibs, tp.isolation.name)
        return Verified(got.loads, (*notes, *got.findings))


__all__ = ["IMPORT_FAILED", "NOT_VERIFIED", "SDK_OLDER", "ImportCheck", "Verified", "Verifier"]
