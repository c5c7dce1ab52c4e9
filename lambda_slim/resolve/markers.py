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

from ..target.runtimes import TARGET_KEYS, target_environment

__all__ = ["BOOTSTRAP", "TARGET_KEYS", "pip_command", "target_environment"]

#: Runs as ``python -c BOOTSTRAP ENV_JSON pip-args...``; kept free of anything but stdlib and
#: pip so it works in any interpreter that has pip.
BOOTSTRAP = r"""
import json, platform, runpy, sys
target = json.loads(sys.argv[1])
sys.argv = ["pip", *sys.argv[2:]]
from pip._vendor.packaging import markers
_host = markers.default_environment
if "python_full_version" not in target:
    same = "%d.%d" % sys.version_info[:2] == target["python_version"]
    full = platform.python_version() if same else target["python_version"] + ".0"
    target["python_full_version"] = target["implementation_version"] = full
def default_environment():
    env = dict(_host())
    env.update(target)
    return env
markers.default_environment = default_environment
probe = 'platform_machine == "%s" and python_version == "%s" and sys_platform == "linux"' % (
    target["platform_machine"], target["python_version"])
if not markers.Marker(probe).evaluate():
    sys.stderr.write("lambda-slim: could not point pip's environment markers at the target\n")
    sys.exit(3)
sys.path[:] = [p for p in sys.path if p not in ("", ".")]
runpy.run_module("pip", run_name="__main__", alter_sys=True)
"""


def pip_command(python: str, environment: Mapping[str, str]) -> list[str]:
    """argv prefix running ``python -m pip`` with markers judged for ``environment``;
    append pip's own arguments (``download ...``)."""
    return [python, "-c", BOOTSTRAP, json.dumps(dict(environment), sort_keys=True)]
