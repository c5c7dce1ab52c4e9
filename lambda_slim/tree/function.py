"""A function deployment package: the handler code at the zip root, the dependencies beside it,
and with ``--layer-zip`` only what the layers do not already provide.

Lambda extracts the function to ``/var/task`` and its layers, in order, to ``/opt``; Python
finds the layers' packages in ``/opt/python`` and ``/opt/python/lib/pythonX.Y/site-packages``
(docs.aws.amazon.com/lambda/latest/dg/packaging-layers.html, "Layer paths for each Lambda
runtime"). The unzipped function plus all its layers must fit 262,144,000 bytes
(docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..artifact.zipread import extract_listing, read_zip_listing
from ..errors import InputError
from .inventory import read_inventory

#: Names in a handler folder that are never deployed (VCS, caches, virtual environments).
_SKIP = {"__pycache__", ".git", ".hg", ".svn", ".venv", "venv", ".mypy_cache", ".pytest_cache",
         ".ruff_cache", ".aws-sam", "node_modules"}


@dataclass(frozen=True)
class LayerInfo:
    path: Path
    unzipped_bytes: int
    dists: tuple[str, ...]  # "name==version" of every distribution it holds


@dataclass(frozen=True)
class FunctionTree:
    """What was assembled: where the layers were extracted and what they made unnecessary."""

    handler_dir: Path
    code_files: tuple[str, ...]  # the handler folder's files, relative to the zip root
    layers: tuple[LayerInfo, ...]
    opt: Path | None  # the layers extracted in order, as Lambda's /opt
    provided: tuple[str, ...]  # "name==version" left out because a layer has exactly that
    shadowed: tuple[str, ...]  # "name==version (layer: other)": kept, the function's copy wins
    left_out: tuple[str, ...] = ()  # files of the folder not shipped, and why

    @property
    def layers_bytes(self) -> int:
        return sum(layer.unzipped_bytes for layer in self.layers)

    def layer_paths(self, python: tuple[int, int]) -> list[Path]:
        """The layers' folders on sys.path, in Lambda's order (after /var/task)."""
        if self.opt is None:
            return []
        base = self.opt / "python"
        return [base / "lib" / f"python{python[0]}.{python[1]}" / "site-packages", base]


def check_function_dir(src: Path) -> None:
    if not src.exists():
        raise InputError(f"Function folder {src} does not exist.",
                         hint="Pass the folder holding your handler code: --function src/")
    if not src.is_dir():
        raise InputError(f"--function {src} is a file; it takes the folder holding the handler code.",
                         hint=f"Pass its folder: --function {src.parent}")


def _is_env_file(name: str) -> bool:
    """``.env``, ``.env.local``, ``.envrc``, ...: environment files hold secrets, never code."""
    return name.startswith(".env")


@dataclass(frozen=True)
class CodeFiles:
    """The handler folder's files to deploy: zip path -> the real file whose bytes go there
    (a symlink inside the folder is stored as the file it names), and what was left out."""

    sources: Mapping[str, Path]
    left_out: tuple[str, ...]  # "rel (why)", for the user and the report

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(sorted(self.sources))


def code_files(src: Path, exclude: Iterable[tuple[str, Path]] = (), *,
               symlinks: bool = True) -> CodeFiles:
    """Walk ``src`` without following anything out of it: caches and VCS skipped, ``.env*``
    files and this build's own outputs (``exclude``: what, path) left out and listed; a symlink
    inside ``src`` is stored as the file it names, one pointing outside (or dangling, or any
    symlink with ``symlinks=False``) is an InputError naming it."""
    root = Path(os.path.realpath(src))
    skip = {os.path.realpath(p): what for what, p in exclude}
    sources: dict[str, Path] = {}
    left_out: list[str] = []

    def link_target(full: str, rel: str) -> str:
        shown = f"{src}/{rel}"
        try:
            points_to = os.readlink(full)
        except OSError:
            points_to = "?"
        if not symlinks:
            raise InputError(
                f"{shown} is a symlink (to {points_to}); --no-symlinks refuses symlinks in the "
                "function folder.", hint="Replace it with the file itself, or drop --no-symlinks.")
        real = os.path.realpath(full)
        if not os.path.exists(real):
            raise InputError(
                f"{shown} is a dangling symlink (to {points_to}, which does not exist).",
                hint="Remove the link, or restore the file it names.")
        if real != str(root) and not real.startswith(str(root) + os.sep):
            raise InputError(
                f"{shown} is a symlink to {real}, outside the function folder {src}: its content "
                "(a key, a config with secrets) would ship in the zip.",
                hint=f"Copy the file into {src} if the function needs it, or remove the link.")
        return real

    def walk(folder: str, prefix: str, chain: tuple[str, ...]) -> None:
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            rel = prefix + entry.name
            full = entry.path
            real = link_target(full, rel) if entry.is_symlink() else os.path.realpath(full)
            name = entry.name
            if os.path.isdir(real):
                if name in _SKIP:
                    continue
                if _is_env_file(name):
                    left_out.append(f"{rel}/ (an environment folder: .env* never ships)")
                    continue
                if real in chain:
                    raise InputError(f"{src}/{rel} is a symlink loop (it names a folder that "
                                     "holds it).", hint="Remove the link.")
                walk(real, rel + "/", (*chain, real))
                continue
            if name.endswith((".pyc", ".pyo")):
                continue
            if _is_env_file(name) or _is_env_file(os.path.basename(real)):
                left_out.append(f"{rel} (an environment file: .env* holds secrets, never ships)")
            elif real in skip:
                left_out.append(f"{rel} (this build's {skip[real]})")
            elif not stat.S_ISREG(os.stat(real).st_mode):
                raise InputError(f"{src}/{rel} is not a regular file (a pipe, socket or device).",
                                 hint="Remove it from the function folder.")
            else:
                sources[rel] = Path(real)

    walk(str(root), "", (str(root),))
    return CodeFiles(dict(sorted(sources.items())), tuple(left_out))


def keep_globs(code: CodeFiles) -> tuple[str, ...]:
    """``--keep`` globs protecting the handler code from every rule (it is yours, not a wheel's)."""
    return tuple(sorted({rel.split("/", 1)[0] for rel in code.files}))


def extract_layers(zips: Sequence[Path], opt: Path, python: tuple[int, int]) -> tuple[LayerInfo, ...]:
    """Extract ``zips`` in order into ``opt`` (later layers overwrite earlier ones, as on Lambda),
    through the safe zip reader."""
    infos = []
    for z in zips:
        if not z.is_file():
            raise InputError(f"Layer zip {z} does not exist.",
                             hint="Build it first: lambda-slim build requirements.txt -o layer.zip")
        listing = read_zip_listing(z)
        names = [e.name for e in listing.files]
        if names and not any(n.startswith("python/") for n in names):
            raise InputError(f"{z} is not a Python layer: none of its files is under python/.",
                             hint="Pass layer zips (lambda-slim build ... -o layer.zip) to --layer-zip.")
        extract_listing(listing, opt)
        dists = []
        for where in (opt / "python", opt / "python" / "lib" / f"python{python[0]}.{python[1]}" /
                      "site-packages"):
            if where.is_dir():
                inv = read_inventory(where)
                dists += [f"{d.name}=={d.version}" for d in inv.dists.values()]
        infos.append(LayerInfo(z, listing.unzipped_bytes, tuple(sorted(set(dists)))))
    return tuple(infos)


def drop_provided(root: Path, layers: Sequence[LayerInfo]) -> tuple[list[str], list[str]]:
    """Remove from ``root`` every distribution a layer holds in the same version; return those
    and the ones kept because the layer has another version (the function's copy wins)."""
    in_layers: dict[str, str] = {}
    for layer in layers:
        for d in layer.dists:
            name, _, version = d.partition("==")
            in_layers[name] = version
    inv = read_inventory(root)
    provided, shadowed = [], []
    for dist in sorted(inv.dists.values(), key=lambda d: d.name):
        have = in_layers.get(dist.name)
        if have is None:
            continue
        if have != dist.version:
            shadowed.append(f"{dist.name}=={dist.version} (layer: {have})")
            continue
        for rel in dist.files:
            target = root / rel
            if target.is_file() or target.is_symlink():
                target.unlink()
        shutil.rmtree(root / dist.dist_info, ignore_errors=True)
        provided.append(f"{dist.name}=={dist.version}")
    _prune_empty_dirs(root)
    return provided, shadowed


def _prune_empty_dirs(root: Path) -> None:
    for dirpath, _dirs, _files in sorted(os.walk(root), key=lambda t: -len(t[0])):
        if dirpath != str(root) and not os.listdir(dirpath):
            os.rmdir(dirpath)


def copy_code(src: Path, root: Path, code: CodeFiles) -> None:
    """Copy the handler code into the tree; a file a dependency also installs is an error."""
    clashes = [rel for rel in code.files if (root / rel).exists()]
    if clashes:
        raise InputError(
            f"{len(clashes)} file(s) of the function folder {src} would overwrite a dependency's: "
            f"{', '.join(clashes[:5])}.",
            hint="Rename your module or package (it shadows an installed distribution).")
    for rel, real in code.sources.items():
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(real, dest)
        os.chmod(dest, 0o755 if os.access(real, os.X_OK) else 0o644)
