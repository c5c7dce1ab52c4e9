"""The AWS SDK a Lambda Python runtime ships in ``/var/runtime``, as a floor per runtime.

AWS's "Building Lambda functions with Python" page (section "Runtime-included SDK versions")
says the SDK version in a Python runtime "depends on the runtime version and your AWS
Region" and shows a function that prints it; it publishes no table, and runtime updates move
the version forward. Until mid-2024 the "Lambda runtimes" page did carry a table (its removal
is noted in aws/aws-sdk-js-v3#6159); the values below are the ones it last listed, and every
function on those runtimes has at least that version, because runtime updates only move the
SDK forward. python3.13 and python3.14 launched after the table was removed, with SDKs at
least as new as python3.12's: they get python3.12's floor.

So lambda-slim judges against the *floor*, the oldest SDK a function on the runtime may meet:
a layer that needs anything newer must ship its own copy (the ``runtime-provided`` rule keeps
it then). A user who printed the version on their own function passes it with
``--runtime-sdk botocore==X`` (config ``runtime-sdk``).
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from ..errors import InputError

#: awslambdaric, the open-source runtime interface client of the Python runtimes, pinned so
#: the stand-in ``/var/runtime`` is reproducible; 4.2.2 publishes manylinux2014 wheels for
#: CPython 3.10-3.14 on x86_64 and aarch64 (checked with ``pip download --only-binary``).
AWSLAMBDARIC = "4.2.2"

_TABLE_SOURCE = ("AWS Lambda runtimes page, 'SDK for Python' column, as last published "
                 "(removed in 2024, see aws/aws-sdk-js-v3#6159)")
_LATER_SOURCE = ("launched after the SDK table was removed, with an SDK at least as new as "
                 "python3.12's: python3.12's floor")


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


#: The oldest SDK a function on each runtime can meet (see the module docstring).
SDK_FLOORS: dict[str, RuntimeSdk] = {
    "python3.10": RuntimeSdk("1.26.90", "1.29.90", _TABLE_SOURCE),
    "python3.11": RuntimeSdk("1.26.90", "1.29.90", _TABLE_SOURCE),
    "python3.12": RuntimeSdk("1.34.42", "1.34.42", _TABLE_SOURCE),
    "python3.13": RuntimeSdk("1.34.42", "1.34.42", _LATER_SOURCE),
    "python3.14": RuntimeSdk("1.34.42", "1.34.42", _LATER_SOURCE),
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
