"""Lambda runtimes and architectures.

A :class:`Target` knows everything the installer and the native audit need: the Python
version, the glibc of the runtime's OS, the ELF machine, and the manylinux platform tags the
runtime accepts (pip treats each ``--platform`` as one literal tag, so all are listed).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date

from ..errors import InputError

#: Where the lifecycle dates come from (read December 2026; LAMBDA_FACTS: "Runtimes").
LIFECYCLE_SOURCE = ("AWS Lambda docs, \"Building Lambda functions with Python\", supported "
                    "runtimes table: docs.aws.amazon.com/lambda/latest/dg/lambda-python.html")


@dataclass(frozen=True)
class Lifecycle:
    """A runtime's deprecation dates: after ``deprecated`` AWS no longer patches it; from
    ``block_create``/``block_update`` functions on it can no longer be created/updated
    (None: not recorded here yet)."""

    deprecated: date
    block_create: date | None = None
    block_update: date | None = None
    source: str = LIFECYCLE_SOURCE


@dataclass(frozen=True)
class Runtime:
    name: str
    python: tuple[int, int]
    os: str
    glibc: tuple[int, int]
    lifecycle: Lifecycle | None = None

    @property
    def python_str(self) -> str:
        return f"{self.python[0]}.{self.python[1]}"


_AL2_GLIBC = (2, 26)
_AL2023_GLIBC = (2, 34)

RUNTIMES: dict[str, Runtime] = {
    "python3.10": Runtime("python3.10", (3, 10), "Amazon Linux 2", _AL2_GLIBC,
                          Lifecycle(date(2026, 10, 31), date(2026, 11, 30), date(2027, 1, 15))),
    "python3.11": Runtime("python3.11", (3, 11), "Amazon Linux 2", _AL2_GLIBC,
                          Lifecycle(date(2027, 6, 30), date(2027, 7, 31), date(2027, 8, 31))),
    "python3.12": Runtime("python3.12", (3, 12), "Amazon Linux 2023", _AL2023_GLIBC,
                          Lifecycle(date(2028, 10, 31))),
    "python3.13": Runtime("python3.13", (3, 13), "Amazon Linux 2023", _AL2023_GLIBC,
                          Lifecycle(date(2029, 6, 30))),
    "python3.14": Runtime("python3.14", (3, 14), "Amazon Linux 2023", _AL2023_GLIBC,
                          Lifecycle(date(2029, 6, 30))),
}


def successor(runtime: Runtime, today: date) -> Runtime | None:
    """The runtime to move to: of those not deprecated on ``today``, the one supported
    longest, the oldest Python among equals (the smallest step)."""
    live = [r for r in RUNTIMES.values() if r.lifecycle is None or r.lifecycle.deprecated > today]
    live = [r for r in live if r.python > runtime.python]
    if not live:
        return None
    far = date.max
    return min(live, key=lambda r: (-(r.lifecycle.deprecated if r.lifecycle else far).toordinal(),
                                    r.python))


def lifecycle_warning(runtime: Runtime, today: date) -> str | None:
    """One sentence when ``runtime`` is deprecated on ``today`` (None otherwise): since when,
    whether creating/updating functions is blocked, and which runtime to move to."""
    life = runtime.lifecycle
    if life is None or today < life.deprecated:
        return None
    text = f"{runtime.name} is deprecated since {life.deprecated.isoformat()}"
    blocks = [(what, when) for what, when in (("creating", life.block_create),
                                              ("updating", life.block_update)) if when]
    for what, when in blocks:
        verb = "is blocked since" if today >= when else "will be blocked from"
        text += f"; {what} functions on it {verb} {when.isoformat()}"
    nxt = successor(runtime, today)
    if nxt is not None:
        until = (f", supported until {nxt.lifecycle.deprecated.isoformat()}"
                 if nxt.lifecycle else "")
        text += f". Move to {nxt.name} ({nxt.os}{until}): --runtime {nxt.name}"
    return text + f" (source: {life.source})."

#: Lambda architecture name -> ELF/wheel machine name.
ARCHES: dict[str, str] = {"x86_64": "x86_64", "arm64": "aarch64"}

#: Packages the Lambda Python runtimes ship; bundling them only as dependencies wastes space.
RUNTIME_PROVIDED: frozenset[str] = frozenset({"boto3", "botocore", "s3transfer", "jmespath"})

#: The target when none is given (flags, pyproject, environment): Lambda's current default.
DEFAULT_RUNTIME = "python3.12"
DEFAULT_ARCH = "x86_64"


@dataclass(frozen=True)
class Target:
    runtime: Runtime
    arch: str

    @property
    def machine(self) -> str:
        return ARCHES[self.arch]

    @property
    def python_tag(self) -> str:
        return f"cp{self.runtime.python[0]}{self.runtime.python[1]}"

    @property
    def glibc(self) -> tuple[int, int]:
        return self.runtime.glibc

    def platform_tags(self) -> list[str]:
        """Every manylinux tag the target's glibc accepts, most specific first."""
        major, minor = self.runtime.glibc
        lowest = 17 if self.machine == "aarch64" else 5
        tags: list[str] = []
        for m in range(minor, lowest - 1, -1):
            tags.append(f"manylinux_{major}_{m}_{self.machine}")
            legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}.get(m)
            if legacy and (m == 17 or self.machine == "x86_64"):
                tags.append(f"{legacy}_{self.machine}")
        return tags

    def marker_environment(self) -> dict[str, str]:
        """The PEP 508 marker environment of the Lambda runtime: every variable, the one
        definition pip's bootstrap, the lock readers, variants, over-budget options and ``why``
        all judge markers with (none may fall back to the build machine's values).

        Values Lambda leaves unknowable are fixed so that every build machine judges alike:

        - ``python_full_version`` / ``implementation_version``: ``X.Y.0``. AWS names the
          runtime by minor version only and moves the patch release with runtime updates
          ("Lambda runtimes", AWS docs); ``X.Y.0`` is what pip's own ``--python-version X.Y``
          judges ``Requires-Python`` with (pip's ``TargetPython`` pads the version with zeros)
          and what uv assumes for ``--python-version X.Y`` ("the minimum patch version").
        - ``platform_release`` / ``platform_version`` (the kernel's ``uname -r`` / ``-v``):
          empty. Lambda documents no kernel, and the build machine's kernel would make the
          same lock judge differently on a laptop and in CI. An empty string is falsy for a
          marker asking for a particular kernel, as for an unknown one.
        """
        full = f"{self.runtime.python[0]}.{self.runtime.python[1]}.0"
        return {
            "implementation_name": "cpython",
            "implementation_version": full,
            "os_name": "posix",
            "platform_machine": self.machine,
            "platform_python_implementation": "CPython",
            "platform_release": "",
            "platform_system": "Linux",
            "platform_version": "",
            "python_full_version": full,
            "python_version": self.runtime.python_str,
            "sys_platform": "linux",
        }

    def describe(self) -> str:
        g = ".".join(map(str, self.glibc))
        return f"{self.runtime.name} {self.arch} ({self.runtime.os}, glibc {g})"

    def to_json(self) -> dict[str, object]:
        return {
            "runtime": self.runtime.name,
            "arch": self.arch,
            "python": self.runtime.python_str,
            "glibc": ".".join(map(str, self.glibc)),
            "os": self.runtime.os,
        }


def host_machine() -> str:
    """This machine's ELF machine name (``uname -m``, with Apple/Windows spellings mapped)."""
    m = os.uname().machine
    return {"arm64": "aarch64", "amd64": "x86_64", "AMD64": "x86_64"}.get(m, m)


def parse_target(runtime: str, arch: str) -> Target:
    rt = RUNTIMES.get(runtime)
    if rt is None:
        raise InputError(
            f"Unknown runtime {runtime!r}.",
            hint=f"Use one of: {', '.join(RUNTIMES)} (for example --runtime python3.12).",
        )
    if arch not in ARCHES:
        alias = {"amd64": "x86_64", "aarch64": "arm64", "x86-64": "x86_64"}.get(arch)
        extra = f" Did you mean {alias!r}?" if alias else ""
        raise InputError(
            f"Unknown architecture {arch!r}.{extra}",
            hint=f"Use one of: {', '.join(ARCHES)} (Lambda's names).",
        )
    return Target(rt, arch)


def python_target(python: tuple[int, int], machine: str) -> Target:
    """The target of CPython ``python`` on ELF ``machine``, also for a Python Lambda does not
    run (a lock file's ``requires-python`` is checked against the version asked for): such a
    runtime has no OS or glibc, only its markers."""
    name = f"python{python[0]}.{python[1]}"
    runtime = RUNTIMES.get(name) or Runtime(name, python, "not a Lambda runtime", (0, 0))
    return Target(runtime, {m: a for a, m in ARCHES.items()}[machine])
