"""The CI gate: sizes from zips' central directories, verdicts, GitHub annotations."""

from __future__ import annotations

from .ci import annotation, append_step_summary, github_annotations, markdown_summary
from .model import (
    SCHEMA,
    CheckReport,
    Finding,
    PackageSize,
    PathReport,
    top_level_package,
    verdict_of,
)
from .scan import check_paths, resolve_target

__all__ = [
           "SCHEMA",
           "CheckReport",
           "Finding",
           "PackageSize",
           "PathReport",
           "annotation",
           "append_step_summary",
           "check_paths",
           "github_annotations",
           "markdown_summary",
           "resolve_target",
           "top_level_package",
           "verdict_of",
]
