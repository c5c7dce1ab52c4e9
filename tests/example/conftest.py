"""Fixtures for the xgboost-scoring example: real python3.12, moto server and MariaDB.

Nothing is mocked in-process: handlers run in python3.12 subprocesses and talk to a moto
server over HTTP (through ``AWS_ENDPOINT_URL``) and to a MariaDB server over TCP. Setup that
cannot be done (no python3.12, no MariaDB, pip failing) fails the tests with the reason.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest

from tests.example.envs import (
    EXAMPLE,
    EnvironmentSetupError,
    find_python312,
    reference_venv,
    runtime_boto3_dir,
)
from tests.example.lambda_container import LambdaContainer
from tests.example.mariadb import MariaDB, MariaDBError, shared_mariadb
from tests.servers import FAKE_AWS_ENV
from tests.shared import Frozen, once_per_run, run_root

AS_OF = "2026-11-01T00:00:00+00:00"
"""Recency is computed against this instant so features are reproducible."""
DIRECT_PREDICT = Path(__file__).with_name("predict_direct.py")


def _load_feature_spec() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "example_feature_spec", EXAMPLE / "functions" / "feature_spec.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FEATURE_NAMES: list[str] = list(_load_feature_spec().FEATURE_NAMES)


def _setup(what: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except EnvironmentSetupError as exc:
        pytest.fail(f"{what}: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def python312() -> Path:
    path: Path = _setup("python3.12", find_python312)
    return path


@pytest.fixture(scope="session")
def ref_python() -> Path:
    """python of the unpruned reference virtualenv (pinned stack + boto3)."""
    path: Path = _setup("reference virtualenv", reference_venv)
    return path


@pytest.fixture(scope="session")
def runtime_boto3() -> Path:
    path: Path = _setup("runtime boto3", runtime_boto3_dir)
    return path


@pytest.fixture(scope="session")
def mariadb(tmp_path_factory: pytest.TempPathFactory) -> MariaDB:
    """A real MariaDB server loaded with sample_data/intel.sql, one for the whole run (every
    xdist worker connects to the one the first started; tests/conftest.py stops it at the end);
    fails (not skips) if it can't."""
    try:
        return shared_mariadb(run_root(tmp_path_factory))
    except MariaDBError as exc:
        pytest.fail(f"the example's tests need a MariaDB server and could not start one: {exc}")


@dataclass
class S3World:
    """One bucket on the moto server, with the sample threat feed in JSON and CSV."""

    endpoint: str
    bucket: str
    client: Any = field(repr=False)

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def put(self, key: str, data: bytes) -> str:
        etag: str = self.client.put_object(Bucket=self.bucket, Key=key, Body=data)["ETag"]
        return etag

    def put_file(self, key: str, path: Path) -> str:
        return self.put(key, path.read_bytes())

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def unique_key(self, suffix: str) -> str:
        return f"models/{uuid.uuid4().hex[:12]}{suffix}"

    @property
    def feed_uri(self) -> str:
        return self.uri("intel/threat_feed.json")

    @property
    def feed_csv_uri(self) -> str:
        return self.uri("intel/threat_feed.csv")


@pytest.fixture(scope="session")
def s3_bucket() -> str:
    return f"xgb-example-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def s3_world(moto_endpoint: str, s3_bucket: str) -> S3World:
    """The bucket and its feed, (re)made for each test: tests of publishing reset the moto
    server shared by the session, and the order tests run in is random."""
    client = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name=FAKE_AWS_ENV["AWS_DEFAULT_REGION"],
        aws_access_key_id=FAKE_AWS_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=FAKE_AWS_ENV["AWS_SESSION_TOKEN"],
    )
    world = S3World(moto_endpoint, s3_bucket, client)
    client.create_bucket(Bucket=world.bucket)  # us-east-1: no error when it exists
    for suffix in (".json", ".csv"):
        world.put_file(f"intel/threat_feed{suffix}", EXAMPLE / "sample_data" / f"threat_feed{suffix}")
    return world


@dataclass(frozen=True)
class Models:
    a: Path
    b: Path


@pytest.fixture(scope="session")
def models(ref_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Models]:
    """Two different models trained by train.py with the pinned XGBoost (.ubj and .json), once
    per run (every xdist worker reads the same two files; read-only)."""

    def train(out: Path) -> None:
        for name, seed, rounds in (("model-a.ubj", 7, 80), ("model-b.json", 11, 40)):
            proc = subprocess.run(
                [str(ref_python), "train.py", "--out", str(out / name), "--rows", "6000",
                 "--rounds", str(rounds), "--seed", str(seed)],
                cwd=EXAMPLE, capture_output=True, text=True, timeout=300,
            )  # fmt: skip
            assert proc.returncode == 0, proc.stdout + proc.stderr

    out = once_per_run(tmp_path_factory, "models", train)
    frozen = Frozen.of(out)
    yield Models(out / "model-a.ubj", out / "model-b.json")
    frozen.check()


def direct_predictions(ref_python: Path, model: Path, rows: list[list[float]]) -> list[float]:
    """The model's scores computed directly with xgboost in the reference venv."""
    proc = subprocess.run(
        [str(ref_python), str(DIRECT_PREDICT), str(model)],
        input=json.dumps(rows), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    scores: list[float] = json.loads(proc.stdout)
    return scores


def handler_env(
    moto_endpoint: str, db: MariaDB | None, world: S3World, workdir: Path, **extra: str
) -> dict[str, str]:
    """A Lambda-like environment: nothing inherited but PATH, fake credentials, settings."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "HOME": str(workdir),
        **FAKE_AWS_ENV,
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_EC2_METADATA_DISABLED": "true",
        **(db.env() if db else {}),
        "THREAT_FEED_URI": world.feed_uri,
        "FEATURES_AS_OF": AS_OF,
        "FEED_CACHE_DIR": str(workdir / "tmp" / "feeds"),
        "MODEL_CACHE_DIR": str(workdir / "tmp" / "models"),
    }
    env.update(extra)
    return env


class Launcher:
    """Starts warm containers (venv or layer flavour) and closes them after the test."""

    def __init__(
        self, ref_python: Path, python312: Path, runtime: Path, moto_endpoint: str,
        world: S3World, tmp: Path,
    ) -> None:  # fmt: skip
        self.ref_python, self.python312, self.runtime = ref_python, python312, runtime
        self.moto_endpoint, self.world, self.tmp = moto_endpoint, world, tmp
        self.started: list[LambdaContainer] = []

    def _workdir(self) -> Path:
        return self.tmp / f"container-{len(self.started)}"

    def env(self, db: MariaDB | None, **extra: str) -> dict[str, str]:
        return handler_env(self.moto_endpoint, db, self.world, self._workdir(), **extra)

    def venv(self, db: MariaDB | None = None, **extra: str) -> LambdaContainer:
        """A container on the reference venv; pass ``db`` for the feature-extraction side."""
        workdir = self._workdir()
        box = LambdaContainer(self.ref_python, self.env(db, **extra), workdir)
        self.started.append(box)
        return box

    def layer(self, opt: Path, db: MariaDB | None = None, **extra: str) -> LambdaContainer:
        """A bare python3.12 seeing only ``opt`` (an unzipped layer), the code and boto3."""
        workdir = self._workdir()
        box = LambdaContainer(self.python312, self.env(db, **extra), workdir, opt=opt, runtime=self.runtime)
        self.started.append(box)
        return box

    def close(self) -> None:
        for box in self.started:
            box.close()


@pytest.fixture
def launch(
    ref_python: Path, python312: Path, runtime_boto3: Path, moto_endpoint: str,
    s3_world: S3World, tmp_path: Path,
) -> Iterator[Launcher]:  # fmt: skip
    launcher = Launcher(ref_python, python312, runtime_boto3, moto_endpoint, s3_world, tmp_path)
    try:
        yield launcher
    finally:
        launcher.close()
