"""Environment markers judged for the Lambda target, not for the machine running pip.

pip's ``--platform``/``--python-version``/``--abi`` choose wheel *tags* for another target, but
pip still evaluates environment markers (``platform_machine == "aarch64"``,
``python_version < "3.12"``) with the running interpreter's values (pypa/pip#11664), for the
requirement lines and for every Requires-Dist it meets while resolving. So an arm64 layer
built on x86_64 got the x86_64-only dependencies and missed the aarch64-only ones.

pip is therefore started through a small bootstrap (:func:`pip_command`): it replaces the
``default_environment()`` of pip's vendored ``packaging.markers`` — the one function every
marker evaluation in pip reads the environment from (``Marker.evaluate`` calls it for each
requirement line and each dependency) — with one that returns the target's values, checks that
pip's markers now see the target, and runs pip's ``__main__`` with :mod:`runpy`. Nothing else
in pip changes; if a future pip stops using that function the bootstrap fails loudly rather
than judging markers for the wrong machine.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

__all__ = ["BOOTSTRAP", "pip_command"]

#: Runs as ``python -c BOOTSTRAP ENV_JSON pip-args...``; kept free of anything but stdlib and
#: pip so it works in any interpreter that has pip.
BOOTSTRAP = r"""
import json, runpy, sys
target = json.loads(sys.argv[1])
sys.argv = ["pip", *sys.argv[2:]]
from pip._vendor.packaging import markers
_host = markers.default_environment
markers.default_environment = lambda: {**_host(), **target}
probe = " and ".join('%s == "%s"' % kv for kv in sorted(target.items()))
if not markers.Marker(probe).evaluate():
    sys.stderr.write("lambda-slim: could not point pip's environment markers at the target\n")
    sys.exit(3)
sys.path[:] = [p for p in sys.path if p not in ("", ".")]
runpy.run_module("pip", run_name="__main__", alter_sys=True)
"""


def pip_command(python: str, markers: Mapping[str, str]) -> list[str]:
    """argv prefix running ``python -m pip`` with markers judged for ``markers`` (every
    variable: :meth:`~lambda_slim.target.runtimes.Target.marker_environment`, so nothing of
    the machine running pip leaks in); append pip's own arguments (``download ...``)."""
    return [python, "-c", BOOTSTRAP, json.dumps(dict(markers), sort_keys=True)]
