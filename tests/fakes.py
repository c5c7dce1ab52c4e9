"""A fake target interpreter: a :class:`Runner` that answers the core's child runs in
microseconds, so the build job, verdict, differential diagnosis and planning logic can be
tested without starting a Python or pip.

It models what the real probes observe: a module imports when every file it reads exists in
the layer the run sees (``needs``), or raises a fixed error whatever the tree holds
(``broken``: it would fail before pruning too); a smoke script passes when the files it
reads exist. The init-time run answers with a fixed measurement; the version probe with
``version``; ``pip download`` copies the wheels a requirements file names from ``index``
(pip's own error for a name it lacks). Every run is recorded.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

from lambda_slim.target.measure import MARK as MEASURE_MARK
from lambda_slim.target.python import _VERSION_PROBE, Interpreter, TargetPython

IMPORT_MARK = "@@LAMBDA_SLIM@@"  # lambda_slim.verify.probes' payload marker


@dataclass
class FakeTarget:
    """Stands in for ``python -I -S -B -c CODE ARG`` runs of the probes in ``verify/``."""

    needs: Mapping[str, Sequence[str]]  # module (or "smoke:NAME") -> files it reads
    broken: Mapping[str, str] = field(default_factory=dict)  # module -> error, always
    submodules: Mapping[str, Sequence[str]] = field(default_factory=dict)  # imported by a deep check
    index: Mapping[str, Path] = field(default_factory=dict)  # canonical name -> wheel file
    version: tuple[int, int] = (3, 12)
    calls: list[str] = field(default_factory=list)  # "imports" | "smoke" | "measure" | ...

    def _fails(self, item: str, layer: Path) -> str:
        if item in self.broken:
            return self.broken[item]
        missing = [f for f in self.needs.get(item, ()) if not (layer / f).exists()]
        if missing:
            return (f"Traceback (most recent call last):\nModuleNotFoundError: No module named "
                    f"'{missing[0].removesuffix('.py').removesuffix('/__init__').replace('/', '.')}'")
        return ""

    def _download(self, cmd: Sequence[str], cwd: Path | None) -> tuple[int, str]:
        dest = Path(cmd[cmd.index("-d") + 1])
        req = Path(cwd or ".", cmd[cmd.index("-r") + 1])
        for line in req.read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if not line or line.startswith("-"):
                continue
            name = canonicalize_name(re.split(r"[=<>!~;\[ @]", line, maxsplit=1)[0])
            if name not in self.index:
                return 1, (f"ERROR: Could not find a version that satisfies the requirement {line} "
                           f"(from versions: none)\nERROR: No matching distribution found for {name}")
            shutil.copy(self.index[name], dest)
        return 0, ""

    def __call__(self, cmd: Sequence[str], *, cwd: Path | None = None,
                 env: Mapping[str, str] | None = None,
                 timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        def done(rc: int, out: str, err: str = "") -> subprocess.CompletedProcess[str]:
            return subprocess.CompletedProcess(list(cmd), rc, out, err)

        if "download" in cmd and "-d" in cmd:
            self.calls.append("pip download")
            rc, err = self._download(cmd, cwd)
            return done(rc, "", err)
        code = cmd[cmd.index("-c") + 1]
        arg = cmd[cmd.index("-c") + 2] if len(cmd) > cmd.index("-c") + 2 else ""
        if code == _VERSION_PROBE:
            self.calls.append("version")
            return done(0, f"{self.version[0]}.{self.version[1]}\n")
        if MEASURE_MARK in code:
            self.calls.append("measure")
            return done(0, "\n" + MEASURE_MARK + json.dumps({"init_s": 0.05, "rss": 40 << 20}) + "\n")
        data = json.loads(arg)
        layer = Path(data["paths"][0])
        if "modules" in data:
            self.calls.append("imports")
            mods = list(data["modules"])
            if data.get("deep"):
                mods += [s for m in data["modules"] for s in self.submodules.get(m, ())]
            res = {m: self._fails(m, layer) for m in mods}
            return done(0, "\n" + IMPORT_MARK + json.dumps(res) + "\n")
        if "script" in data:
            self.calls.append("smoke")
            err = self._fails("smoke:" + Path(data["script"]).name, layer)
            return done(1 if err else 0, "", err)
        raise AssertionError(f"the fake target does not know this run: {code[:80]!r}")

    def python(self, version: tuple[int, int] = (3, 12)) -> TargetPython:
        """A TargetPython on the host isolation (paths as they are) running through this fake."""
        return TargetPython(Interpreter(Path(f"/fake/python{version[0]}.{version[1]}"), version),
                            {}, self)
