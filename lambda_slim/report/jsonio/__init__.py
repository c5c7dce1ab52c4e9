"""The versioned JSON of a build, in one place: written from the typed results
(:mod:`.write`), and read back field by field (:mod:`.read`, on top of the safe parser in
:mod:`.safe`) for the result cache and for ``report``, ``diff`` and ``why`` on a user's file:
a hand-edited or hostile report is an :class:`~lambda_slim.errors.InputError` naming the file
and the field, never a crash."""

from __future__ import annotations

from .read import (
    ManifestSizes,
    PackageSize,
    bad_report,
    is_report,
    manifest_from_json,
    read_report,
    report_from_json,
)
from .safe import JsonFieldError, parse_json
from .write import (
    COMPACT_KEYS,
    REPORT_REVISION,
    SCHEMA_VERSION,
    dumps_report,
    entry_json,
    manifest_extra,
    manifest_json,
    plan_json,
    report_json,
    trace_json,
    verify_json,
)

__all__ = [
    "COMPACT_KEYS",
    "REPORT_REVISION",
    "SCHEMA_VERSION",
    "JsonFieldError",
    "ManifestSizes",
    "PackageSize",
    "bad_report",
    "dumps_report",
    "entry_json",
    "is_report",
    "manifest_extra",
    "manifest_from_json",
    "manifest_json",
    "parse_json",
    "plan_json",
    "read_report",
    "report_from_json",
    "report_json",
    "trace_json",
    "verify_json",
]
