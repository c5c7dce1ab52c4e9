"""publish's planning and error explanations, with fake clients (no network)."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, NoCredentialsError

from lambda_slim.errors import EXIT_AWS, EXIT_OK, EXIT_USAGE, InputError
from lambda_slim.publish import RegionClients, explain, plan_publish, publish
from tests.regressions.zipcraft import make_zip


def _zip(tmp_path: Path, data: bytes | None = None) -> Path:
    """A small valid layer zip (publish refuses an empty or unreadable one)."""
    z = tmp_path / "layer.zip"
    z.write_bytes(data if data is not None else make_zip([("python/pkg.py", b"x = 1\n")]))
    return z


def _client_error(code: str, message: str = "nope", status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


class FakeLambda:
    """Just enough of the Lambda API; records calls, optionally fails one operation."""

    def __init__(self, region: str, fail: dict[str, Exception] | None = None,
                 existing_sha: str | None = None,
                 barrier: threading.Barrier | None = None) -> None:
        self.region = region
        self.barrier = barrier
        self.fail = fail or {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.versions: list[dict[str, Any]] = []
        self.threads: set[str] = set()
        if existing_sha:
            self._add(existing_sha)

    def _add(self, sha: str) -> dict[str, Any]:
        v = len(self.versions) + 1
        rec = {"Version": v, "Content": {"CodeSha256": sha},
               "LayerVersionArn": f"arn:aws:lambda:{self.region}:1:layer:deps:{v}"}
        self.versions.append(rec)
        return rec

    def _call(self, op: str, kw: dict[str, Any]) -> None:
        self.calls.append((op, kw))
        self.threads.add(threading.current_thread().name)
        if op == "list" and self.barrier is not None:
            self.barrier.wait()  # every region must be in flight at once
        if op in self.fail:
            raise self.fail[op]

    def list_layer_versions(self, **kw: Any) -> dict[str, Any]:
        self._call("list", kw)
        return {"LayerVersions": [{"Version": v["Version"]} for v in self.versions[::-1]]}

    def get_layer_version(self, **kw: Any) -> dict[str, Any]:
        self._call("get", kw)
        return self.versions[int(kw["VersionNumber"]) - 1]

    def publish_layer_version(self, **kw: Any) -> dict[str, Any]:
        self._call("publish", kw)
        data = kw["Content"]["ZipFile"]
        return self._add(base64.b64encode(hashlib.sha256(data).digest()).decode())

    def add_layer_version_permission(self, **kw: Any) -> dict[str, Any]:
        self._call("permission", kw)
        return {}


def test_plan_hashes_and_reads_manifest(tmp_path: Path) -> None:
    z = _zip(tmp_path)
    (tmp_path / "layer.manifest.json").write_text(json.dumps(
        {"target": {"runtime": "python3.11", "arch": "arm64"}}))
    plan = plan_publish(z, "deps", ["us-east-1"])
    assert plan.runtimes == ("python3.11",) and plan.architectures == ("arm64",)
    assert plan.defaults_from == "layer.manifest.json"
    assert plan.code_sha256 == base64.b64encode(hashlib.sha256(z.read_bytes()).digest()).decode()
    assert not plan.via_s3 and plan.notes == ()
    flags = plan_publish(z, "deps", ["us-east-1"], runtimes=["python3.12", "python3.13"])
    assert flags.runtimes == ("python3.12", "python3.13") and flags.architectures == ("arm64",)


def test_plan_without_manifest_notes_missing_runtime(tmp_path: Path) -> None:
    plan = plan_publish(_zip(tmp_path), "deps", ["us-east-1"])
    assert plan.runtimes == () and "no compatible runtime" in plan.notes[0]


def test_bucket_specs(tmp_path: Path) -> None:
    z = _zip(tmp_path)
    plan = plan_publish(z, "deps", ["us-east-1", "eu-west-1"],
                        s3_buckets=["shared", "eu-west-1=eu-bucket"])
    assert plan.buckets == {"us-east-1": "shared", "eu-west-1": "eu-bucket"}
    with pytest.raises(InputError, match="not being published to"):
        plan_publish(z, "deps", ["us-east-1"], s3_buckets=["eu-west-1=b-b-b"])


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"name": "has space"}, "Invalid layer name"),
        ({"name": "a.b"}, "Invalid layer name"),
        ({"regions": []}, "No region"),
        ({"regions": ["us-east-1", "us-east-1"]}, "given twice"),
        ({"license_info": "x" * 513}, "512"),
        ({"runtimes": ["pyhton3.12"]}, "Did you mean 'python3.12'"),
        ({"principal": "12345"}, "not an AWS account ID"),
    ],
)
def test_plan_refuses_bad_input(tmp_path: Path, kwargs: dict[str, Any], words: str) -> None:
    args: dict[str, Any] = {"name": "deps", "regions": ["us-east-1"]}
    args.update(kwargs)
    with pytest.raises(InputError) as info:
        plan_publish(_zip(tmp_path), args.pop("name"), args.pop("regions"), **args)
    assert words in str(info.value) and info.value.exit_code == EXIT_USAGE


def test_layer_arn_is_a_valid_name(tmp_path: Path) -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:layer:deps"
    assert plan_publish(_zip(tmp_path), arn, ["us-east-1"]).s3_key().startswith(
        "lambda-slim/deps/")


def test_regions_run_concurrently_and_failures_stay_separate(tmp_path: Path) -> None:
    plan = plan_publish(_zip(tmp_path), "deps", ["us-east-1", "eu-west-1", "ap-south-1"],
                        principal="*")
    barrier = threading.Barrier(3, timeout=10)
    good = FakeLambda("us-east-1", barrier=barrier)
    throttled = FakeLambda("eu-west-1", fail={"publish": _client_error(
        "TooManyRequestsException", "Rate exceeded", 429)}, barrier=barrier)
    denied = FakeLambda("ap-south-1", fail={"list": _client_error(
        "AccessDeniedException", "User is not authorized", 403)}, barrier=barrier)
    outcome = publish(plan, [RegionClients(f.region, f) for f in (good, throttled, denied)])
    res = {r.region: r for r in outcome.results}
    assert [r.region for r in outcome.results] == ["us-east-1", "eu-west-1", "ap-south-1"]
    assert res["us-east-1"].status == "published" and res["us-east-1"].permission == "public"
    assert ("permission", {"LayerName": "deps", "VersionNumber": 1,
                           "StatementId": "lambda-slim-public",
                           "Action": "lambda:GetLayerVersion", "Principal": "*"}) in good.calls
    assert "throttling lambda:PublishLayerVersion even after retries" in str(
        res["eu-west-1"].error)
    assert "access denied for lambda:ListLayerVersions" in str(res["ap-south-1"].error)
    assert "Grant the caller lambda:ListLayerVersions" in str(res["ap-south-1"].hint)
    assert outcome.exit_code == EXIT_AWS
    assert len(good.threads | throttled.threads | denied.threads) == 3


def test_unchanged_skips_publish_unless_forced(tmp_path: Path) -> None:
    z = _zip(tmp_path)
    plan = plan_publish(z, "deps", ["us-east-1"])
    fake = FakeLambda("us-east-1", existing_sha=plan.code_sha256)
    outcome = publish(plan, [RegionClients("us-east-1", fake)])
    assert outcome.results[0].status == "unchanged" and outcome.exit_code == EXIT_OK
    assert [c[0] for c in fake.calls] == ["list", "get"]
    forced = plan_publish(z, "deps", ["us-east-1"], force=True)
    assert publish(forced, [RegionClients("us-east-1", fake)]).results[0].version == 2


def test_dry_run_only_reads(tmp_path: Path) -> None:
    plan = plan_publish(_zip(tmp_path), "deps", ["us-east-1"], dry_run=True)
    fake = FakeLambda("us-east-1")
    (r,) = publish(plan, [RegionClients("us-east-1", fake)]).results
    assert r.status == "would-publish" and r.via == "direct"
    assert [c[0] for c in fake.calls] == ["list"]


def test_wrong_code_sha_from_lambda_is_an_error(tmp_path: Path) -> None:
    plan = plan_publish(_zip(tmp_path), "deps", ["us-east-1"])
    fake = FakeLambda("us-east-1")
    fake.publish_layer_version = lambda **kw: {  # type: ignore[method-assign]
        "Version": 1, "LayerVersionArn": "arn:x:1", "Content": {"CodeSha256": "AAAA"}}
    (r,) = publish(plan, [RegionClients("us-east-1", fake)]).results
    assert r.status == "failed" and "holds the wrong bytes" in str(r.error)


def test_missing_clients(tmp_path: Path) -> None:
    plan = plan_publish(_zip(tmp_path), "deps", ["us-east-1"])
    with pytest.raises(InputError, match="No AWS clients"):
        publish(plan, [])


@pytest.mark.parametrize(
    ("exc", "action", "words"),
    [
        (NoCredentialsError(), "lambda:ListLayerVersions", "no AWS credentials found"),
        (_client_error("ExpiredTokenException", "expired", 403), "x", "rejected the credentials"),
        (_client_error("AccessDenied", "denied", 403), "s3:PutObject", "access denied"),
        (_client_error("ThrottlingException", "slow down", 400), "x", "throttling"),
        (_client_error("SlowDown", "slow down", 503), "s3:PutObject", "throttling"),
        (_client_error("NoSuchBucket", "missing", 404), "s3:GetBucketLocation",
         "does not exist"),
        (_client_error("PermanentRedirect", "elsewhere", 301), "s3:PutObject",
         "in another region"),
        (_client_error("InvalidParameterValueException", "Invalid layer name", 400), "x",
         "Lambda refused the request: Invalid layer name"),
        (_client_error("CodeStorageExceededException", "full", 400), "x", "storage is full"),
        (_client_error("403", '<?xml version="1.0"?><ErrorResponse><Error><Code>'
                       "AccessDeniedException</Code><Message>no</Message></Error>"
                       "</ErrorResponse>", 403), "lambda:PublishLayerVersion",
         "access denied for lambda:PublishLayerVersion (no)"),
    ],
)
def test_explain(exc: Exception, action: str, words: str) -> None:
    err = explain(exc, "eu-west-1", action, bucket="b")
    assert words in err.message and err.message.startswith("eu-west-1")
    assert err.exit_code == EXIT_AWS
    assert err.hint


def test_cli_help_teaches(capsys: pytest.CaptureFixture[str]) -> None:
    from lambda_slim.cli import main

    assert main(["publish", "--help"]) == 0
    text = capsys.readouterr().out
    for needle in ("Exit codes", "--s3-bucket", "idempotent", "AWS_ENDPOINT_URL",
                   "lambda-slim publish layer.zip --name"):
        assert needle in text
