"""The build job: plan, stages, fit/alternatives, result cache, tool discovery, output guard,
function packaging. :func:`build` is the entry point the CLI calls."""

from __future__ import annotations

from .job import build, plan_build, trace_preview

__all__ = ["build", "plan_build", "trace_preview"]
