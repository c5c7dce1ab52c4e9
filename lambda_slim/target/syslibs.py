"""The shared libraries (sonames) each Lambda Python runtime provides, from evidence.

Lambda's images are minimal. A wheel may link a library from the system that manylinux
permits (PEP 599) and still fail on Lambda with ``cannot open shared object file``. This
module is the conservative answer to "will the loader find this soname on Lambda?": a soname
is provided only when a source written beside it says so; anything else is treated as absent.
Users declare what another layer or a custom runtime adds with ``--system-lib`` (config key
``system-libs``); a layer's ``lib/`` folder is ``/opt/lib``, which is on Lambda's
``LD_LIBRARY_PATH`` (aws/aws-lambda-base-images Dockerfiles).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ..errors import ConfigError

AL2 = "Amazon Linux 2"
AL2023 = "Amazon Linux 2023"

#: Lambda runtime name -> OS family (AWS Lambda docs, "Lambda runtimes" table).
RUNTIME_FAMILY: Mapping[str, str] = MappingProxyType({
    "python3.10": AL2,
    "python3.11": AL2,
    "python3.12": AL2023,
    "python3.13": AL2023,
    "python3.14": AL2023,
})

#: Lambda architecture name -> the dynamic loader's soname on that machine.
LOADERS: Mapping[str, str] = MappingProxyType({
    "x86_64": "ld-linux-x86-64.so.2",
    "arm64": "ld-linux-aarch64.so.1",
})

_SRC_GLIBC_AL2023 = (
    "glibc 2.34 is AL2023's C library (AWS: docs.aws.amazon.com/linux/al2023/ug/core-glibc.html)"
)
_SRC_GLIBC_AL2 = "glibc 2.26 is Amazon Linux 2's C library (LAMBDA_FACTS: runtimes table)"
_SRC_GCC_RUNTIME = (
    "numpy/scipy/pandas/xgboost manylinux wheels link it from the system (PEP 599) and import "
    "on every Lambda Python runtime (AWS SDK for pandas ships them as Lambda layers: "
    "github.com/aws/aws-sdk-pandas)"
)
_SRC_ZLIB = (
    "the runtime's own zlib module and scipy wheels link it from the system (PEP 599 list); "
    "zlib imports on every Lambda Python runtime"
)
_SRC_AL2023_RPMS = (
    "rpm -qa of public.ecr.aws/lambda/python:3.12 (amazonlinux/amazon-linux-2023#585) lists "
)

_GLIBC_COMMON = ("libc.so.6", "libm.so.6", "libdl.so.2", "librt.so.1", "libpthread.so.0",
                 "libresolv.so.2", "libutil.so.1", "libanl.so.1")


@dataclass(frozen=True)
class SysLib:
    """One soname Lambda provides, and why we believe so."""

    soname: str
    source: str


def _family_entries(family: str, arch: str) -> dict[str, SysLib]:
    glibc_src = _SRC_GLIBC_AL2023 if family == AL2023 else _SRC_GLIBC_AL2
    out: dict[str, SysLib] = {}

    def add(soname: str, source: str) -> None:
        out[soname] = SysLib(soname, source)

    for so in (*_GLIBC_COMMON, LOADERS[arch]):
        add(so, glibc_src)
    if arch == "x86_64":
        add("libmvec.so.1", glibc_src + "; x86_64 builds of glibc ship libmvec")
    if family == AL2:
        # Part of glibc up to 2.27 (RHEL 7 lineage); AL2023's glibc moved them out (libxcrypt,
        # libnsl2), so they are not listed there.
        add("libcrypt.so.1", glibc_src + "; glibc 2.26 still ships libcrypt")
        add("libnsl.so.1", glibc_src + "; glibc 2.26 still ships libnsl")
    add("libgcc_s.so.1", _SRC_GCC_RUNTIME)
    add("libstdc++.so.6", _SRC_GCC_RUNTIME)
    add("libz.so.1", _SRC_ZLIB)
    if family == AL2023:
        rpms = {
            "libbz2.so.1": "bzip2-libs",
            "libgmp.so.10": "gmp",
            "libkeyutils.so.1": "keyutils-libs",
            "libgssapi_krb5.so.2": "krb5-libs",
            "libkrb5.so.3": "krb5-libs",
            "libk5crypto.so.3": "krb5-libs",
            "libkrb5support.so.0": "krb5-libs",
            "libcom_err.so.2": "krb5-libs (which requires libcom_err)",
        }
        for so, rpm in rpms.items():
            add(so, _SRC_AL2023_RPMS + rpm)
        openssl = (_SRC_AL2023_RPMS + "curl-minimal and krb5-libs, which require openssl-libs "
                   "(OpenSSL 3)")
        add("libssl.so.3", openssl)
        add("libcrypto.so.3", openssl)
    return out


#: Sonames reported missing on Lambda, with the public report. Never provided, even when a
#: container image happens to carry them for its package manager (glib2, file-libs).
KNOWN_ABSENT: Mapping[str, str] = MappingProxyType({
    "libGL.so.1": "opencv/opencv-python#1019; lambci/docker-lambda#318",
    "libX11.so.6": "lambci/docker-lambda#318 (far fewer native libraries on Amazon Linux 2)",
    "libXext.so.6": "lambci/docker-lambda#318",
    "libXrender.so.1": "lambci/docker-lambda#318",
    "libICE.so.6": "lambci/docker-lambda#318",
    "libSM.so.6": "lambci/docker-lambda#318",
    "libxcb.so.1": "lambci/docker-lambda#318",
    "libglib-2.0.so.0": "keithrozario/Klayers#115",
    "libgobject-2.0.so.0": "keithrozario/Klayers#115",
    "libgthread-2.0.so.0": "keithrozario/Klayers#115, #156",
    "libgomp.so.1": "dmlc/xgboost#11048 (LightGBM links it from the system too)",
    "libodbc.so.2": "unixODBC is not in the Lambda images (pyodbc needs it)",
    "libmagic.so.1": "ahupp/python-magic#311; kotify/cloud-print-utils#4; "
                     "bluesentry/bucket-antivirus-function#200",
    "libopenjp2.so.7": "aws-samples/amazon-textract-textractor#372 (python3.12)",
})

#: Absent only on one family.
KNOWN_ABSENT_BY_FAMILY: Mapping[str, Mapping[str, str]] = MappingProxyType({
    AL2: MappingProxyType({"libssl.so.3": "awslabs/aws-media-replay-engine#13",
                           "libcrypto.so.3": "awslabs/aws-media-replay-engine#13"}),
    AL2023: MappingProxyType({}),
})

_SONAME = re.compile(r"^(lib[A-Za-z0-9_+.-]*|ld-[A-Za-z0-9_.-]+)\.so(\.[A-Za-z0-9_]+)*$")


def validate_soname(value: str, origin: str = "--system-lib") -> str:
    """Return ``value`` stripped if it looks like a soname; raise a ConfigError otherwise."""
    s = value.strip()
    if "/" in s or not _SONAME.match(s):
        raise ConfigError(
            f"{origin}: {value!r} is not a shared-library soname.",
            hint=("Give the name the loader looks for, as in DT_NEEDED (for example "
                  "libgomp.so.1 or libodbc.so.2), not a path; `readelf -d FILE | grep NEEDED` "
                  "shows it."),
        )
    return s


@dataclass(frozen=True)
class SystemLibraries:
    """The sonames a runtime provides, plus what the user declared for other layers."""

    runtime: str
    family: str
    arch: str
    entries: Mapping[str, SysLib]
    user: frozenset[str] = field(default_factory=frozenset)

    def provides(self, soname: str) -> bool:
        return soname in self.entries or soname in self.user

    @property
    def sonames(self) -> frozenset[str]:
        return frozenset(self.entries) | self.user

    def source(self, soname: str) -> str | None:
        """Why ``soname`` is believed present ("declared with --system-lib" for user ones)."""
        if soname in self.entries:
            return self.entries[soname].source
        if soname in self.user:
            return "declared with --system-lib / system-libs"
        return None

    def absent_report(self, soname: str) -> str | None:
        """The public report that ``soname`` is missing on this family, if there is one."""
        return KNOWN_ABSENT_BY_FAMILY.get(self.family, {}).get(soname) or KNOWN_ABSENT.get(soname)

    def with_user(self, sonames: Iterable[str], origin: str = "--system-lib") -> SystemLibraries:
        """A copy that also provides ``sonames`` (validated)."""
        extra = frozenset(validate_soname(s, origin) for s in sonames)
        return SystemLibraries(self.runtime, self.family, self.arch, self.entries,
                               self.user | extra)


def runtime_syslibs(runtime: str, arch: str, user: Iterable[str] = ()) -> SystemLibraries:
    """The system libraries of Lambda ``runtime`` (e.g. "python3.12") on ``arch``."""
    family = RUNTIME_FAMILY.get(runtime)
    if family is None:
        raise ConfigError(f"Unknown runtime {runtime!r}.",
                          hint=f"Use one of: {', '.join(RUNTIME_FAMILY)}.")
    if arch not in LOADERS:
        raise ConfigError(f"Unknown architecture {arch!r}.",
                          hint=f"Use one of: {', '.join(LOADERS)} (Lambda's names).")
    entries = MappingProxyType(_family_entries(family, arch))
    return SystemLibraries(runtime, family, arch, entries).with_user(user)
