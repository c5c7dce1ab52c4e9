"""``lambda-slim publish``: publish a layer zip to one or more regions."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from .. import __version__
from ..artifact.atomic import atomic_write_text
from ..build.guard import check_outputs
from ..errors import InputError
from ..publish import DEFAULT_DEADLINE, PublishOutcome, RegionClients, plan_publish, publish
from . import main_group
from .exits import exit_code_help
from .render import console, err_console

#: Seconds per socket connect and per read; botocore retries within --timeout.
CONNECT_TIMEOUT = 10
READ_TIMEOUT = 120

_STATUS = {
    "published": "[green]published[/]",
    "unchanged": "[green]unchanged[/] (newest version already has this zip)",
    "would-publish": "[cyan]would publish[/]",
    "would-skip": "[cyan]would skip[/] (newest version already has this zip)",
    "failed": "[bold red]failed[/]",
}


def _max_attempts() -> int:
    raw = os.environ.get("AWS_MAX_ATTEMPTS", "").strip() or "8"
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise InputError(f"AWS_MAX_ATTEMPTS={raw!r} is not a number of attempts (1-100).",
                         hint="Unset it or set it to a small whole number such as 8.")
    return int(raw)


def _check_endpoint(url: str | None, source: str) -> None:
    parts = urlsplit(url) if url else None
    if parts is not None and (parts.scheme not in ("http", "https") or not parts.hostname):
        raise InputError(f"{source} {url!r} is not an http(s) URL.",
                         hint="Use a full URL such as https://lambda.eu-west-1.amazonaws.com "
                              "or http://127.0.0.1:5000, or leave it out to use AWS.")


def make_clients(regions: list[str], endpoint_url: str | None) -> list[RegionClients]:
    """The boto3 clients, built here at the edge: botocore's standard retry mode (throttling
    is retried with backoff), bounded connect/read timeouts (a silent endpoint cannot hang a
    call), and path-style S3 addressing when a custom endpoint is used."""
    import boto3
    from botocore.config import Config

    _check_endpoint(endpoint_url, "--endpoint-url")
    for var in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_LAMBDA"):
        _check_endpoint(os.environ.get(var) or None, var)
    custom = bool(endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
                  or os.environ.get("AWS_ENDPOINT_URL_S3"))
    retries: Any = {"mode": "standard", "max_attempts": _max_attempts()}
    lam_cfg = Config(retries=retries, user_agent_extra=f"lambda-slim/{__version__}",
                     connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT)
    s3_cfg = lam_cfg.merge(Config(s3={"addressing_style": "path"})) if custom else lam_cfg
    session = boto3.session.Session()
    out = []
    for r in regions:
        out.append(RegionClients(
            r,
            session.client("lambda", region_name=r, endpoint_url=endpoint_url, config=lam_cfg),
            session.client("s3", region_name=r, endpoint_url=endpoint_url, config=s3_cfg),
        ))
    return out


def _render(outcome: PublishOutcome) -> None:
    plan = outcome.plan
    how = "through S3" if plan.via_s3 else "directly"
    console.print(
        f"{plan.zip_path} ({plan.zip_bytes:,} bytes, sha256 {plan.sha256_hex[:12]}…) → layer "
        f"[bold]{plan.name}[/], uploaded {how}"
        + (f"; runtimes/arch from {plan.defaults_from}" if plan.defaults_from else ""),
        highlight=False, soft_wrap=True)
    for note in plan.notes:
        err_console.print(f"[yellow]note:[/] {note}", highlight=False)
    for r in outcome.results:
        line = f"  {r.region}: {_STATUS[r.status]}"
        if r.arn:
            line += f" {r.arn}"
        if r.s3_uri and r.status == "would-publish":
            line += f" via {r.s3_uri}"
        if r.permission:
            line += f" (readable by {r.permission})"
        if r.ok:
            console.print(line, highlight=False, soft_wrap=True)
        else:
            err_console.print(line + f"\n    [bold red]error:[/] {r.error}", highlight=False,
                              soft_wrap=True)
            if r.hint:
                err_console.print(f"    [bold]hint:[/] {r.hint}", highlight=False,
                                  soft_wrap=True)


@main_group.command(
    "publish",
    epilog="""\b
Examples:
  lambda-slim publish layer.zip --name scoring-deps --region eu-west-1
  lambda-slim publish layer.zip --name scoring-deps --region eu-west-1 --region us-east-1 \\
      --s3-bucket eu-west-1=my-artifacts-eu --s3-bucket us-east-1=my-artifacts-us
  lambda-slim publish layer.zip --name scoring-deps --region eu-west-1 --dry-run
  lambda-slim publish layer.zip --name scoring-deps --region eu-west-1 --principal 123456789012

\b
Runtimes and architecture default from the build's manifest beside the zip
(layer.zip -> layer.manifest.json) or from --report. Zips over 50 MB (52,428,800
bytes) cannot be sent directly and go through S3: --s3-bucket is then required, and
the bucket must be in the layer's region. Publishing is idempotent: if the newest
version of the layer already has this zip's CodeSha256, its ARN is printed and
nothing is published (--force publishes anyway, e.g. for changed metadata).
Credentials come from the usual AWS chain (AWS_PROFILE, environment, SSO, roles);
AWS_ENDPOINT_URL or --endpoint-url point it at any S3/Lambda-compatible endpoint.
""" + exit_code_help("publish"),
)
@click.argument("zip_path", metavar="ZIP", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--name", required=True, help="Layer name (letters, digits, - and _; or an ARN).")
@click.option("--region", "regions", multiple=True, metavar="REGION",
              help="Region to publish to; repeat for several (published concurrently) "
                   "[default: AWS_REGION / AWS_DEFAULT_REGION].")
@click.option("--s3-bucket", "s3_buckets", multiple=True, metavar="[REGION=]BUCKET",
              help="Bucket for zips over 50 MB, in the layer's region; REGION=BUCKET sets one "
                   "per region.")
@click.option("--description", default=None, help="Version description (max 256 chars).")
@click.option("--license-info", default=None, help="SPDX id or license URL (max 512 chars).")
@click.option("--compatible-runtime", "runtimes", multiple=True, metavar="RUNTIME",
              help="e.g. python3.12; repeatable [default: from the build manifest/report].")
@click.option("--compatible-architecture", "arches", multiple=True, metavar="ARCH",
              help="x86_64 or arm64; repeatable [default: from the build manifest/report].")
@click.option("--report", type=click.Path(path_type=Path, dir_okay=False), default=None,
              metavar="FILE", help="Build JSON report to take runtime/arch from.")
@click.option("--dry-run", is_flag=True,
              help="Only say what would happen (reads the newest version; publishes nothing).")
@click.option("--force", is_flag=True, help="Publish even if the newest version is identical.")
@click.option("--public", is_flag=True, help="Let every AWS account use this layer version.")
@click.option("--principal", default=None, metavar="ACCOUNT",
              help="Let this 12-digit AWS account use this layer version.")
@click.option("--endpoint-url", default=None, metavar="URL",
              help="Custom S3/Lambda endpoint [default: AWS_ENDPOINT_URL, else AWS].")
@click.option("--json", "json_out", type=click.Path(path_type=Path, dir_okay=False),
              default=None, metavar="FILE", help="Write the per-region results as JSON.")
@click.option("--timeout", type=click.FloatRange(min=1, max=86400), default=DEFAULT_DEADLINE,
              show_default=True, metavar="SECONDS",
              help="Deadline for the whole publish; each AWS call also gives up after "
                   f"{CONNECT_TIMEOUT} s connecting or {READ_TIMEOUT} s without an answer.")
def publish_command(zip_path: Path, name: str, regions: tuple[str, ...],
                    s3_buckets: tuple[str, ...], description: str | None,
                    license_info: str | None, runtimes: tuple[str, ...],
                    arches: tuple[str, ...], report: Path | None, dry_run: bool, force: bool,
                    public: bool, principal: str | None, endpoint_url: str | None,
                    json_out: Path | None, timeout: float) -> int:
    """Publish a layer zip with PublishLayerVersion, idempotently, to one or more regions."""
    if public and principal:
        raise InputError("--public and --principal are mutually exclusive.",
                         hint="--public shares with every account; --principal with one.")
    if json_out is not None:
        check_outputs([("ZIP", zip_path), ("--report", report or zip_path)],
                      [("--json", json_out)])
    if not regions:
        env_region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        regions = (env_region,) if env_region else ()
    plan = plan_publish(
        zip_path, name, list(regions), s3_buckets=s3_buckets, description=description,
        license_info=license_info, runtimes=runtimes, architectures=arches, report=report,
        principal="*" if public else principal, force=force, dry_run=dry_run,
    )
    clients = make_clients(list(plan.regions), endpoint_url)

    def progress(region: str, message: str) -> None:
        err_console.print(f"[dim]{region}: {message}[/]", highlight=False)

    outcome = publish(plan, clients, progress, deadline=timeout)
    _render(outcome)
    if json_out is not None:
        atomic_write_text(json_out, json.dumps(outcome.to_json(), indent=2) + "\n")
    return outcome.exit_code
