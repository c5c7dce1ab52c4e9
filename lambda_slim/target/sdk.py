"""The AWS SDK a Lambda Python runtime ships in ``/var/runtime``, as a floor per runtime.

AWS's "Building Lambda functions with Python" page (section "Runtime-included SDK versions")
says the SDK version in a Python runtime "depends on the runtime version and your AWS
Region" and shows a function that prints it; it publishes no table, and runtime updates move
the version forward. The "Lambda runtimes" page had an SDK column until 2024 (its removal:
aws/aws-sdk-js-v3#6159, 2024-06-04, "The Lambda service team has recently removed this
mapping"). A function whose runtime-management mode pins a runtime version keeps the SDK of
that version, so the floor is the *oldest* SDK the runtime shipped, as far as a public source
shows it. Each value below cites its source; where a runtime's launch SDK is not published
the comment says so, and the value is the oldest SDK a public source shows on that runtime.

lambda-slim judges against the floor: a layer that needs anything newer must ship its own
copy (the ``runtime-provided`` rule keeps it then). A user who printed the version on their
own function passes it with ``--runtime-sdk botocore==X`` (config ``runtime-sdk``).
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from ..errors import InputError

#: awslambdaric, the open-source runtime interface client of the Python runtimes, pinned so
#: the stand-in ``/var/runtime`` is reproducible; 4.2.2 publishes manylinux2014 wheels for
#: CPython 3.10-3.14 on x86_64 and aarch64 (checked with ``pip download --only-binary``).
AWSLAMBDARIC = "4.2.2"


@dataclass(frozen=True)
class RuntimeSdk:
    """boto3 and botocore versions (s3transfer and jmespath follow from them)."""

    boto3: str
    botocore: str
    source: str

    def requirement_lines(self) -> list[str]:
        return [f"boto3=={self.boto3}", f"botocore=={self.botocore}"]

    def describe(self) -> str:
        return f"boto3 {self.boto3} / botocore {self.botocore}"

    def to_json(self) -> dict[str, str]:
        return {"boto3": self.boto3, "botocore": self.botocore, "source": self.source}


# python3.10 and python3.11 (Amazon Linux 2). boto/boto3#3914 (2023-10-26), a function on
# Lambda: "Local boto3 version is 1.28.71 and AWS boto3 version is 1.26.90" (runtime not
# named; python3.10 and 3.11 were then the newest). boto/botocore#3082 (2023-11-29) quotes the
# runtimes page: "The default Lambda runtimes for Python 3.11 are `boto3-1.27.1
# botocore-1.30.1`" (above the floor, so consistent with it). The SDK python3.10 launched
# with (April 2023) is not published; no report of an older one on these runtimes was found.
_AL2_SOURCE = ("boto/boto3#3914 (2023-10-26): a Lambda function reported 'AWS boto3 version "
               "is 1.26.90'; launch SDK not published")
# python3.12 (launched 2023-12-14: aws/aws-lambda-base-images#168, "We released Python 3.12 on
# 2023-12-14"). No published figure for its launch SDK was found (the value 1.34.42 used
# before had no source and is dropped). aws-samples/amazon-bedrock-samples#53 (2024-01-02):
# "Lambda's Python 3.12 runtime now includes the updated version of boto3 that includes the
# Bedrock service"; Bedrock's clients first appear in botocore 1.31.57 / boto3 1.28.57
# (checked: the botocore 1.31.56 wheel has no botocore/data/bedrock*, 1.31.57 has bedrock and
# bedrock-runtime). Later: terricain/aioboto3#381 (2025-08-22), python3.12 and python3.13
# "use boto3/botocore 1.38.36", i.e. updated functions have much newer ones.
_AL2023_SOURCE = ("aws-samples/amazon-bedrock-samples#53 (2024-01-02): the python3.12 runtime "
                  "'includes the updated version of boto3 that includes the Bedrock service' "
                  "(Bedrock first in boto3 1.28.57 / botocore 1.31.57); launch SDK not "
                  "published")
# python3.13 (November 2024) and python3.14 (November 2025) launched later with SDKs not
# published; aioboto3#381 shows python3.13 on the same SDK as python3.12 (1.38.36, Aug 2025).
# They get python3.12's floor (checked to import and make clients on CPython 3.13.0; no
# CPython 3.14 was at hand to check it there).
_LATER_SOURCE = "launch SDK not published: python3.12's floor (" + _AL2023_SOURCE + ")"

#: The oldest SDK a function on each runtime can meet (see the module docstring).
SDK_FLOORS: dict[str, RuntimeSdk] = {
    "python3.10": RuntimeSdk("1.26.90", "1.29.90", _AL2_SOURCE),
    "python3.11": RuntimeSdk("1.26.90", "1.29.90", _AL2_SOURCE),
    "python3.12": RuntimeSdk("1.28.57", "1.31.57", _AL2023_SOURCE),
    "python3.13": RuntimeSdk("1.28.57", "1.31.57", _LATER_SOURCE),
    "python3.14": RuntimeSdk("1.28.57", "1.31.57", _LATER_SOURCE),
}

#: boto3 and botocore share version numbers from 1.33.0 on (boto3's changelog, Nov 2023);
#: before that boto3 1.N.x went with botocore 1.(N+3).x.
_ALIGNED = Version("1.33.0")


def _paired(name: str, version: Version) -> str:
    """The other package's version released together with ``name==version``."""
    if version >= _ALIGNED:
        return str(version)
    major, minor, micro = [*version.release, 0, 0][:3]
    shift = 3 if name == "boto3" else -3
    return f"{major}.{minor + shift}.{micro}"


def parse_runtime_sdk(spec: str, origin: str = "--runtime-sdk") -> RuntimeSdk:
    """``botocore==1.35.10`` or ``boto3==1.35.10`` (what ``print(botocore.__version__)``
    showed on the user's function) -> the SDK pair. InputError for anything else."""
    name, sep, ver = spec.replace(" ", "").partition("==")
    name = name.lower()
    try:
        version = Version(ver) if sep and name in ("boto3", "botocore") else None
    except InvalidVersion:
        version = None
    if version is None or len(version.release) != 3 or version.major != 1:
        raise InputError(
            f"{origin} {spec!r} is not `botocore==X.Y.Z` or `boto3==X.Y.Z`.",
            hint="Print the version on your own function (import botocore; "
                 "print(botocore.__version__)) and pass it, e.g. --runtime-sdk botocore==1.35.10.")
    other = _paired(name, version)
    boto3, botocore = (str(version), other) if name == "boto3" else (other, str(version))
    return RuntimeSdk(boto3, botocore, f"{origin} {spec}")


def runtime_sdk(runtime: str, override: str | None = None) -> RuntimeSdk:
    """The SDK to judge a layer against: the user's printed version, else the floor."""
    if override:
        return parse_runtime_sdk(override)
    return SDK_FLOORS[runtime]
