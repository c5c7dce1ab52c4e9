"""pip's resolution failures in plain words: a typo (with "did you mean"), a pin no release
satisfies (with the versions that fit), or no wheel for the target (with known advice)."""

from __future__ import annotations

import re
from pathlib import Path

from packaging.utils import canonicalize_name

from ..errors import ResolveError
from ..inputs.requirements import Requirements
from ..suggest import did_you_mean
from ..target.proc import tail
from ..target.runtimes import Target
from . import wheelcache

_NO_MATCH = re.compile(r"No matching distribution found for ([^\s]+)")
_NO_VERSION = re.compile(
    r"Could not find a version that satisfies the requirement ([^\s]+)(?: \(from versions: ([^)]*)\))?"
)
_LINKS = re.compile(r"Looking in links: (.+)")


def _advice(name: str, target: Target) -> str:
    n = canonicalize_name(re.split(r"[<>=!~;\[ @]", name, maxsplit=1)[0])
    tips = []
    if n == "xgboost" and target.glibc < (2, 28):
        tips.append(
            "xgboost>=3.1 ships no manylinux2014 wheel, so it cannot run on "
            f"{target.runtime.name} (glibc {target.glibc[0]}.{target.glibc[1]}); pin "
            "xgboost<3.1 (3.0.5 is the last such release) or use python3.12+."
        )
    if n == "xgboost-cpu" and target.machine != "x86_64":
        tips.append("xgboost-cpu is published for x86_64 only; use xgboost on arm64.")
    if n == "xgboost-cpu" and target.glibc < (2, 28):
        tips.append("xgboost-cpu wheels need glibc 2.28; use python3.12+ (glibc 2.34).")
    tips.append(
        "A package without a manylinux wheel for this target would need compiling on Amazon "
        "Linux; pin a version that has one (check its files on PyPI) or pick another runtime/arch."
    )
    return " ".join(tips)


def resolve_error(proc_out: str, target: Target, reqs: Requirements,
                   cache_dir: Path) -> ResolveError:
    m = _NO_VERSION.search(proc_out) or _NO_MATCH.search(proc_out)
    tags = target.platform_tags()
    tagline = (
        f"cp{target.runtime.python[0]}{target.runtime.python[1]} on {tags[0]} … {tags[-1]} "
        f"({len(tags)} manylinux tags)"
    )
    said = f"\n\npip said:\n{tail(proc_out, 12)}"
    if m:
        spec = m.group(1)
        name = re.split(r"[<>=!~;\[ @]", spec, maxsplit=1)[0]
        versions = (m.group(2) or "none").strip() if m.re is _NO_VERSION else "none"
        if versions == "none":
            links = _LINKS.search(proc_out)
            folders = [Path(f.strip()) for f in links.group(1).split(",")] if links else []
            known = wheelcache.known_names(cache_dir, folders) | set(reqs.requested)
            close = did_you_mean(name, {k for k in known
                                        if canonicalize_name(k) != canonicalize_name(name)})
            if close:  # most likely a typo: compiling on Amazon Linux would not help
                return ResolveError(
                    f"No wheel of {name} (from {reqs.path}): no package named {name} was "
                    f"found.{close}{said}",
                    hint="Fix the name in the requirements file.")
            return ResolveError(
                f"No wheel of {spec} (from {reqs.path}) fits {target.describe()}: either no "
                f"package is named {name}, or it publishes no binary wheel for "
                f"{tagline}.{said}",
                hint=f"Check the spelling (https://pypi.org/project/{name}/). "
                     + _advice(spec, target))
        return ResolveError(
            f"No wheel of {spec} (from {reqs.path}) fits {target.describe()}: no version of "
            f"{name} matching it has a wheel for {tagline}; versions with a fitting wheel: "
            f"{versions}.{said}",
            hint=f"Pin one of those versions of {name}. " + _advice(spec, target),
        )
    return ResolveError(
        f"pip could not resolve {reqs.path} for {target.describe()}.{said}",
        hint="Fix the requirement pip names above; if the network is down, a previous "
        "resolution of the same file is reused from the cache automatically.",
    )
