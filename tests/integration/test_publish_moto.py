"""``lambda-slim publish`` against a real moto server on 127.0.0.1 (over HTTP, via boto3)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from lambda_slim.artifact.zipwrite import write_layer_zip
from lambda_slim.cli import main
from lambda_slim.errors import EXIT_AWS, EXIT_OK, EXIT_USAGE
from lambda_slim.sizes import DIRECT_UPLOAD_LIMIT
from tests.servers import reset_moto

pytestmark = pytest.mark.aws


@pytest.fixture
def moto(aws_env: dict[str, str], moto_endpoint: str) -> Iterator[str]:
    reset_moto(moto_endpoint)
    yield moto_endpoint
    reset_moto(moto_endpoint)


def _client(service: str, region: str, endpoint: str) -> object:
    return boto3.client(service, region_name=region, endpoint_url=endpoint)


def _layer_zip(tmp_path: Path, name: str = "layer", payload: bytes = b"x = 1\n",
               runtime: str | None = "python3.12", arch: str = "x86_64") -> Path:
    tree = tmp_path / f"{name}-tree"
    (tree / "pkg").mkdir(parents=True)
    (tree / "pkg" / "__init__.py").write_bytes(payload)
    z = write_layer_zip(tree, tmp_path / f"{name}.zip", level=0).path
    if runtime:
        (tmp_path / f"{name}.manifest.json").write_text(json.dumps(
            {"target": {"runtime": runtime, "arch": arch, "glibc": "2.34"}}))
    return z


@pytest.fixture(scope="module")
def big_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~55 MB of incompressible data: over the direct upload limit, stored (fast to write)."""
    d = tmp_path_factory.mktemp("big")
    z = _layer_zip(d, "big", os.urandom(55 * 1000 * 1000))
    assert z.stat().st_size > DIRECT_UPLOAD_LIMIT
    return z


def _code_sha(z: Path) -> str:
    return base64.b64encode(hashlib.sha256(z.read_bytes()).digest()).decode()


def _publish(*args: str) -> tuple[int, dict[str, object]]:
    out = Path(os.environ["LS_TEST_JSON"])
    if out.exists():
        out.unlink()
    code = main(["publish", *args, "--json", str(out)])
    return code, (json.loads(out.read_text()) if out.exists() else {})


@pytest.fixture(autouse=True)
def _json_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LS_TEST_JSON", str(tmp_path / "publish.json"))


def _results(doc: dict[str, object]) -> dict[str, dict[str, object]]:
    results = doc["results"]
    assert isinstance(results, list)
    return {r["region"]: r for r in results}


def test_direct_publish_then_noop_then_force(moto: str, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    z = _layer_zip(tmp_path)
    code, doc = _publish(str(z), "--name", "deps", "--region", "us-east-1",
                         "--description", "test deps", "--license-info", "MIT")
    assert code == EXIT_OK
    r = _results(doc)["us-east-1"]
    assert r["status"] == "published" and r["via"] == "direct" and r["version"] == 1
    assert r["arn"] == "arn:aws:lambda:us-east-1:123456789012:layer:deps:1"
    assert r["arn"] in capsys.readouterr().out
    lam = _client("lambda", "us-east-1", moto)
    got = lam.get_layer_version(LayerName="deps", VersionNumber=1)  # type: ignore[attr-defined]
    assert got["Content"]["CodeSha256"] == _code_sha(z) == doc["code_sha256"]
    assert got["CompatibleRuntimes"] == ["python3.12"]  # from layer.manifest.json
    assert got["CompatibleArchitectures"] == ["x86_64"]
    assert got["Description"] == "test deps" and got["LicenseInfo"] == "MIT"

    code, doc = _publish(str(z), "--name", "deps", "--region", "us-east-1")
    assert code == EXIT_OK
    r = _results(doc)["us-east-1"]
    assert (r["status"], r["version"]) == ("unchanged", 1)
    assert "unchanged" in capsys.readouterr().out
    versions = lam.list_layer_versions(LayerName="deps")["LayerVersions"]  # type: ignore[attr-defined]
    assert len(versions) == 1

    code, doc = _publish(str(z), "--name", "deps", "--region", "us-east-1", "--force")
    assert code == EXIT_OK
    assert _results(doc)["us-east-1"]["version"] == 2


def test_changed_zip_makes_a_new_version_and_dry_run_publishes_nothing(
        moto: str, tmp_path: Path) -> None:
    z1 = _layer_zip(tmp_path, "one", b"a = 1\n")
    z2 = _layer_zip(tmp_path, "two", b"a = 2\n")
    assert _publish(str(z1), "--name", "deps", "--region", "us-east-1")[0] == EXIT_OK
    code, doc = _publish(str(z2), "--name", "deps", "--region", "us-east-1", "--dry-run")
    assert code == EXIT_OK and _results(doc)["us-east-1"]["status"] == "would-publish"
    code, doc = _publish(str(z1), "--name", "deps", "--region", "us-east-1", "--dry-run")
    assert _results(doc)["us-east-1"]["status"] == "would-skip"
    code, doc = _publish(str(z2), "--name", "deps", "--region", "us-east-1")
    assert _results(doc)["us-east-1"]["version"] == 2


def test_multi_region_concurrently(moto: str, tmp_path: Path) -> None:
    z = _layer_zip(tmp_path, runtime="python3.11", arch="arm64")
    regions = ["us-east-1", "eu-west-1", "ap-southeast-2"]
    args = [str(z), "--name", "deps"] + [a for r in regions for a in ("--region", r)]
    code, doc = _publish(*args)
    assert code == EXIT_OK
    res = _results(doc)
    assert sorted(res) == sorted(regions)
    for region in regions:
        assert res[region]["arn"] == f"arn:aws:lambda:{region}:123456789012:layer:deps:1"
        lam = _client("lambda", region, moto)
        got = lam.get_layer_version(LayerName="deps", VersionNumber=1)  # type: ignore[attr-defined]
        assert got["CompatibleArchitectures"] == ["arm64"]


def test_big_zip_goes_through_s3(moto: str, big_zip: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    s3 = _client("s3", "us-east-1", moto)
    s3.create_bucket(Bucket="artifacts")  # type: ignore[attr-defined]
    code, doc = _publish(str(big_zip), "--name", "big", "--region", "us-east-1",
                         "--s3-bucket", "artifacts")
    assert code == EXIT_OK, capsys.readouterr().err
    r = _results(doc)["us-east-1"]
    sha_hex = hashlib.sha256(big_zip.read_bytes()).hexdigest()
    assert r["via"] == "s3" and r["s3_uri"] == f"s3://artifacts/lambda-slim/big/{sha_hex}.zip"
    head = s3.head_object(Bucket="artifacts", Key=f"lambda-slim/big/{sha_hex}.zip")  # type: ignore[attr-defined]
    assert head["ContentLength"] == big_zip.stat().st_size
    lam = _client("lambda", "us-east-1", moto)
    got = lam.get_layer_version(LayerName="big", VersionNumber=1)  # type: ignore[attr-defined]
    assert got["Content"]["CodeSha256"] == _code_sha(big_zip)
    assert "uploading" in capsys.readouterr().err
    # idempotent: no new version, no second upload
    code, doc = _publish(str(big_zip), "--name", "big", "--region", "us-east-1",
                         "--s3-bucket", "artifacts")
    assert code == EXIT_OK and _results(doc)["us-east-1"]["status"] == "unchanged"
    assert "uploading" not in capsys.readouterr().err
    # --force publishes again but reuses the verified object
    code, doc = _publish(str(big_zip), "--name", "big", "--region", "us-east-1",
                         "--s3-bucket", "artifacts", "--force")
    assert _results(doc)["us-east-1"]["version"] == 2
    assert "already holds this zip" in capsys.readouterr().err


def test_big_zip_without_bucket_is_a_usage_error(moto: str, big_zip: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _publish(str(big_zip), "--name", "big", "--region", "us-east-1")
    assert code == EXIT_USAGE and doc == {}
    err = capsys.readouterr().err
    assert "must go through S3" in err and "--s3-bucket" in err


def test_missing_bucket(moto: str, big_zip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _publish(str(big_zip), "--name", "big", "--region", "us-east-1",
                         "--s3-bucket", "no-such-bucket")
    assert code == EXIT_AWS
    r = _results(doc)["us-east-1"]
    assert r["status"] == "failed" and "does not exist" in str(r["error"])
    err = capsys.readouterr().err
    assert "no-such-bucket" in err and "aws s3 mb" in err


def test_bucket_in_another_region(moto: str, big_zip: Path) -> None:
    s3 = _client("s3", "eu-west-1", moto)
    s3.create_bucket(Bucket="eu-artifacts",  # type: ignore[attr-defined]
                     CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    code, doc = _publish(str(big_zip), "--name", "big", "--region", "us-east-1",
                         "--s3-bucket", "eu-artifacts")
    assert code == EXIT_AWS
    r = _results(doc)["us-east-1"]
    assert "is in eu-west-1" in str(r["error"]) and "us-east-1=BUCKET" in str(r["hint"])


def test_one_region_failing_does_not_hide_the_others(moto: str, big_zip: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    _client("s3", "us-east-1", moto).create_bucket(Bucket="use1")  # type: ignore[attr-defined]
    code, doc = _publish(str(big_zip), "--name", "big", "--region", "us-east-1",
                         "--region", "eu-west-1", "--s3-bucket", "us-east-1=use1",
                         "--s3-bucket", "eu-west-1=missing-euw1")
    assert code == EXIT_AWS
    res = _results(doc)
    assert res["us-east-1"]["status"] == "published"
    assert res["eu-west-1"]["status"] == "failed"
    captured = capsys.readouterr()
    assert "arn:aws:lambda:us-east-1:123456789012:layer:big:1" in captured.out
    assert "eu-west-1: failed" in captured.err


def test_public_and_principal_permissions(moto: str, tmp_path: Path) -> None:
    z = _layer_zip(tmp_path)
    assert _publish(str(z), "--name", "deps", "--region", "us-east-1", "--public")[0] == 0
    lam = _client("lambda", "us-east-1", moto)
    policy = json.loads(lam.get_layer_version_policy(  # type: ignore[attr-defined]
        LayerName="deps", VersionNumber=1)["Policy"])
    (stmt,) = policy["Statement"]
    assert stmt["Sid"] == "lambda-slim-public" and stmt["Action"] == "lambda:GetLayerVersion"
    code, doc = _publish(str(z), "--name", "deps", "--region", "us-east-1",
                         "--principal", "210987654321")
    assert code == EXIT_OK
    assert _results(doc)["us-east-1"]["permission"] == "210987654321"
    policy = json.loads(lam.get_layer_version_policy(  # type: ignore[attr-defined]
        LayerName="deps", VersionNumber=1)["Policy"])
    assert {s["Sid"] for s in policy["Statement"]} == {"lambda-slim-public",
                                                       "lambda-slim-210987654321"}


def test_endpoint_url_flag(moto: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    z = _layer_zip(tmp_path)
    code, doc = _publish(str(z), "--name", "deps", "--region", "eu-central-1",
                         "--endpoint-url", moto)
    assert code == EXIT_OK and _results(doc)["eu-central-1"]["version"] == 1


def test_region_from_environment(moto: str, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-north-1")
    monkeypatch.delenv("AWS_REGION", raising=False)
    code, doc = _publish(str(_layer_zip(tmp_path)), "--name", "deps")
    assert code == EXIT_OK and list(_results(doc)) == ["eu-north-1"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--name", "my layer"], "Invalid layer name"),
        (["--name", "x" * 141], "Invalid layer name"),
        (["--name", "ok", "--region", "US-EAST-1"], "is not an AWS region"),
        (["--name", "ok", "--compatible-runtime", "python3.21"], "Unknown runtime"),
        (["--name", "ok", "--compatible-architecture", "amd64"], "Unknown architecture"),
        (["--name", "ok", "--public", "--principal", "123456789012"], "mutually exclusive"),
        (["--name", "ok", "--principal", "bob"], "not an AWS account ID"),
        (["--name", "ok", "--description", "d" * 257], "256"),
        (["--name", "ok", "--s3-bucket", "Bad_Bucket"], "not a valid S3 bucket"),
        (["--name", "ok", "--report", "/nonexistent/report.json"], "does not exist"),
    ],
)
def test_invalid_input_is_refused_before_any_call(
        moto: str, tmp_path: Path, args: list[str], words: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    z = _layer_zip(tmp_path)
    if "--region" not in args:
        args = [*args, "--region", "us-east-1"]
    code, doc = _publish(str(z), *args)
    assert code == EXIT_USAGE and doc == {}
    assert words in capsys.readouterr().err
    lam = _client("lambda", "us-east-1", moto)
    assert lam.list_layers()["Layers"] == []  # type: ignore[attr-defined]


def test_missing_zip(moto: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = _publish(str(tmp_path / "nope.zip"), "--name", "x", "--region", "us-east-1")
    assert code == EXIT_USAGE and "does not exist" in capsys.readouterr().err


def test_report_supplies_runtime(moto: str, tmp_path: Path) -> None:
    z = _layer_zip(tmp_path, runtime=None)
    report = tmp_path / "build-report.json"
    report.write_text(json.dumps({"target": {"runtime": "python3.13", "arch": "arm64"}}))
    code, doc = _publish(str(z), "--name", "deps", "--region", "us-east-1",
                         "--report", str(report))
    assert code == EXIT_OK
    assert doc["compatible_runtimes"] == ["python3.13"]
    assert doc["compatible_architectures"] == ["arm64"]


def test_no_credentials(moto: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                        capsys: pytest.CaptureFixture[str]) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code, doc = _publish(str(_layer_zip(tmp_path)), "--name", "deps", "--region", "us-east-1")
    assert code == EXIT_AWS
    assert "no AWS credentials found" in str(_results(doc)["us-east-1"]["error"])
    assert "aws configure" in capsys.readouterr().err


def _set_auth(endpoint: str, count: str) -> None:
    req = urllib.request.Request(endpoint + "/moto-api/reset-auth", data=count.encode(),
                                 method="POST",
                                 headers={"Content-Type": "application/octet-stream"})
    urllib.request.urlopen(req, timeout=10).read()


def test_rejected_credentials(moto: str, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    """With IAM enforcement on, moto rejects the unknown test key like AWS would.

    (A real "access denied" for a known key with too few permissions cannot be produced with
    moto 5.x: its server fails the signature of every signed Lambda GET. The access-denied
    explanation is covered in tests/unit/test_publish.py with botocore's ClientError.)
    """
    z = _layer_zip(tmp_path)
    _set_auth(moto, "0")
    try:
        code, doc = _publish(str(z), "--name", "deps", "--region", "us-east-1",
                             "--region", "eu-west-1")
    finally:
        _set_auth(moto, "inf")
    assert code == EXIT_AWS
    for r in _results(doc).values():
        assert r["status"] == "failed"
        assert "AWS rejected the credentials (InvalidClientTokenId" in str(r["error"])
    assert "aws sso login" in capsys.readouterr().err


@pytest.mark.parametrize("checksum", [False, True])
def test_an_s3_object_of_the_same_size_but_other_content_is_replaced(
        moto: str, big_zip: Path, checksum: bool, capsys: pytest.CaptureFixture[str]) -> None:
    """Someone left other bytes of the same length at the key: never taken as this zip."""
    s3 = _client("s3", "us-east-1", moto)
    s3.create_bucket(Bucket="artifacts")  # type: ignore[attr-defined]
    sha_hex = hashlib.sha256(big_zip.read_bytes()).hexdigest()
    key = f"lambda-slim/big/{sha_hex}.zip"
    other = bytearray(big_zip.read_bytes())
    other[len(other) // 2] ^= 0xFF  # same size, one byte different
    extra = {"ChecksumAlgorithm": "SHA256"} if checksum else {}
    s3.put_object(Bucket="artifacts", Key=key, Body=bytes(other), **extra)  # type: ignore[attr-defined]
    code, _doc = _publish(str(big_zip), "--name", "big", "--region", "us-east-1",
                          "--s3-bucket", "artifacts")
    err = capsys.readouterr().err
    assert code == EXIT_OK, err
    assert "uploading" in err and "already holds" not in err
    body = s3.get_object(Bucket="artifacts", Key=key)["Body"].read()  # type: ignore[attr-defined]
    assert hashlib.sha256(body).hexdigest() == sha_hex  # the object is this zip now
    lam = _client("lambda", "us-east-1", moto)
    got = lam.get_layer_version(LayerName="big", VersionNumber=1)  # type: ignore[attr-defined]
    assert got["Content"]["CodeSha256"] == _code_sha(big_zip)
