"""The typed result of ``check``: findings, per-path sizes, the verdict, its JSON."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..errors import EXIT_NATIVE, EXIT_OK, EXIT_OVER_BUDGET
from ..sizes import DEFAULT_BUDGET
from ..target.runtimes import Target

SCHEMA = "lambda-slim/check/1"
#: Share of the budget from which a warning is raised before the gate actually fails.
NEAR_BUDGET = 0.9
#: Larger native files are not inflated for inspection (they are over budget on their own).
MAX_NATIVE_READ = DEFAULT_BUDGET
TOP_PACKAGES = 10
_SITE_PACKAGES = re.compile(r"^python/lib/python3\.\d+/site-packages/")


def top_level_package(name: str, kind: str) -> str:
    """The importable top-level name a file belongs to (``python/numpy/x.py`` -> ``numpy``)."""
    rest = name
    if kind == "layer":
        m = _SITE_PACKAGES.match(name)
        if m:
            rest = name[m.end():]
        elif name.startswith("python/"):
            rest = name[len("python/"):]
        else:
            return name.split("/", 1)[0] + "/ (outside python/)"
    first, sep, _ = rest.partition("/")
    return first if sep else (first.split(".", 1)[0] or first)


@dataclass(frozen=True)
class Finding:
    level: str  # "error" | "warning"
    code: str
    message: str
    path: str | None = None

    def to_json(self) -> dict[str, object]:
        return {"level": self.level, "code": self.code, "message": self.message,
                "path": self.path}


@dataclass(frozen=True)
class PackageSize:
    name: str
    unzipped: int
    files: int


@dataclass(frozen=True)
class PathReport:
    path: str
    kind: str  # "layer" | "function"
    source: str  # "zip" | "directory"
    unzipped: int
    zipped: int | None
    files: int
    packages: tuple[PackageSize, ...]
    findings: tuple[Finding, ...]

    def share(self, budget: int) -> float:
        return self.unzipped / budget

    def to_json(self, budget: int) -> dict[str, object]:
        return {
            "path": self.path, "kind": self.kind, "source": self.source,
            "unzipped_bytes": self.unzipped, "zipped_bytes": self.zipped, "files": self.files,
            "budget_share": round(self.share(budget), 6),
            "packages": [{"name": p.name, "unzipped_bytes": p.unzipped, "files": p.files}
                         for p in self.packages],
            "verdict": verdict_of(self.findings),
        }


@dataclass(frozen=True)
class CheckReport:
    paths: tuple[PathReport, ...]
    budget: int
    target: Target
    target_source: str
    findings: tuple[Finding, ...] = field(default=())
    #: ``--strict``: every native file needing a library Lambda lacks is an error
    strict: bool = False

    @property
    def unzipped(self) -> int:
        return sum(p.unzipped for p in self.paths)

    @property
    def zipped(self) -> int | None:
        sizes = [p.zipped for p in self.paths]
        return None if any(s is None for s in sizes) else sum(s or 0 for s in sizes)

    @property
    def files(self) -> int:
        return sum(p.files for p in self.paths)

    @property
    def share(self) -> float:
        return self.unzipped / self.budget

    @property
    def all_findings(self) -> tuple[Finding, ...]:
        return self.findings + tuple(f for p in self.paths for f in p.findings)

    @property
    def exit_code(self) -> int:
        codes = {f.code for f in self.all_findings if f.level == "error"}
        if codes & {"over-budget", "too-many-layers"}:
            return EXIT_OVER_BUDGET
        if any(c.startswith("native-") for c in codes):
            return EXIT_NATIVE
        return EXIT_OK

    @property
    def verdict(self) -> str:
        return {EXIT_OK: "pass", EXIT_OVER_BUDGET: "over budget",
                EXIT_NATIVE: "native files cannot run"}[self.exit_code]

    def to_json(self) -> dict[str, object]:
        return {
            "schema": SCHEMA,
            "budget_bytes": self.budget,
            "target": self.target.to_json(),
            "target_source": self.target_source,
            "strict": self.strict,
            "paths": [p.to_json(self.budget) for p in self.paths],
            "total": {"unzipped_bytes": self.unzipped, "zipped_bytes": self.zipped,
                      "files": self.files, "budget_share": round(self.share, 6)},
            "findings": [f.to_json() for f in self.all_findings],
            "verdict": self.verdict,
            "exit_code": self.exit_code,
        }


def verdict_of(findings: Iterable[Finding]) -> str:
    levels = {f.level for f in findings}
    return "fail" if "error" in levels else "warn" if "warning" in levels else "ok"
