"""Reading requirements files: validate every line up front, with file and line number.

pip gets the file itself (so index options, hashes and includes keep working); this module
makes sure it is readable and well-formed first, and learns which project names the user
asked for (the ``runtime-provided`` rule never removes those).
"""

from __future__ import annotations

import hashlib
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

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
    #: ``--hash=sha256:…`` pins per canonical project name: a wheel used for that project must
    #: have one of these digests, every time it is taken from the cache.
    pins: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: Every file read: this one and its -r/-c includes.
    files: tuple[Path, ...] = ()
    #: The requirements files pip runs on, one run each (a lock's pins grouped by index and by
    #: whether they carry hashes); empty: ``pip_path`` alone.
    pip_files: tuple[Path, ...] = ()
    #: Locked pins installed without a hash check (the lock gives none, or md5 only).
    unverified: tuple[str, ...] = ()

    @property
    def pip_path(self) -> Path:
        return self.pip_file or self.path


_HASH = re.compile(r"--hash[= ]sha256:([0-9a-fA-F]{64})")
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_SOURCE_HINT = ("Build a wheel first (pip wheel --no-deps -w dist/ PATH) and list the wheel "
                "file (./dist/NAME-VERSION-….whl), or a released version. lambda-slim never "
                "runs a project's build (setup.py) on this machine: it installs wheels only.")


def _local_path(ref: str, base: Path) -> Path | None:
    """The local file a requirement points at (``./x``, ``/x``, ``file://…``), else None."""
    if ref.startswith("file:"):
        return Path(unquote(urlsplit(ref).path))
    if _URL.match(ref):
        return None
    if ref.startswith((".", "/", "~")) or "/" in ref or ref.endswith(".whl"):
        p = Path(ref).expanduser()
        return p if p.is_absolute() else base / p
    return None


def _direct_reference(ref: str, where: str, base: Path) -> str:
    """Project name of a wheel given by path or URL; refuse anything that pip would build."""
    local = _local_path(ref, base)
    if local is not None and local.is_dir():
        raise InputError(f"{where}: {ref!r} is a source folder; pip would build it by running "
                         "its setup.py here, and a layer can only hold wheels.",
                         hint=_SOURCE_HINT)
    name = urlsplit(ref).path.rsplit("/", 1)[-1] if local is None else local.name
    if not name.endswith(".whl"):
        raise InputError(f"{where}: {ref!r} is not a wheel (.whl); pip would build it from "
                         "source on this machine.", hint=_SOURCE_HINT)
    try:
        return str(parse_wheel_filename(unquote(name))[0])
    except InvalidWheelFilename as exc:
        raise InputError(f"{where}: {ref!r} is not a valid wheel file name ({exc}).") from None


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
    """Validate ``path`` (and its ``-r``/``-c`` includes); raise InputError on the first bad line.

    Refused before pip ever runs: include loops, source folders and archives (pip would run
    their build here), and a file that lists no package at all (an empty layer).
    """
    requested: set[str] = set()
    lines: list[str] = []
    pins: dict[str, set[str]] = {}
    sha = hashlib.sha256()
    seen: set[Path] = set()
    base = path.resolve().parent  # pip runs there, so bare relative paths are relative to it

    def visit(p: Path, origin: str | None, constraints: bool, stack: tuple[Path, ...]) -> None:
        real = p.resolve()
        if real in stack:
            chain = " -> ".join(str(s.name) for s in (*stack, real))
            raise InputError(f"{origin}: include loop ({chain}): pip would recurse forever.",
                             hint=f"Remove the -r/-c line at {origin}.")
        if real in seen:
            return  # included twice along different paths: harmless, read once
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
                    visit(inc, where, constraints or opt in ("-c", "--constraint"),
                          (*stack, real))
                continue
            spec = line.split(" --", 1)[0].strip()
            try:
                req = Requirement(spec)
                name = canonicalize_name(req.name)
                if req.url:
                    _direct_reference(req.url, where, base)
            except InvalidRequirement as exc:
                if _URL.match(spec) or _local_path(spec, base) is not None:
                    name = canonicalize_name(_direct_reference(spec, where, base))
                else:
                    raise InputError(
                        f"{where}: malformed requirement {spec!r}: {exc}",
                        hint="Use PEP 508 syntax, e.g. `pandas==2.2.3` or `xgboost-cpu>=3,<4`.",
                    ) from None
            digests = {h.lower() for h in _HASH.findall(line)}
            if digests:
                pins.setdefault(name, set()).update(digests)
            if not constraints:
                requested.add(name)
                lines.append(spec)

    visit(path, None, False, ())
    if not requested:
        raise InputError(
            f"{path} lists no packages (only comments, options or constraints): the layer "
            "would be an empty layer.",
            hint="Add the packages your function imports, one per line (e.g. `pandas==2.2.3`).",
        )
    return Requirements(path, frozenset(requested), tuple(lines), sha.hexdigest(),
                        pins={k: frozenset(v) for k, v in pins.items()},
                        files=tuple(sorted(seen)))
