"""Real local servers for the tests: a moto server over HTTP on 127.0.0.1.

Tests talk to it with boto3 through ``AWS_ENDPOINT_URL`` (or ``endpoint_url=``), exactly as a
user would talk to AWS; nothing is patched in-process.
"""

from __future__ import annotations

import socket
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def moto_server() -> Iterator[str]:
    """Start a ThreadedMotoServer on a free port and yield its endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    try:
        urllib.request.urlopen(url + "/moto-api/", timeout=10).read()
        yield url
    finally:
        server.stop()


def reset_moto(url: str) -> None:
    """Forget every resource (buckets, layers) the server holds."""
    req = urllib.request.Request(url + "/moto-api/reset", method="POST")
    urllib.request.urlopen(req, timeout=10).read()


FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
