"""Drop-in variants for a CPU-only, display-less runtime: rewrite requirements before pip runs.

Lambda has no GPU and no display. Several projects publish a second distribution of the same
import package without the GPU or GUI payload (``xgboost-cpu``: no NCCL and a 22 MB instead of
an 87 MB library; ``opencv-python-headless``: no Qt/X11). This module holds a researched table
of such pairs (each row with where it was checked), rewrites the user's requirement lines to
the variant (keeping the specifier, extras and marker), and, after pip has resolved, finds a
distribution that still depends on the original name so the build can satisfy that requirement
with the variant instead of installing both (:func:`transitive_plan`).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..errors import InputError, ResolveError
from ..target.runtimes import Target
from .depgraph import DistMeta, dependency_graph, orphans_of

#: Wheel machine tags (``uname -m`` spelling) Lambda runs on.
ALL_MACHINES = frozenset({"x86_64", "aarch64"})


@dataclass(frozen=True)
class Variant:
    """One row of the table: ``original`` may be replaced by ``replacement`` on ``machines``."""

    original: str  # canonical project name
    replacement: str  # canonical project name
    machines: frozenset[str]
    reason: str
    source: str  # where the pair (and each machine's wheels) was checked
    builtin: bool = True


#: Checked in November 2026 against PyPI's JSON API (every release's file list), by reading the
#: wheels' RECORD (same top-level import package on both sides) and with
#: ``pip download --no-deps --platform manylinux_2_28_<machine>``. A pair is listed only for
#: the machines where the variant has Linux wheels; a pinned version the variant lacks makes
#: the build fall back to the original, announced (see ``Replacement.skipped``).
VARIANTS: tuple[Variant, ...] = (
    Variant(
        "xgboost", "xgboost-cpu", ALL_MACHINES,
        "CPU-only build: no NCCL dependency (nvidia-nccl-cu12/cu13, 200-430 MB) and no CUDA "
        "kernels in libxgboost.so (23 MB unpacked instead of 87 MB for 3.4.1)",
        "https://pypi.org/project/xgboost-cpu/ (manylinux_2_28 x86_64 and aarch64 wheels for "
        "every release since 2.1.1; import package `xgboost`); the project README's 'x86_64 "
        "only' note is older than its aarch64 wheels",
    ),
    Variant(
        "opencv-python", "opencv-python-headless", ALL_MACHINES,
        "no GUI (Qt/X11/GL) libraries, which Lambda's images lack; same cv2 module",
        "https://pypi.org/project/opencv-python-headless/ and opencv-python's README "
        "('headless ... suitable for server environments'); manylinux2014 and manylinux_2_28 "
        "wheels for x86_64 and aarch64; import package `cv2`",
    ),
    Variant(
        "opencv-contrib-python", "opencv-contrib-python-headless", ALL_MACHINES,
        "no GUI (Qt/X11/GL) libraries, which Lambda's images lack; same cv2 module",
        "https://pypi.org/project/opencv-contrib-python-headless/ (x86_64 and aarch64 "
        "wheels; import package `cv2`); some contrib releases (5.1.0.95) have no headless "
        "twin, so such a pin falls back to the original",
    ),
    Variant(
        "tensorflow", "tensorflow-cpu", frozenset({"x86_64"}),
        "CPU-only build without CUDA kernels (1.27 GB instead of 1.87 GB unpacked for 2.21.0)",
        "https://pypi.org/project/tensorflow-cpu/ (manylinux_2_27 x86_64 wheels only; "
        "import package `tensorflow`)",
    ),
    Variant(
        "onnxruntime-gpu", "onnxruntime", ALL_MACHINES,
        "the CPU build of ONNX Runtime (65 MB instead of 350 MB unpacked for 1.31.1); "
        "same onnxruntime module",
        "https://pypi.org/project/onnxruntime/ (x86_64 and aarch64 wheels, versions shared "
        "with onnxruntime-gpu; import package `onnxruntime`)",
    ),
)

_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")


@dataclass(frozen=True)
class Replacement:
    """What the build did (or declined to do) with one original distribution."""

    original: str
    variant: str
    reason: str
    source: str
    via: str  # "requested" (a requirement line) or "dependency of <name>"
    requirement: str = ""  # the line pip received, e.g. ``xgboost-cpu>=3``
    version: str | None = None  # filled in once resolved
    skipped: str | None = None  # why the original was kept instead

    def to_json(self) -> dict[str, str | None]:
        return {
            "original": self.original, "variant": self.variant, "version": self.version,
            "via": self.via, "requirement": self.requirement, "reason": self.reason,
            "source": self.source, "skipped": self.skipped,
        }


def replacement_from_json(d: Mapping[str, str | None]) -> Replacement:
    """A :class:`Replacement` back from :meth:`Replacement.to_json` (the resolution cache)."""
    return Replacement(
        str(d["original"]), str(d["variant"]), str(d.get("reason") or ""),
        str(d.get("source") or ""), str(d.get("via") or ""), str(d.get("requirement") or ""),
        d.get("version"), d.get("skipped"))


def variant_table(
    user: Sequence[str] = (), *, enabled: bool = True
) -> dict[str, Variant]:
    """The built-in table (unless ``enabled`` is False) plus ``--variant ORIG=REPLACEMENT``."""
    table = {v.original: v for v in VARIANTS} if enabled else {}
    for raw in user:
        orig, sep, repl = raw.partition("=")
        orig, repl = orig.strip(), repl.strip()
        if not sep or not _NAME.match(orig) or not _NAME.match(repl):
            raise InputError(
                f"--variant {raw!r} is not ORIGINAL=REPLACEMENT.",
                hint="Name two PyPI projects, e.g. --variant opencv-python=opencv-python-headless.",
            )
        o, r = canonicalize_name(orig), canonicalize_name(repl)
        if o == r:
            raise InputError(f"--variant {raw!r} replaces {orig} with itself.")
        table[o] = Variant(o, r, ALL_MACHINES, "requested with --variant", "--variant", False)
    return table


def rewrite_requirement(
    spec: str, table: Mapping[str, Variant], machine: str, *, hashed: bool = False
) -> tuple[str, Replacement | None]:
    """``xgboost[pandas]>=3; python_version>='3.10'`` -> the same line naming the variant."""
    try:
        req = Requirement(spec)
    except InvalidRequirement:
        return spec, None
    v = table.get(canonicalize_name(req.name))
    if v is None:
        return spec, None
    skipped = None
    if machine not in v.machines:
        skipped = f"{v.replacement} publishes no Linux {machine} wheels"
    elif req.url:
        skipped = f"the requirement is a direct reference ({req.url})"
    elif hashed:
        skipped = "the line is hash-pinned; the hashes name the original's files"
    if skipped:
        return spec, Replacement(v.original, v.replacement, v.reason, v.source, "requested",
                                 spec, skipped=skipped)
    req.name = v.replacement
    line = str(req)
    return line, Replacement(v.original, v.replacement, v.reason, v.source, "requested", line)


_INCLUDES = {"-r", "--requirement", "-c", "--constraint"}
_LOCAL_PATH_OPTS = {"-f", "--find-links"}


def rewrite_requirements(
    path: Path, table: Mapping[str, Variant], machine: str, dest: Path
) -> tuple[Path, list[Replacement]]:
    """Copy ``path`` (and every ``-r``/``-c`` file it includes) into ``dest`` with requirement
    lines naming an original rewritten to its variant; returns the new top file.

    Includes and local ``--find-links`` folders are made absolute so the copies resolve the
    same files; constraint files get the variant's constraint beside the original's (a
    constraint installs nothing, and a dependency may still ask for the original).
    """
    dest.mkdir(parents=True, exist_ok=True)
    reps: list[Replacement] = []
    done: dict[Path, Path] = {}

    def visit(src: Path, constraints: bool) -> Path:
        real = src.resolve()
        if real in done:
            return done[real]
        out = dest / f"{len(done)}-{src.name}"
        done[real] = out
        lines: list[str] = []
        for logical in _joined(real.read_text(encoding="utf-8")):
            lines.append(rewrite_line(logical, real.parent, constraints))
        out.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return out

    def rewrite_line(line: str, base: Path, constraints: bool) -> str:
        body = line.split(" #", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if not body:
            return line
        if body.startswith("-"):
            parts = shlex.split(body)
            opt, eq, val = parts[0].partition("=")
            arg = val if eq else (parts[1] if len(parts) > 1 else "")
            if opt in _INCLUDES and arg:
                inc = Path(arg) if Path(arg).is_absolute() else base / arg
                copy = visit(inc, constraints or opt in ("-c", "--constraint"))
                return f"{opt} {shlex.quote(str(copy))}"
            if opt in _LOCAL_PATH_OPTS and arg and "://" not in arg and (base / arg).exists():
                return f"{opt} {shlex.quote(str((base / arg).resolve()))}"
            return body
        spec, _sep, hashes = body.partition(" --hash")
        line_new, rep = rewrite_requirement(spec.strip(), table, machine, hashed=bool(hashes))
        if rep is None:
            return body
        if constraints:
            return body if rep.skipped else f"{body}\n{line_new}"
        reps.append(rep)
        return body if rep.skipped else line_new

    return visit(path, False), reps


def _joined(text: str) -> list[str]:
    out: list[str] = []
    buf = ""
    for raw in text.splitlines():
        if raw.endswith("\\"):
            buf += raw[:-1] + " "
            continue
        out.append(buf + raw)
        buf = ""
    if buf:
        out.append(buf)
    return out


# --- after resolution: a dependency on the original name ------------------------------------


@dataclass(frozen=True)
class TransitivePlan:
    """How to satisfy dependencies on originals that pip still resolved."""

    extra_requirements: tuple[str, ...]  # add these and resolve again (variant pins)
    drop: tuple[str, ...]  # originals (and what only they needed) to leave out of the layer
    replacements: tuple[Replacement, ...] = field(default_factory=tuple)
    #: the same variants with only the dependents' specifiers, for when a variant has no
    #: release of the original's exact version
    loose_requirements: tuple[str, ...] = field(default_factory=tuple)


def transitive_plan(
    dists: Sequence[DistMeta],
    roots: Sequence[str],
    table: Mapping[str, Variant],
    target: Target,
) -> TransitivePlan:
    """Plan for originals that are in the resolution only as someone else's dependency.

    For each such original the variant is pinned to the original's resolved version (the
    version every dependent's specifier already accepted); once both are resolved, the
    original and whatever only it required are dropped. A variant already in the set must
    satisfy every dependent's specifier on the original, else :class:`ResolveError`.
    """
    env = target.marker_environment()
    machine = target.machine
    names = {d.name: d for d in dists}
    _reach, rev = dependency_graph(dists, roots, env)
    extra: list[str] = []
    loose: list[str] = []
    drop: set[str] = set()
    reps: list[Replacement] = []
    for d in dists:
        v = table.get(d.name)
        if v is None or machine not in v.machines:
            continue
        dependents = rev.get(d.name, [])
        via = "dependency of " + ", ".join(sorted(w for w, _ in dependents)) if dependents \
            else "dependency"
        have = names.get(v.replacement)
        if have is None:
            extra.append(f"{v.replacement}=={d.version}")
            spec = SpecifierSet()
            for _who, req in dependents:
                spec &= req.specifier
            loose.append(f"{v.replacement}{spec}")
            reps.append(Replacement(v.original, v.replacement, v.reason, v.source, via,
                                    f"{v.replacement}=={d.version}", d.version))
            continue
        for who, req in dependents:
            if not _accepts(req.specifier, have.version):
                raise ResolveError(
                    f"{who} requires {req}, but the layer holds {v.replacement} {have.version} "
                    f"in place of {v.original}, and that version does not satisfy it.",
                    hint=f"Pin {v.replacement} to a version {who} accepts, or keep the "
                    f"original with --no-variants.",
                )
        reps.append(Replacement(v.original, v.replacement, v.reason, v.source, via,
                                f"{v.replacement}=={have.version}", have.version))
        drop.add(d.name)
    if not extra and drop:
        drop |= orphans_of(dists, roots, drop, env)
    return TransitivePlan(tuple(extra), tuple(sorted(drop)), tuple(reps), tuple(loose))


def _accepts(spec: SpecifierSet, version: str) -> bool:
    try:
        return spec.contains(Version(version), prereleases=True)
    except InvalidVersion:
        return False


