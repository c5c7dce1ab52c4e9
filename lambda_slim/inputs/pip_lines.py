"""What reaches pip from a lock file or a pyproject, validated, and the one writer of the
requirements files lambda-slim generates for pip.

Every name must be a PEP 508 name, every version a PEP 440 version, every direct reference an
``https``/``http`` URL of a wheel (``.whl``) with a sha256 hash, every index an ``https``/``http``
URL; nothing may carry whitespace, a newline or a leading ``-`` (a pip option). Folders, sdists,
VCS and ``file:`` sources are refused: pip would build them by running their ``setup.py`` on
this machine. :func:`write_pip_file` re-checks every line it writes against the shapes below, so
a new input format that forgets to validate cannot hand pip a line of an attacker's choosing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from ..artifact.atomic import atomic_write_text
from ..errors import InputError

#: PEP 508 names (packaging.python.org/en/latest/specifications/name-normalization/).
_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
#: Longest name or version accepted; far beyond any real one, short of a filesystem's limit.
MAX_TEXT = 200
_SOURCE_HINT = ("Publish a wheel of {name} to an index (or give the https URL of its .whl with "
                "a sha256 hash) and run `{tool}`. lambda-slim never runs a project's build "
                "(setup.py) on this machine: it installs wheels only.")


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def valid_name(value: object, where: str) -> str:
    """``value`` as a PEP 508 project name, else InputError naming ``where``."""
    if not isinstance(value, str) or len(value) > MAX_TEXT or not _NAME.match(value):
        raise InputError(
            f"{where}: {_shown(value)} is not a valid package name (PEP 508: letters, digits, "
            "'.', '-', '_'; no spaces, newlines or options).",
            hint="Regenerate the file with the tool that wrote it, or fix the name by hand.")
    return value


def valid_version(value: object, where: str, name: str) -> str:
    """``value`` as a PEP 440 version (an exact pin), else InputError."""
    ok = isinstance(value, str) and 0 < len(value) <= MAX_TEXT and value.strip() == value \
        and not any(c.isspace() for c in value)
    if ok:
        try:
            Version(str(value))
        except InvalidVersion:
            ok = False
    if not ok:
        raise InputError(
            f"{where}: {name} has version {_shown(value)}, which is not a PEP 440 version "
            "(an exact pin like 1.17.0).",
            hint="Regenerate the lock with the tool that wrote it; a hand-edited version must be "
            "a plain version number.")
    return str(value)


def _clean(value: str) -> bool:
    return bool(value) and len(value) <= 4096 and not any(c.isspace() or ord(c) < 32 or ord(c) == 127
                                                          for c in value)


def refuse_source(where: str, name: str, kind: str, detail: object = None,
                  tool: str = "uv lock") -> InputError:
    """The error for a folder, sdist, VCS, ``file:`` or other non-wheel source."""
    shown = f" ({_shown(detail)})" if detail is not None else ""
    return InputError(
        f"{where}: {name} is locked from a {kind} source{shown}, not a wheel from an index; "
        "pip would build it by running its setup.py on this machine, so it is refused before "
        "pip runs.", hint=_SOURCE_HINT.format(name=name, tool=tool))


def wheel_url(value: object, where: str, name: str, tool: str = "uv lock") -> str:
    """``value`` as the ``https``/``http`` URL of a wheel of ``name``; anything else (a folder,
    an sdist, VCS, ``file:``) is refused."""
    if not isinstance(value, str) or not _clean(value):
        raise InputError(f"{where}: {name} has URL {_shown(value)}, which is not a plain URL "
                         "(no spaces or newlines).", hint=_SOURCE_HINT.format(name=name, tool=tool))
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    if scheme.startswith(("git+", "hg+", "svn+", "bzr+")) or scheme in ("git", "hg", "svn"):
        raise refuse_source(where, name, "VCS", value, tool)
    if scheme == "file" or not scheme:
        raise refuse_source(where, name, "local file (file:)", value, tool)
    if scheme not in ("https", "http") or not parts.netloc:
        raise refuse_source(where, name, f"{scheme}: URL", value, tool)
    filename = unquote(parts.path.rsplit("/", 1)[-1])
    if not filename.endswith(".whl"):
        raise refuse_source(where, name, "source archive (sdist)" if filename.endswith(
            (".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar")) else "non-wheel URL", value, tool)
    try:
        dist = parse_wheel_filename(filename)[0]
    except InvalidWheelFilename as exc:
        raise InputError(f"{where}: {name}'s URL names {filename!r}, not a valid wheel file "
                         f"({exc}).") from None
    if canonicalize_name(dist) != canonicalize_name(name):
        raise InputError(f"{where}: {name}'s URL is a wheel of {dist}, not of {name}.",
                         hint="Regenerate the lock; a name and its wheel must agree.")
    return value


def index_url(value: object, where: str) -> str:
    """``value`` as an ``https``/``http`` package index URL."""
    parts = urlsplit(value) if isinstance(value, str) and _clean(value) else None
    if parts is None or parts.scheme.lower() not in ("https", "http") or not parts.netloc:
        raise InputError(f"{where}: index {_shown(value)} is not an https/http URL.",
                         hint="Regenerate the lock; an index is a URL like https://pypi.org/simple.")
    return value.rstrip("/") if isinstance(value, str) else ""


def url_hash(url: str) -> str | None:
    """The ``#sha256=HEX`` fragment of a direct URL, if it has one."""
    frag = urlsplit(url).fragment
    m = re.fullmatch(r"sha256=([0-9a-fA-F]{64})", frag)
    return m.group(1).lower() if m else None


def project_requirement(req: Requirement, where: str) -> Requirement:
    """A pyproject requirement that is safe to hand pip: a valid name, and a direct URL only to
    an https wheel with a ``#sha256=`` hash (never a folder, sdist, VCS or ``file:``)."""
    valid_name(req.name, where)
    if req.url is not None:
        wheel_url(req.url, where, req.name)
        if url_hash(req.url) is None:
            raise InputError(
                f"{where}: {req.name} @ {req.url} has no #sha256= hash; a wheel URL from a "
                "pyproject is only installed with its hash.",
                hint=f"Append #sha256=<the wheel's sha256> to the URL, or depend on {req.name} "
                "from an index.")
    return req


@dataclass(frozen=True)
class PipPin:
    """``name==version`` or ``name @ url``, with sha256 hashes (may be empty)."""

    name: str
    version: str
    hashes: tuple[str, ...] = ()
    url: str | None = None


@dataclass(frozen=True)
class PipRequirement:
    """A PEP 508 requirement (markers already judged and removed) for pip to resolve."""

    requirement: Requirement


PipEntry = PipPin | PipRequirement

_SHAPES = (
    re.compile(r"# lambda-slim: [a-zA-Z0-9 .,:()_-]*"),
    re.compile(r"--index-url https?://[^\s\\]+"),
    re.compile(r"    --hash=sha256:[0-9a-f]{64}( \\)?"),
    re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*==[^\s\\;@]+( \\)?"),
    # a wheel URL always carries a hash: in its fragment, or on the --hash lines that follow
    re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]* @ https?://[^\s\\#]+\.whl"
               r"(#sha256=[0-9a-fA-F]{64}( \\)?| \\)"),
)


def _pin_lines(pin: PipPin) -> list[str]:
    valid_name(pin.name, "pip requirement")
    if pin.url is not None:
        head = f"{pin.name} @ {wheel_url(pin.url, 'pip requirement', pin.name)}"
    else:
        head = f"{pin.name}=={valid_version(pin.version, 'pip requirement', pin.name)}"
    hashes = [f"    --hash=sha256:{h}" for h in pin.hashes if _HEX64.match(h)]
    if len(hashes) != len(pin.hashes):
        raise InputError(f"pip requirement: {pin.name} has a hash that is not sha256 hex.")
    lines = [head, *hashes]
    return [line + " \\" for line in lines[:-1]] + [lines[-1]]


def _requirement_line(req: Requirement) -> str:
    project_requirement(req, "pip requirement")
    if req.marker is not None:
        raise InputError(f"pip requirement: {req} still has a marker; markers are judged for the "
                         "target before pip runs.")
    return str(req)


def render(kind: str, entries: Sequence[PipEntry], index: str | None = None) -> str:
    """The requirements text for ``entries`` (one index for all of them, or pip's default)."""
    lines = [f"# lambda-slim: {len(entries)} entries from a {kind}"]
    if index is not None:
        lines.append(f"--index-url {index_url(index, 'pip requirement')}")
    for entry in entries:
        if isinstance(entry, PipPin):
            lines += _pin_lines(entry)
        else:
            line = _requirement_line(entry.requirement)
            try:  # a requirement string that does not read back as itself is not ours
                same = str(Requirement(line)) == line
            except InvalidRequirement:
                same = False
            if not same:
                raise InputError(f"pip requirement {line!r} does not read back as itself.")
            lines.append(line)
    check_lines(lines)
    return "".join(line + "\n" for line in lines)


def check_lines(lines: Sequence[str]) -> None:
    """Refuse any physical line that is not one of the shapes this module builds."""
    for line in lines:
        ours = "\n" not in line and "\r" not in line and any(s.fullmatch(line) for s in _SHAPES)
        if not ours and not _is_requirement(line):
            raise InputError(
                f"Refusing to hand pip the line {_shown(line)}: lambda-slim did not build it "
                "from a validated name, version, wheel URL or index.",
                hint="This is a bug in an input reader; please report it with the input file.")


def _is_requirement(line: str) -> bool:
    if "\n" in line or "\r" in line or line.startswith("-") or line.startswith("#"):
        return False
    try:
        req = Requirement(line)
    except InvalidRequirement:
        return False
    if req.url is not None:
        try:
            project_requirement(req, "pip requirement")
        except InputError:
            return False
    return str(req) == line and req.marker is None


def write_pip_file(path: Path, text: str) -> None:
    """Write a requirements file built by :func:`render`, checked line by line once more."""
    check_lines(text.splitlines())
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text)
