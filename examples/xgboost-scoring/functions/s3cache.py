"""S3 objects cached in /tmp for the life of a Lambda container, re-fetched only on a new ETag.

Each use sends one conditional ``GetObject`` (``IfNoneMatch=<cached ETag>``): S3 answers
``304 Not Modified`` with no body while the object is unchanged, and the new bytes when someone
replaced it. So a model or feed swapped in S3 is picked up on the next call, without a
redeploy and without downloading it again on every call. ``min_interval`` (seconds) skips even
that request for a while on hot paths.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

_MISSING_CODES = frozenset({"NoSuchKey", "NoSuchBucket", "404", "NotFound"})


class ObjectMissing(Exception):
    """The bucket or key does not exist (or is not visible to this function)."""


class ObjectUnavailable(Exception):
    """S3 could not be asked (network, throttling, permissions)."""


@dataclass(frozen=True)
class S3Uri:
    bucket: str
    key: str

    @classmethod
    def parse(cls, uri: str) -> S3Uri:
        uri = uri.strip()
        if not uri.startswith("s3://"):
            raise ValueError(f"{uri!r} is not an s3://bucket/key URI")
        bucket, _, key = uri[len("s3://") :].partition("/")
        if not bucket or not key or key.endswith("/"):
            raise ValueError(f"{uri!r} is not an s3://bucket/key URI")
        return cls(bucket, key)

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def suffix(self) -> str:
        return Path(self.key).suffix.lower()


@dataclass(frozen=True)
class CachedObject:
    uri: S3Uri
    etag: str
    path: Path
    changed: bool
    """True when this call downloaded new bytes (first use or a new ETag)."""


class S3ObjectCache:
    def __init__(self, client: Any, cache_dir: Path, min_interval: float = 0.0) -> None:
        self._client = client
        self._dir = cache_dir
        self._min_interval = min_interval
        self._entries: dict[S3Uri, tuple[CachedObject, float]] = {}

    def fetch(self, uri: S3Uri) -> CachedObject:
        cached = self._entries.get(uri)
        now = time.monotonic()
        if cached and cached[0].path.is_file():
            entry, checked_at = cached
            if now - checked_at < self._min_interval:
                return _unchanged(entry)
            request = {"Bucket": uri.bucket, "Key": uri.key, "IfNoneMatch": entry.etag}
        else:
            entry = None
            request = {"Bucket": uri.bucket, "Key": uri.key}
        try:
            response = self._client.get_object(**request)
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if entry is not None and (status == 304 or code in {"304", "NotModified"}):
                self._entries[uri] = (entry, now)
                return _unchanged(entry)
            if code in _MISSING_CODES:
                self.forget(uri)
                raise ObjectMissing(str(uri)) from exc
            raise ObjectUnavailable(f"{uri}: {code or status}") from exc
        except BotoCoreError as exc:
            raise ObjectUnavailable(f"{uri}: {exc}") from exc
        try:
            path = self._write(uri, response["Body"])
        except BotoCoreError as exc:
            raise ObjectUnavailable(f"{uri}: download interrupted: {exc}") from exc
        fresh = CachedObject(uri, str(response.get("ETag", "")), path, changed=True)
        self._entries[uri] = (fresh, now)
        return fresh

    def forget(self, uri: S3Uri) -> None:
        cached = self._entries.pop(uri, None)
        if cached:
            cached[0].path.unlink(missing_ok=True)

    def _write(self, uri: S3Uri, body: Any) -> Path:
        self._dir.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(str(uri).encode()).hexdigest()[:24] + uri.suffix
        final = self._dir / name
        fd, tmp = tempfile.mkstemp(dir=self._dir, prefix=".download-")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in iter(lambda: body.read(1 << 20), b""):
                    out.write(chunk)
            os.replace(tmp, final)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return final


def _unchanged(entry: CachedObject) -> CachedObject:
    return CachedObject(entry.uri, entry.etag, entry.path, changed=False)


def s3_client() -> Any:
    """The S3 client for these handlers; honours AWS_ENDPOINT_URL like every boto3 client."""
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=3, read_timeout=30, retries={"max_attempts": 3})
    return boto3.client("s3", config=config)
