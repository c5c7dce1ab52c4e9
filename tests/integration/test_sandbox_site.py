"""The sandbox hides the stand-in interpreter's installed packages by itself, not through the
probes' ``-I -S``: a Python started inside it with site processing on (as Lambda's bootstrap
runs, and as any child a smoke script starts) finds nothing the build machine installed."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from lambda_slim.target.sandbox import make_sandbox, sandbox_unavailable
from lambda_slim.target.syslibs import runtime_syslibs

REASON = sandbox_unavailable(os.environ)
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"no sandbox here: {REASON}")

PROBE = """import json, site, sys, importlib.util as u
dirs = [d for d in site.getsitepackages() if d.endswith("-packages")]
print(json.dumps({"no_site": sys.flags.no_site, "dirs": dirs,
                  "listed": sorted(n for d in dirs for n in (__import__("os").listdir(d)
                                   if __import__("os").path.isdir(d) else [])),
                  "pip": u.find_spec("pip") is not None}))"""


def test_host_site_packages_stay_hidden_with_site_processing_on(py312: Path, tmp_path: Path) -> None:
    host = subprocess.run([str(py312), "-c", PROBE], capture_output=True, text=True, timeout=60,
                          check=True)
    seen = json.loads(host.stdout)
    assert seen["pip"] and "pip" in seen["listed"]  # the premise: pip is installed on the host
    layer = tmp_path / "layer" / "python"
    layer.mkdir(parents=True)
    sb = make_sandbox(py312, runtime_syslibs("python3.12", "x86_64"), os.environ,
                      cache_dir=tmp_path / "sbx")
    launch = sb.wrap([str(sb.executable), "-c", PROBE], env={}, layer=layer, paths=(), cwd=None)
    proc = subprocess.run(launch.argv, env=launch.env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    inside = json.loads(proc.stdout)
    assert inside["no_site"] == 0  # site ran: nothing but the sandbox hides the packages
    assert set(inside["dirs"]) == set(seen["dirs"])  # the same folders, empty inside
    assert inside["listed"] == [] and inside["pip"] is False
