"""The stand-in for ``/var/runtime``: what a Lambda Python runtime ships besides Python.

On Lambda, ``/var/runtime`` holds the runtime interface client (``awslambdaric``, the
open-source counterpart of the managed runtime's loop), the AWS SDK (boto3, botocore,
s3transfer, jmespath and their own dependencies) and ``bootstrap.py``, which the runtime
starts as ``python /var/runtime/bootstrap.py``. Here the folder is made per runtime,
architecture and SDK version from binary wheels for the *target* (the verified wheel cache;
no setup.py ever runs), kept under the cache directory, and mounted read-only at
``/var/runtime`` in the sandbox.

Its ``bootstrap.py`` does what the managed one does (the python3.12 image's
``/var/runtime/bootstrap.py``; the same functions are in awslambdaric 2.x's bootstrap):
``/var/task``, ``/opt/python/lib/pythonX.Y/site-packages`` and ``/opt/python`` go first on
``sys.path`` (ahead of ``/var/runtime``, the script's own folder), ``site.addsitedir`` runs on
each so their ``.pth`` files are processed, the two ``/opt`` entries are skipped when the
function sets ``PYTHONPATH``, child processes get ``PYTHONPATH=/var/runtime``, and then
awslambdaric's ``main`` runs the handler named by ``_HANDLER``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from ..artifact.atomic import atomic_write_text
from ..inputs.requirements import read_requirements
from ..target.proc import Runner
from ..target.python import Interpreter
from ..target.runtimes import Target
from ..target.sdk import AWSLAMBDARIC, RuntimeSdk
from .install import resolve
from .unpack import unpack_wheels

#: Bumped when the folder's layout or bootstrap changes (old folders are then not reused).
LAYOUT = "1"

BOOTSTRAP = '''"""Stand-in for the Lambda Python runtime's /var/runtime/bootstrap.py (lambda-slim)."""
import os
import site
import sys


def main():
    task = os.environ["LAMBDA_TASK_ROOT"]
    opt_site = "/opt/python/lib/python%d.%d/site-packages" % sys.version_info[:2]
    own_path = "PYTHONPATH" in os.environ
    if not own_path:
        sys.path[0:0] = [opt_site, "/opt/python"]
    sys.path.insert(0, task)
    site.addsitedir(task)
    if not own_path:
        site.addsitedir(opt_site)
        site.addsitedir("/opt/python")
        os.environ["PYTHONPATH"] = os.environ["LAMBDA_RUNTIME_DIR"]
    from awslambdaric import __main__ as ric
    ric.main([task, os.environ["_HANDLER"]])


main()
'''

#: The file the sandbox starts, relative to the folder.
ENTRY = "bootstrap.py"


def runtime_dir_key(target: Target, sdk: RuntimeSdk) -> str:
    h = hashlib.sha256("\0".join((LAYOUT, AWSLAMBDARIC, sdk.boto3, sdk.botocore,
                                  *target.platform_tags(), BOOTSTRAP)).encode())
    return (f"{target.runtime.name}-{target.arch}-ric{AWSLAMBDARIC}-botocore{sdk.botocore}-"
            f"{h.hexdigest()[:10]}")


def var_runtime(target: Target, sdk: RuntimeSdk, pip_python: Interpreter, cache_dir: Path,
                runner: Runner, env: Mapping[str, str]) -> Path:
    """The ``/var/runtime`` folder for ``target`` with ``sdk``, made once and reused.

    Raises ResolveError when a wheel cannot be had for the target (exit 3)."""
    # the real path: the folder is bound into the sandbox by the path the child is given, and
    # a cache folder reached through a symlink would leave that path dangling inside it
    base = (cache_dir / "var-runtime").resolve()
    final = base / runtime_dir_key(target, sdk)
    if (final / ENTRY).is_file():
        return final
    base.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=base))
    try:
        req = work / "requirements.txt"
        req.write_text("\n".join([f"awslambdaric=={AWSLAMBDARIC}",
                                  *sdk.requirement_lines()]) + "\n")
        # a wheel cache of its own: the user's offline fallback (``wheelcache.offer``) must
        # never see the runtime's SDK as a candidate for the layer
        resolution = resolve(read_requirements(req), target, pip_python, base / "wheels",
                             runner, env)
        tree = work / "tree"
        unpack_wheels([w.path for w in resolution.wheels], tree, jobs=4)
        atomic_write_text(tree / ENTRY, BOOTSTRAP)
        try:
            os.replace(tree, final)
        except OSError:  # another process made it first: theirs is as good
            if not (final / ENTRY).is_file():
                raise
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(work)
    return final
