"""AWS failures in plain words: botocore exceptions -> :class:`AwsError` with what to do."""

from __future__ import annotations

import re

from ..errors import AwsError

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
