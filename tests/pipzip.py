"""Layers made the way other tools make them: ``pip install --target python/`` for the target's
platform, then zipped. The shared wheel store (tests/shared.py) is offered to pip first, so a
wheel an earlier build downloaded is not fetched again."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.shared import shared_cache_root

PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_28_x86_64", "manylinux_2_34_x86_64")


def _stored(reqs: tuple[str, ...]) -> list[str]:
    """--find-links for the shared store's folders holding a wheel of a pinned ``name==v``."""
    store = shared_cache_root() / "wheels" / "by-sha256"
    out: list[str] = []
    for req in reqs:
        name, _, version = req.partition("==")
        for whl in store.glob(f"*/{name.replace('-', '_')}-{version or '*'}-*.whl"):
            out += ["--find-links", str(whl.parent)]
    return out


def pip_target_zip(folder: Path, *reqs: str, python_version: str = "3.12",
                   deps: bool = False, wheelhouse: Path | None = None) -> Path:
    """``pip install --only-binary=:all: --platform … --target folder/python reqs``, zipped
    with every file under ``python/`` (as a plain ``zip -r`` would): ``folder/pip-layer.zip``.
    ``wheelhouse``: install only from that folder (wheels made in the test)."""
    target = folder / "python"
    platforms = [a for p in PLATFORMS for a in ("--platform", p)]
    source = ["--no-index", "--find-links", str(wheelhouse)] if wheelhouse else _stored(reqs)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--only-binary=:all:",
                    *platforms, "--python-version", python_version, "--target", str(target),
                    *([] if deps else ["--no-deps"]), *source, *reqs],
                   check=True, capture_output=True)
    zpath = folder / "pip-layer.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(target.rglob("*")):
            if p.is_file():
                zf.write(p, "python/" + p.relative_to(target).as_posix())
    return zpath
