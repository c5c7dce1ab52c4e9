"""Lambda runtimes and architectures, and the interpreters that stand in for them.

A :class:`Target` knows everything the installer and the native audit need: the Python
version, the glibc of the runtime's OS, the ELF machine, and the manylinux platform tags the
runtime accepts (pip treats each ``--platform`` as one literal tag, so all are listed).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError


@dataclass(frozen=True)
class Runtime:
    name: str
    python: tuple[int, int]
    os: str
    glibc: tuple[int, int]

    @property
    def python_str(self) -> str:
        return f"{self.python[0]}.{self.python[1]}"


_AL2_GLIBC = (2, 26)
_AL2023_GLIBC = (2, 34)

RUNTIMES: dict[str, Runtime] = {
    "python3.10": Runtime("python3.10", (3, 10), "Amazon Linux 2", _AL2_GLIBC),
    "python3.11": Runtime("python3.11", (3, 11), "Amazon Linux 2", _AL2_GLIBC),
    "python3.12": Runtime("python3.12", (3, 12), "Amazon Linux 2023", _AL2023_GLIBC),
    "python3.13": Runtime("python3.13", (3, 13), "Amazon Linux 2023", _AL2023_GLIBC),
    "python3.14": Runtime("python3.14", (3, 14), "Amazon Linux 2023", _AL2023_GLIBC),
}

#: Lambda architecture name -> ELF/wheel machine name.
ARCHES: dict[str, str] = {"x86_64": "x86_64", "arm64": "aarch64"}

#: Packages the Lambda Python runtimes ship; bundling them only as dependencies wastes space.
RUNTIME_PROVIDED: frozenset[str] = frozenset({"boto3", "botocore", "s3transfer", "jmespath"})

DEFAULT_BUDGET = 262_144_000
DIRECT_UPLOAD_LIMIT = 52_428_800
MAX_LAYERS = 5


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


@dataclass(frozen=True)
class Interpreter:
    path: Path
    version: tuple[int, int]


def _probe(path: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run(
            [path, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    try:
        a, b = out.stdout.strip().split(".")
        return int(a), int(b)
    except ValueError:
        return None


def _pyenv_root(env: Mapping[str, str]) -> Path | None:
    if env.get("PYENV_ROOT"):
        return Path(env["PYENV_ROOT"])
    exe = shutil.which("pyenv", path=env.get("PATH"))
    if exe:
        try:
            out = subprocess.run([exe, "root"], capture_output=True, text=True, timeout=30)
            if out.returncode == 0 and out.stdout.strip():
                return Path(out.stdout.strip())
        except (OSError, subprocess.SubprocessError):
            pass
    home = env.get("HOME")
    if home and (Path(home) / ".pyenv").is_dir():
        return Path(home) / ".pyenv"
    return None


def interpreter_candidates(version: tuple[int, int], env: Mapping[str, str]) -> list[str]:
    """Where an interpreter of ``version`` may live, in the order they are tried.

    ``LAMBDA_SLIM_PYTHON_3_12`` (an explicit path) first, then ``python3.12`` on PATH, then
    pyenv's versions, then uv's managed Pythons.
    """
    v = f"{version[0]}.{version[1]}"
    found: list[str] = []
    explicit = env.get(f"LAMBDA_SLIM_PYTHON_{version[0]}_{version[1]}")
    if explicit:
        found.append(explicit)
    on_path = shutil.which(f"python{v}", path=env.get("PATH"))
    if on_path:
        found.append(on_path)
    root = _pyenv_root(env)
    if root is not None:
        versions = root / "versions"
        if versions.is_dir():
            for d in sorted(versions.iterdir(), reverse=True):
                if d.name == v or d.name.startswith(v + "."):
                    exe = d / "bin" / f"python{v}"
                    if exe.exists():
                        found.append(str(exe))
    home = env.get("HOME")
    if home:
        uv_dir = Path(home) / ".local" / "share" / "uv" / "python"
        if uv_dir.is_dir():
            for d in sorted(uv_dir.glob(f"cpython-{v}.*"), reverse=True):
                exe = d / "bin" / f"python{v}"
                if exe.exists():
                    found.append(str(exe))
    return list(dict.fromkeys(found))


def find_interpreter(
    version: tuple[int, int], env: Mapping[str, str], explicit: str | None = None
) -> Interpreter | None:
    """The first working interpreter of exactly ``version``, or None."""
    candidates = [explicit] if explicit else interpreter_candidates(version, env)
    for cand in candidates:
        got = _probe(cand)
        if got == version:
            return Interpreter(Path(cand), got)
        if explicit:
            raise InputError(
                f"The interpreter {explicit!r} is "
                + (f"Python {got[0]}.{got[1]}" if got else "not runnable")
                + f", but the target needs Python {version[0]}.{version[1]}.",
                hint="Pass an interpreter of the target's version with --python, or drop it.",
            )
    return None


def env_snapshot() -> dict[str, str]:
    """The environment, read once at the edge and passed down."""
    return dict(os.environ)
