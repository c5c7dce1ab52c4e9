"""Reading requirements files: validate every line up front, with file and line number.

pip gets the file itself (so index options, hashes and includes keep working); this module
makes sure it is readable and well-formed first, and learns which project names the user
asked for (the ``runtime-provided`` rule never removes those).
"""

from __future__ import annotations

import hashlib
import shlex
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from ..errors import InputError

#: Options pip accepts in a requirements file; their arguments are not requirements.
_OPTS_WITH_ARG = {
    "-r", "--requirement", "-c", "--constraint", "-i", "--index-url", "--extra-index-url",
    "-f", "--find-links", "--trusted-host", "--use-feature", "--only-binary", "--no-binary",
    "--config-settings", "--global-option", "--hash",
}
_OPTS_FLAG = {"--pre", "--prefer-binary", "--no-index", "--require-hashes"}


@dataclass(frozen=True)
class Requirements:
    path: Path  # the file the user gave (requirements.txt, uv.lock, pyproject.toml, ...)
    requested: frozenset[str]
    lines: tuple[str, ...]
    digest: str  # sha256 over this file and every file it includes
    #: The requirements file pip reads when ``path`` is not one (a lock's pins with hashes).
    pip_file: Path | None = None
    #: Exact pins from a lock: pip installs them with ``--no-deps`` and resolves nothing.
    no_deps: bool = False
    kind: str = "requirements.txt"
    notes: tuple[str, ...] = ()

    @property
    def pip_path(self) -> Path:
        return self.pip_file or self.path


def _read(path: Path, origin: str | None) -> str:
    where = f" (included from {origin})" if origin else ""
    if not path.exists():
        raise InputError(
            f"Requirements file {path}{where} does not exist.",
            hint="Pass the path of your requirements.txt, e.g. `lambda-slim build "
            "path/to/requirements.txt` (the default is ./requirements.txt).",
        )
    if path.is_dir():
        raise InputError(
            f"{path}{where} is a directory, not a requirements file.",
            hint="Pass the requirements.txt inside it.",
        )
    try:
        return path.read_text(encoding="utf-8")
    except PermissionError:
        raise InputError(
            f"Requirements file {path}{where} is not readable (permission denied).",
            hint=f"Check its permissions: chmod u+r {path}",
        ) from None
    except UnicodeDecodeError as exc:
        raise InputError(
            f"Requirements file {path}{where} is not UTF-8 text ({exc.reason} at byte {exc.start}).",
            hint="Save it as UTF-8.",
        ) from None


def _logical_lines(text: str) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    buf = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not buf:
            start = number
        line = raw
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        out.append((start, buf))
        buf = ""
    if buf:
        out.append((start, buf))
    return out


def _strip_comment(line: str) -> str:
    for i, ch in enumerate(line):
        if ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].strip()
    return line.strip()


def read_requirements(path: Path) -> Requirements:
    """Validate ``path`` (and its ``-r``/``-c`` includes); raise InputError on the first bad line."""
    requested: set[str] = set()
    lines: list[str] = []
    sha = hashlib.sha256()
    seen: set[Path] = set()

    def visit(p: Path, origin: str | None, constraints: bool) -> None:
        real = p.resolve()
        if real in seen:
            return
        seen.add(real)
        text = _read(p, origin)
        sha.update(str(p.name).encode() + b"\0" + text.encode() + b"\0")
        for number, logical in _logical_lines(text):
            line = _strip_comment(logical)
            if not line:
                continue
            where = f"{p}:{number}"
            if line.startswith("-"):
                try:
                    parts = shlex.split(line)
                except ValueError as exc:
                    raise InputError(f"{where}: cannot parse {line!r} ({exc}).") from None
                opt, _, val = parts[0].partition("=")
                if opt in ("-e", "--editable"):
                    raise InputError(
                        f"{where}: editable requirement {line!r} cannot go into a layer.",
                        hint="Build a wheel of it (pip wheel .) and list the wheel or a "
                        "released version instead.",
                    )
                if opt not in _OPTS_WITH_ARG and opt not in _OPTS_FLAG:
                    raise InputError(
                        f"{where}: unknown option {opt!r} in {line!r}.",
                        hint="Requirement files may hold requirements, -r/-c includes and "
                        "pip index options (--index-url, --extra-index-url, --find-links, --pre).",
                    )
                arg = val or (parts[1] if len(parts) > 1 else "")
                if opt in _OPTS_WITH_ARG and not arg:
                    raise InputError(f"{where}: option {opt} needs a value.")
                if opt in ("-r", "--requirement", "-c", "--constraint"):
                    inc = (p.parent / arg) if not Path(arg).is_absolute() else Path(arg)
                    visit(inc, where, constraints or opt in ("-c", "--constraint"))
                continue
            spec = line.split(" --hash", 1)[0].strip()
            try:
                req = Requirement(spec)
            except InvalidRequirement as exc:
                raise InputError(
                    f"{where}: malformed requirement {spec!r}: {exc}",
                    hint="Use PEP 508 syntax, e.g. `pandas==2.2.3` or `xgboost-cpu>=3,<4`.",
                ) from None
            if not constraints:
                requested.add(canonicalize_name(req.name))
                lines.append(spec)

    visit(path, None, False)
    return Requirements(path, frozenset(requested), tuple(lines), sha.hexdigest())
