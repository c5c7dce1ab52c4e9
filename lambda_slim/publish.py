"""Publishing a layer zip with boto3: plan once, then publish to each region concurrently.

The boto3 clients are passed in (built by the CLI, or by tests against a moto server); this
module never reads the environment or credentials itself. Publishing is idempotent: when the
newest version of the layer already has the zip's CodeSha256, nothing is published.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .artifact.manifest import manifest_path, read_target_json
from .artifact.zipread import read_zip_listing, verify_entry
from .errors import EXIT_AWS, EXIT_OK, AwsError, InputError, LambdaSlimError
from .sizes import DIRECT_UPLOAD_LIMIT
from .suggest import did_you_mean
from .target.runtimes import ARCHES, RUNTIMES

SCHEMA = "lambda-slim/publish/1"
_LAYER_NAME = re.compile(
    r"^(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+|[a-zA-Z0-9-_]+)$"
)
_REGION = re.compile(r"^[a-z]{2,}(-[a-z0-9]+)+-\d+$")
_PRINCIPAL = re.compile(r"^(\d{12}|\*|arn:aws[a-zA-Z-]*:iam::\d{12}:root)$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_OTHER_RUNTIME = re.compile(r"^(nodejs|java|dotnet|ruby|provided|go)[a-z0-9.]*$")
#: Every AWS call of a publish together must finish within this many seconds (--timeout).
DEFAULT_DEADLINE = 900.0

#: (region, message) progress events for the CLI; tests may ignore them.
Progress = Callable[[str, str], None]


@dataclass(frozen=True)
class RegionClients:
    """The boto3 clients for one region (``s3`` only needed for uploads through S3)."""

    region: str
    lambda_client: Any
    s3_client: Any | None = None


@dataclass(frozen=True)
class PublishPlan:
    zip_path: Path
    zip_bytes: int
    sha256_hex: str
    code_sha256: str  # base64 of the raw digest, as Lambda reports CodeSha256
    name: str
    regions: tuple[str, ...]
    buckets: Mapping[str, str]  # region -> bucket, only for uploads through S3
    runtimes: tuple[str, ...]
    architectures: tuple[str, ...]
    description: str | None = None
    license_info: str | None = None
    principal: str | None = None  # "*" for --public
    force: bool = False
    dry_run: bool = False
    defaults_from: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def via_s3(self) -> bool:
        return self.zip_bytes > DIRECT_UPLOAD_LIMIT

    def s3_key(self) -> str:
        return f"lambda-slim/{self.name.rsplit(':', 1)[-1]}/{self.sha256_hex}.zip"


@dataclass(frozen=True)
class RegionResult:
    region: str
    status: str  # published | unchanged | would-publish | would-skip | failed
    arn: str | None = None
    version: int | None = None
    via: str | None = None  # direct | s3
    s3_uri: str | None = None
    permission: str | None = None
    error: str | None = None
    hint: str | None = None

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def to_json(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in (
            "region", "status", "arn", "version", "via", "s3_uri", "permission", "error",
            "hint")}


@dataclass(frozen=True)
class PublishOutcome:
    plan: PublishPlan
    results: tuple[RegionResult, ...] = field(default=())

    @property
    def exit_code(self) -> int:
        return EXIT_OK if all(r.ok for r in self.results) else EXIT_AWS

    def to_json(self) -> dict[str, object]:
        p = self.plan
        return {
            "schema": SCHEMA, "zip": str(p.zip_path), "zip_bytes": p.zip_bytes,
            "sha256": p.sha256_hex, "code_sha256": p.code_sha256, "name": p.name,
            "compatible_runtimes": list(p.runtimes),
            "compatible_architectures": list(p.architectures),
            "dry_run": p.dry_run, "results": [r.to_json() for r in self.results],
            "exit_code": self.exit_code,
        }


# --- planning (local, no AWS calls) -------------------------------------------------------


def _validate(name: str, regions: Sequence[str], description: str | None,
              license_info: str | None, principal: str | None) -> None:
    if not (1 <= len(name) <= 140) or not _LAYER_NAME.match(name):
        raise InputError(
            f"Invalid layer name {name!r}: Lambda allows 1-140 letters, digits, '-' and '_' "
            "(or a full layer ARN).",
            hint="For example --name scoring-deps (no spaces, dots or slashes).",
        )
    if not regions:
        raise InputError("No region to publish to.",
                         hint="Pass --region (repeatable), e.g. --region eu-west-1, or set "
                              "AWS_REGION / AWS_DEFAULT_REGION.")
    for r in regions:
        if not _REGION.match(r):
            raise InputError(f"{r!r} is not an AWS region name.",
                             hint="Regions look like us-east-1 or eu-west-1 (lower case).")
    arn_region = name.split(":")[3] if name.startswith("arn:") else None
    others = [r for r in regions if arn_region is not None and r != arn_region]
    if others:
        raise InputError(
            f"--name {name} is a layer ARN in {arn_region}, but it would be published in "
            f"{', '.join(others)}.",
            hint="A layer ARN names one region: pass --region " + str(arn_region)
                 + ", or give the plain layer name (the part after 'layer:') to publish to "
                 "several regions.")
    if len(set(regions)) != len(regions):
        raise InputError("A --region is given twice.", hint="Pass each region once.")
    if description is not None and len(description) > 256:
        raise InputError(f"--description is {len(description)} characters; Lambda allows 256.",
                         hint="Shorten it.")
    if license_info is not None and len(license_info) > 512:
        raise InputError(f"--license-info is {len(license_info)} characters; Lambda allows "
                         "512.", hint="Use an SPDX identifier (MIT) or a URL.")
    if principal is not None and not _PRINCIPAL.match(principal):
        raise InputError(f"--principal {principal!r} is not an AWS account ID.",
                         hint="Use a 12-digit account ID such as 123456789012, or --public.")


def _check_runtimes(runtimes: Sequence[str], arches: Sequence[str]) -> None:
    for rt in runtimes:
        if rt not in RUNTIMES and not _OTHER_RUNTIME.match(rt):
            raise InputError(f"Unknown runtime {rt!r} for --compatible-runtime."
                             + did_you_mean(rt, list(RUNTIMES)),
                             hint=f"Use Lambda's names: {', '.join(RUNTIMES)}.")
    if len(runtimes) > 15:
        raise InputError("Lambda accepts at most 15 --compatible-runtime values.")
    for a in arches:
        if a not in ARCHES:
            raise InputError(f"Unknown architecture {a!r} for --compatible-architecture."
                             + did_you_mean(a, list(ARCHES)),
                             hint="Use x86_64 or arm64 (Lambda's names).")


def _buckets(regions: Sequence[str], specs: Sequence[str]) -> dict[str, str]:
    """``--s3-bucket B`` (every region) or ``--s3-bucket REGION=B`` (one region)."""
    default: str | None = None
    out: dict[str, str] = {}
    for spec in specs:
        region, sep, bucket = spec.rpartition("=")
        if not sep:
            default = bucket
        elif region not in regions:
            raise InputError(f"--s3-bucket {spec!r} names region {region!r}, which is not "
                             "being published to.", hint="Add --region " + region + " or drop it.")
        else:
            out[region] = bucket
    for b in {*out.values(), *([default] if default else [])}:
        if not _BUCKET.match(b):
            raise InputError(f"{b!r} is not a valid S3 bucket name.",
                             hint="Bucket names are 3-63 lower-case letters, digits, '.' and '-'.")
    for r in regions:
        if r not in out and default:
            out[r] = default
    return out


def hash_zip(path: Path) -> tuple[int, str, str]:
    """(size, sha256 hex, base64 sha256 as Lambda's CodeSha256)."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return size, h.hexdigest(), base64.b64encode(h.digest()).decode()


def validate_zip(zip_path: Path) -> None:
    """Read the zip with check's safe reader and prove every entry's data, before any AWS
    call: a text file, a truncated or hostile zip (``..`` names, bombs) or an empty layer is
    refused (InputError), never published."""
    listing = read_zip_listing(zip_path)
    with open(zip_path, "rb") as fh:
        for entry in listing.files:
            verify_entry(listing, entry, fh)
    if not listing.files:
        raise InputError(
            f"{zip_path} holds no files: publishing it would create an empty layer.",
            hint="Rebuild it with `lambda-slim build` from a requirements file that lists "
                 "packages, and check it with `lambda-slim check` first.")


def plan_publish(
    zip_path: Path,
    name: str,
    regions: Sequence[str],
    *,
    s3_buckets: Sequence[str] = (),
    description: str | None = None,
    license_info: str | None = None,
    runtimes: Sequence[str] = (),
    architectures: Sequence[str] = (),
    report: Path | None = None,
    principal: str | None = None,
    force: bool = False,
    dry_run: bool = False,
) -> PublishPlan:
    """Validate everything that can be validated without AWS and hash the zip."""
    _validate(name, regions, description, license_info, principal)
    if not zip_path.is_file():
        raise InputError(f"{zip_path} does not exist or is not a file.",
                         hint="Build it first: lambda-slim build … -o layer.zip")
    if zip_path.suffix.lower() != ".zip":
        raise InputError(f"{zip_path} is not a .zip file.",
                         hint="Publish the layer zip written by `lambda-slim build`.")
    notes: list[str] = []
    defaults_from = None
    source = report if report is not None else manifest_path(zip_path)
    if report is not None and not report.is_file():
        raise InputError(f"--report {report} does not exist.",
                         hint="Pass the JSON report written by `lambda-slim build --json`.")
    target = read_target_json(source)
    if target is not None and (not runtimes or not architectures):
        defaults_from = source.name
        runtimes = runtimes or (target[0],)
        architectures = architectures or (target[1],)
    if not runtimes:
        notes.append("no compatible runtime recorded (no build manifest beside the zip); "
                     "pass --compatible-runtime to make the layer easy to find")
    _check_runtimes(runtimes, architectures)
    validate_zip(zip_path)
    size, hexdigest, b64 = hash_zip(zip_path)
    buckets = _buckets(regions, s3_buckets)
    if size > DIRECT_UPLOAD_LIMIT:
        missing = [r for r in regions if r not in buckets]
        if missing:
            raise InputError(
                f"{zip_path} is {size:,} bytes, over the {DIRECT_UPLOAD_LIMIT:,}-byte limit for "
                "a direct upload, so it must go through S3, and no bucket is given for "
                + ", ".join(missing) + ".",
                hint="Pass --s3-bucket BUCKET (a bucket in the same region as the layer), or "
                     "--s3-bucket REGION=BUCKET once per region.",
            )
    return PublishPlan(
        zip_path=zip_path, zip_bytes=size, sha256_hex=hexdigest, code_sha256=b64, name=name,
        regions=tuple(regions), buckets=buckets, runtimes=tuple(dict.fromkeys(runtimes)),
        architectures=tuple(dict.fromkeys(architectures)), description=description,
        license_info=license_info, principal=principal, force=force, dry_run=dry_run,
        defaults_from=defaults_from, notes=tuple(notes),
    )


# --- AWS errors in plain words --------------------------------------------------------------

_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
           "AuthorizationError"}
_BAD_CREDS = {"UnrecognizedClientException", "InvalidClientTokenId", "InvalidAccessKeyId",
              "SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException",
              "InvalidSignatureException", "RequestExpired"}
_THROTTLED = {"Throttling", "ThrottlingException", "TooManyRequestsException", "SlowDown",
              "RequestLimitExceeded", "ProvisionedThroughputExceededException"}
_WRONG_REGION = {"PermanentRedirect", "AuthorizationHeaderMalformed",
                 "IllegalLocationConstraintException", "IncorrectEndpoint"}


def explain(exc: Exception, region: str, action: str, bucket: str | None = None) -> AwsError:
    """Turn a botocore exception into an :class:`AwsError` that says what to do."""
    from botocore.exceptions import (
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
    )

    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return AwsError(
            f"{region}: no AWS credentials found for {action}.",
            hint="Run `aws configure` or `aws sso login`, set AWS_PROFILE, or set "
                 "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; in GitHub Actions use "
                 "aws-actions/configure-aws-credentials.")
    if isinstance(exc, NoRegionError):
        return AwsError("No region.", hint="Pass --region.")
    if isinstance(exc, EndpointConnectionError):
        return AwsError(f"{region}: cannot reach {exc.kwargs.get('endpoint_url', 'AWS')}.",
                        hint="Check the network, the region name and --endpoint-url / "
                             "AWS_ENDPOINT_URL.")
    if not isinstance(exc, ClientError):
        return AwsError(f"{region}: {action} failed: {exc}")
    err = exc.response.get("Error", {})
    code = str(err.get("Code", ""))
    msg = str(err.get("Message", "")) or code
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code.isdigit() and "<Code>" in msg:  # an XML error body the JSON parser could not read
        m = re.search(r"<Code>([^<]+)</Code>", msg)
        code = m.group(1) if m else code
        m = re.search(r"<Message>([^<]*)</Message>", msg)
        msg = m.group(1) if m else code
    if code in _BAD_CREDS:
        return AwsError(
            f"{region}: AWS rejected the credentials ({code}: {msg}).",
            hint="The access key is unknown, wrong or expired: refresh it (aws sso login, "
                 "aws configure) or check AWS_PROFILE.")
    if code in _DENIED or ((code == "403" or status == 403) and code not in _WRONG_REGION):
        return AwsError(
            f"{region}: access denied for {action} ({msg}).",
            hint=f"Grant the caller {action} on "
                 + (f"bucket {bucket}" if bucket and action.startswith("s3:") else
                    "the layer (arn:aws:lambda:REGION:ACCOUNT:layer:NAME*)")
                 + ", or use credentials that have it.")
    if code in _THROTTLED:
        return AwsError(
            f"{region}: AWS kept throttling {action} even after retries ({msg}).",
            hint="Wait a minute and rerun (publishing is idempotent), or publish fewer regions "
                 "at once; AWS_MAX_ATTEMPTS raises the retry count.")
    if code in ("NoSuchBucket",) or (bucket and code == "404" and action == "s3:GetBucketLocation"):
        return AwsError(
            f"{region}: the S3 bucket {bucket!r} does not exist.",
            hint=f"Create it in {region} (aws s3 mb s3://{bucket} --region {region}) or pass "
                 "an existing bucket with --s3-bucket.")
    if code in _WRONG_REGION:
        return AwsError(
            f"{region}: the S3 bucket {bucket!r} is in another region ({msg}).",
            hint=f"Lambda reads layer content only from a bucket in the layer's region: use a "
                 f"bucket in {region} (--s3-bucket {region}=BUCKET).")
    if code == "RequestEntityTooLargeException":
        return AwsError(f"{region}: the zip is too large for a direct upload ({msg}).",
                        hint="Pass --s3-bucket to upload through S3.")
    if code == "CodeStorageExceededException":
        return AwsError(f"{region}: the account's Lambda code storage is full ({msg}).",
                        hint="Delete old layer/function versions, or ask AWS for more storage.")
    if code == "InvalidParameterValueException":
        return AwsError(f"{region}: Lambda refused the request: {msg}",
                        hint="Check --name, --compatible-runtime and the zip; if it mentions S3, "
                             "check the bucket and its region.")
    return AwsError(f"{region}: {action} failed: {code}: {msg}")


# --- applying -------------------------------------------------------------------------------


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
