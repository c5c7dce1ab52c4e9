from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.arm64_python import Aarch64Python, aarch64_python311
from tests.servers import FAKE_AWS_ENV, moto_server


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real moto server on 127.0.0.1 for the whole session; yields its URL."""
    with moto_server() as url:
        yield url


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Fake credentials and AWS_ENDPOINT_URL pointing at the moto server."""
    for k, v in FAKE_AWS_ENV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    env = dict(os.environ)
    return env


@pytest.fixture(scope="session")
def aarch64_python() -> Aarch64Python:
    """A real aarch64 CPython 3.11 from Debian's arm64 packages, run under qemu-aarch64-static
    (assembled once, cached under ~/.cache/lambda-slim/test-aarch64-python/)."""
    try:
        return aarch64_python311()
    except RuntimeError as exc:
        pytest.fail(f"cannot assemble the aarch64 test interpreter: {exc}")
