"""Applying a publish plan: upload (through S3 when large), publish, grant, per region."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import AwsError, InputError, LambdaSlimError
from .errors import explain
from .plan import (
    DEFAULT_DEADLINE,
    Progress,
    PublishOutcome,
    PublishPlan,
    RegionClients,
    RegionResult,
)


def _newest(lam: Any, name: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        resp = lam.list_layer_versions(LayerName=name, MaxItems=1)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None
        raise
    versions = resp.get("LayerVersions") or []
    if not versions:
        return None
    newest = max(versions, key=lambda v: int(v["Version"]))
    full: dict[str, Any] = lam.get_layer_version(LayerName=name,
                                                VersionNumber=int(newest["Version"]))
    return full


def _bucket_region(s3: Any, bucket: str) -> str:
    loc = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint") or "us-east-1"
    return {"EU": "eu-west-1"}.get(loc, loc)


def _upload(plan: PublishPlan, s3: Any, region: str, bucket: str, progress: Progress) -> str:
    """Upload the zip once per content hash; return its key after proving the content."""
    from botocore.exceptions import ClientError

    key = plan.s3_key()
    where = _bucket_region(s3, bucket)
    if where != region:
        raise AwsError(
            f"{region}: the S3 bucket {bucket!r} is in {where}, but the layer is published in "
            f"{region}.",
            hint=f"Lambda reads layer content only from a bucket in the layer's region: use a "
                 f"bucket in {region} (--s3-bucket {region}=BUCKET).")
    try:
        head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
            raise
        head = None
    if head is None or not _same_content(plan, head):
        progress(region, f"uploading {plan.zip_bytes:,} bytes to s3://{bucket}/{key}")
        with open(plan.zip_path, "rb") as fh:
            s3.put_object(Bucket=bucket, Key=key, Body=fh, ContentType="application/zip",
                          ChecksumAlgorithm="SHA256", ChecksumSHA256=plan.code_sha256,
                          Metadata={"sha256": plan.sha256_hex})
        head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        if not _same_content(plan, head):
            raise AwsError(
                f"{region}: the object s3://{bucket}/{key} does not match {plan.zip_path} after "
                "upload (size or SHA-256 differs).",
                hint="Rerun; if it persists, something rewrites objects in that bucket.")
    else:
        progress(region, f"s3://{bucket}/{key} already holds this zip")
    return key


def _same_content(plan: PublishPlan, head: Mapping[str, Any]) -> bool:
    if int(head.get("ContentLength", -1)) != plan.zip_bytes:
        return False
    checksum = head.get("ChecksumSHA256")
    if checksum:
        return bool(checksum.split("-")[0] == plan.code_sha256)
    return bool((head.get("Metadata") or {}).get("sha256") == plan.sha256_hex)


def _grant(plan: PublishPlan, lam: Any, version: int) -> str | None:
    from botocore.exceptions import ClientError

    if plan.principal is None:
        return None
    who = "public" if plan.principal == "*" else plan.principal
    sid = "lambda-slim-" + re.sub(r"[^a-zA-Z0-9-_]", "-", who)
    try:
        lam.add_layer_version_permission(
            LayerName=plan.name, VersionNumber=version, StatementId=sid,
            Action="lambda:GetLayerVersion", Principal=plan.principal)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceConflictException":
            raise
    return who


def _publish_region(plan: PublishPlan, clients: RegionClients, data: bytes | None,
                    progress: Progress) -> RegionResult:
    region, lam = clients.region, clients.lambda_client
    action, bucket = "lambda:ListLayerVersions", None
    via = "s3" if plan.via_s3 else "direct"
    try:
        newest = _newest(lam, plan.name)
        same = newest is not None and \
            newest.get("Content", {}).get("CodeSha256") == plan.code_sha256
        if same and not plan.force:
            assert newest is not None
            arn, version = newest["LayerVersionArn"], int(newest["Version"])
            if plan.dry_run:
                return RegionResult(region, "would-skip", arn, version)
            action = "lambda:AddLayerVersionPermission"
            return RegionResult(region, "unchanged", arn, version,
                                permission=_grant(plan, lam, version))
        bucket = plan.buckets.get(region) if plan.via_s3 else None
        s3_uri = f"s3://{bucket}/{plan.s3_key()}" if bucket else None
        if plan.dry_run:
            return RegionResult(region, "would-publish", via=via, s3_uri=s3_uri)
        if bucket:
            if clients.s3_client is None:
                raise AwsError(f"{region}: no S3 client was given for the upload.")
            action = "s3:PutObject"
            key = _upload(plan, clients.s3_client, region, bucket, progress)
            content: dict[str, Any] = {"S3Bucket": bucket, "S3Key": key}
        else:
            content = {"ZipFile": data}
        action = "lambda:PublishLayerVersion"
        progress(region, f"publishing {plan.name} ({via})")
        kwargs: dict[str, Any] = {"LayerName": plan.name, "Content": content}
        if plan.description is not None:
            kwargs["Description"] = plan.description
        if plan.license_info is not None:
            kwargs["LicenseInfo"] = plan.license_info
        if plan.runtimes:
            kwargs["CompatibleRuntimes"] = list(plan.runtimes)
        if plan.architectures:
            kwargs["CompatibleArchitectures"] = list(plan.architectures)
        resp = lam.publish_layer_version(**kwargs)
        got = resp.get("Content", {}).get("CodeSha256")
        arn, version = resp["LayerVersionArn"], int(resp["Version"])
        if got and got != plan.code_sha256:
            raise AwsError(
                f"{region}: Lambda stored content with CodeSha256 {got}, but {plan.zip_path} "
                f"has {plan.code_sha256}; version {version} ({arn}) holds the wrong bytes.",
                hint=f"Delete that version (aws lambda delete-layer-version --layer-name "
                     f"{plan.name} --version-number {version}) and rerun.")
        action = "lambda:AddLayerVersionPermission"
        return RegionResult(region, "published", arn, version, via, s3_uri,
                            permission=_grant(plan, lam, version))
    except LambdaSlimError as exc:
        return RegionResult(region, "failed", via=via, error=exc.message, hint=exc.hint)
    except Exception as exc:
        from botocore.exceptions import BotoCoreError, ClientError

        if not isinstance(exc, (BotoCoreError, ClientError)):
            raise
        e = explain(exc, region, action, bucket)
        return RegionResult(region, "failed", via=via, error=e.message, hint=e.hint)


def publish(plan: PublishPlan, clients: Sequence[RegionClients],
            progress: Progress | None = None,
            deadline: float | None = DEFAULT_DEADLINE) -> PublishOutcome:
    """Publish to every region of the plan concurrently; one region's failure is reported
    in its own result and never hides the others'.

    ``deadline`` bounds the whole publish in seconds: a region still waiting for AWS then
    fails with a timeout. Regions run in daemon threads, so a hung endpoint can neither keep
    the process alive nor swallow Ctrl-C (the wait below is interruptible).
    """
    by_region = {c.region: c for c in clients}
    missing = [r for r in plan.regions if r not in by_region]
    if missing:
        raise InputError(f"No AWS clients given for {', '.join(missing)}.")
    data = None
    if not plan.via_s3 and not plan.dry_run:
        data = plan.zip_path.read_bytes()
    report = progress or (lambda _r, _m: None)
    done: dict[str, RegionResult | BaseException] = {}

    def work(region: str) -> None:
        try:
            done[region] = _publish_region(plan, by_region[region], data, report)
        except BaseException as exc:  # re-raised in the caller's thread below
            done[region] = exc

    threads = [threading.Thread(target=work, args=(r,), daemon=True, name=f"publish-{r}")
               for r in plan.regions]
    for t in threads:
        t.start()
    end = None if deadline is None else time.monotonic() + deadline
    for t in threads:
        t.join(None if end is None else max(0.0, end - time.monotonic()))
    results = []
    for r in plan.regions:
        got = done.get(r)
        if isinstance(got, BaseException):
            raise got
        results.append(got if got is not None else RegionResult(
            r, "failed", via="s3" if plan.via_s3 else "direct",
            error=f"{r}: AWS did not finish within the {deadline:g} s deadline; the layer may "
                  "or may not have been published there.",
            hint="Check the network and --endpoint-url, then rerun (publishing is idempotent); "
                 "--timeout SECONDS allows more time."))
    return PublishOutcome(plan, tuple(results))
