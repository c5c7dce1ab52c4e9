"""A fake target interpreter: a :class:`Runner` that answers the core's child runs in
microseconds, so verdict, differential diagnosis and planning logic can be tested without
starting a Python.

It models what the real probes observe: a module imports when every file it reads exists in
the layer the run sees (``needs``), or raises a fixed error whatever the tree holds
(``broken``: it would fail before pruning too); a smoke script passes when the files it
reads exist. The init-time run answers with a fixed measurement. Every run is recorded.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lambda_slim.target.measure import MARK as MEASURE_MARK
from lambda_slim.target.python import Interpreter, TargetPython

IMPORT_MARK = "@@LAMBDA_SLIM@@"  # lambda_slim.verify.probes' payload marker


@dataclass
class FakeTarget:
    """Stands in for ``python -I -S -B -c CODE ARG`` runs of the probes in ``verify/``."""

    needs: Mapping[str, Sequence[str]]  # module (or "smoke:NAME") -> files it reads
    broken: Mapping[str, str] = field(default_factory=dict)  # module -> error, always
    submodules: Mapping[str, Sequence[str]] = field(default_factory=dict)  # imported by a deep check
    calls: list[str] = field(default_factory=list)  # "imports" | "smoke" | "measure" | ...

    def _fails(self, item: str, layer: Path) -> str:
        if item in self.broken:
            return self.broken[item]
        missing = [f for f in self.needs.get(item, ()) if not (layer / f).exists()]
        if missing:
            return (f"Traceback (most recent call last):\nModuleNotFoundError: No module named "
                    f"'{missing[0].removesuffix('.py').replace('/', '.')}'")
        return ""

    def __call__(self, cmd: Sequence[str], *, cwd: Path | None = None,
                 env: Mapping[str, str] | None = None,
                 timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        code = cmd[cmd.index("-c") + 1]
        arg = cmd[cmd.index("-c") + 2] if len(cmd) > cmd.index("-c") + 2 else ""

        def done(rc: int, out: str, err: str = "") -> subprocess.CompletedProcess[str]:
            return subprocess.CompletedProcess(list(cmd), rc, out, err)

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
