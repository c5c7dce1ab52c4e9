"""Planning a publish: everything that can be checked without AWS (names, regions, the zip's
content and hash, buckets), into one frozen :class:`PublishPlan`."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..artifact.atomic import sha256_of
from ..artifact.manifest import manifest_path, read_target_json
from ..artifact.zipread import read_zip_listing, verify_entry
from ..errors import EXIT_AWS, EXIT_OK, InputError
from ..sizes import DIRECT_UPLOAD_LIMIT
from ..suggest import did_you_mean
from ..target.runtimes import ARCHES, RUNTIMES

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
    size, digest = sha256_of(zip_path)
    hexdigest, b64 = digest.hex(), base64.b64encode(digest).decode()  # b64: Lambda's CodeSha256
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
