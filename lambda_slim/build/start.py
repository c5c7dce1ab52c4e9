"""What a build checks before any work, so it fails fast: its inputs, the variants asked for,
the tools, and that its outputs are writable and never over an input."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from ..inputs.config import BuildConfig
from ..inputs.locks import read_dependencies
from ..inputs.requirements import Requirements
from ..progress import Progress
from ..resolve.variants import Variant, variant_table
from ..target.proc import Runner
from ..target.python import Isolation
from ..target.runtimes import lifecycle_warning
from .guard import guard_build
from .tools import Tools, check_tools


@dataclass(frozen=True)
class Start:
    requirements: Requirements
    tools: Tools
    notes: list[str]
    variants: Mapping[str, Variant]


def start(config: BuildConfig, env: Mapping[str, str], runner: Runner,
           progress: Progress, isolation: Isolation, *, writes: bool) -> Start:
    """Everything that can fail fast, before any work: inputs, variants, tools, outputs."""
    reqs = read_dependencies(config.requirements, config.target, config.selection,
                             config.cache_dir, allow_empty=config.allow_empty)
    guard_build(config, reqs.files, writes=writes)  # outputs writable, never over an input
    variants = variant_table(config.variant, enabled=config.variants)  # a bad pair: exit 2
    tools, notes = check_tools(config, env, runner, isolation, writes=writes)
    notes += reqs.notes
    deprecated = lifecycle_warning(config.target.runtime, date.today())
    if deprecated:
        notes.append(deprecated)
    for n in notes:
        progress.note(n)
    return Start(reqs, tools, notes, variants)
