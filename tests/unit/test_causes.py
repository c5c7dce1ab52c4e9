"""Failure causes read from real error texts (loader, ctypes users, read-only /opt, timeout)."""

from __future__ import annotations

import pytest

from lambda_slim.verify.causes import ERROR, MISSING_LIBRARY, READ_ONLY, TIMEOUT, classify


@pytest.mark.parametrize(("text", "kind", "detail"), [
    ("OSError: libgomp.so.1: cannot open shared object file: No such file or directory",
     MISSING_LIBRARY, "libgomp.so.1"),
    ("ImportError: /opt/python/cv2/cv2.abi3.so: libGL.so.1: cannot open shared object file: "
     "No such file or directory", MISSING_LIBRARY, "libGL.so.1"),
    ("ImportError: failed to find libmagic.  Check your installation", MISSING_LIBRARY,
     "libmagic"),
    ("OSError: Could not find library 'libzbar.so.0'", MISSING_LIBRARY, "libzbar.so.0"),
    ("OSError: [Errno 30] Read-only file system: '/opt/python/pkg/cache.json'", READ_ONLY,
     "/opt/python/pkg/cache.json"),
    ("PermissionError: [Errno 13] Permission denied: '/var/task/out.txt'", READ_ONLY,
     "/var/task/out.txt"),
    ("Traceback ...\n[timed out after 30s]", TIMEOUT, "30"),
    ("Traceback (most recent call last):\nModuleNotFoundError: No module named 'yaml'", ERROR,
     "ModuleNotFoundError: No module named 'yaml'"),
])
def test_classify(text: str, kind: str, detail: str) -> None:
    cause = classify(text)
    assert (cause.kind, cause.detail) == (kind, detail)
    assert cause.excusable is (kind == ERROR)
    assert detail in cause.describe()


@pytest.mark.parametrize(("text", "package", "setting"), [
    # numba's cache=True with no writable cache place (numba/core/caching.py's message)
    ('  File "/opt/python/pkg/__init__.py", line 3, in <module>\n'
     '  File "/opt/python/numba/core/dispatcher.py", line 1, in enable_caching\n'
     "RuntimeError: cannot cache function 'f': no locator available for file "
     "'/opt/python/pkg/__init__.py'", "numba", "NUMBA_CACHE_DIR"),
    # matplotlib creating its config folder in a home it cannot write
    ('  File "/opt/python/matplotlib/__init__.py", line 500, in _get_config_or_cache_dir\n'
     "PermissionError: [Errno 13] Permission denied: '/home/sbx_user1051'",
     "matplotlib", "MPLCONFIGDIR"),
    # transformers writing its cache beside itself (a frame of huggingface_hub is innermost)
    ('  File "/opt/python/transformers/utils/hub.py", line 9, in <module>\n'
     '  File "/opt/python/huggingface_hub/constants.py", line 2, in <module>\n'
     "OSError: [Errno 30] Read-only file system: '/opt/python/transformers/.cache'",
     "huggingface_hub", "HF_HOME"),
    # an unknown package caching in the home folder: the XDG setting platformdirs honours
    ('  File "/opt/python/somepkg/cache.py", line 4, in <module>\n'
     "PermissionError: [Errno 13] Permission denied: '/home/sbx_user1051/.cache'",
     "somepkg", "XDG_CACHE_HOME"),
])
def test_a_write_beside_the_code_names_the_setting_that_moves_it(
        text: str, package: str, setting: str) -> None:
    cause = classify(text)
    assert cause.kind == READ_ONLY
    assert (cause.package, cause.setting) == (package, setting)
    assert cause.fix is not None and f"set {setting} to a folder under /tmp" in cause.fix
    assert package in cause.fix


def test_a_write_into_the_layer_by_an_unknown_package_has_no_invented_setting() -> None:
    cause = classify('  File "/opt/python/mystery/io.py", line 1, in save\n'
                     "OSError: [Errno 30] Read-only file system: '/opt/python/mystery/db'")
    assert (cause.package, cause.setting, cause.fix) == ("mystery", None, None)
    assert "write under /tmp" in cause.describe()
