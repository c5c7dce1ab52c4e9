"""Tiny real wheels built on the fly, and a wheelhouse requirements file pointing at them."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path


def make_wheel(
    out_dir: Path,
    name: str,
    version: str,
    files: dict[str, str | bytes],
    requires: tuple[str, ...] = (),
    tag: str = "py3-none-any",
) -> Path:
    """Write ``name-version-tag.whl`` holding ``files`` plus a valid dist-info."""
    out_dir.mkdir(parents=True, exist_ok=True)
    norm = name.replace("-", "_")
    di = f"{norm}-{version}.dist-info"
    meta = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    meta += [f"Requires-Dist: {r}" for r in requires]
    meta += ["Classifier: Programming Language :: Python", "", "A long description " * 200]
    content: dict[str, bytes] = {
        k: (v.encode() if isinstance(v, str) else v) for k, v in files.items()
    }
    content[f"{di}/METADATA"] = "\n".join(meta).encode()
    content[f"{di}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: {tag}\n".encode()
    )
    content[f"{di}/licenses/LICENSE"] = b"MIT License\n"
    record = []
    for path, data in content.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{di}/RECORD,,")
    content[f"{di}/RECORD"] = ("\n".join(record) + "\n").encode()
    whl = out_dir / f"{norm}-{version}-{tag}.whl"
    with zipfile.ZipFile(whl, "w") as zf:
        for path, data in content.items():
            zf.writestr(path, data)
    return whl


def wheelhouse_requirements(path: Path, wheelhouse: Path, *reqs: str) -> Path:
    """A requirements file that resolves only from ``wheelhouse`` (no network)."""
    path.write_text("--no-index\n" + f"--find-links {wheelhouse}\n" + "\n".join(reqs) + "\n")
    return path
