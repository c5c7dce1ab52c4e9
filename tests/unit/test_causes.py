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
