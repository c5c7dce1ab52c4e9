"""Publishing a layer zip with boto3: plan once, then publish to each region concurrently.

The boto3 clients are passed in (built by the CLI, or by tests against a moto server); this
module never reads the environment or credentials itself. Publishing is idempotent: when the
newest version of the layer already has the zip's CodeSha256, nothing is published.
"""

from __future__ import annotations

from .apply import publish
from .errors import explain
from .plan import (
    DEFAULT_DEADLINE,
    SCHEMA,
    PublishOutcome,
    PublishPlan,
    RegionClients,
    RegionResult,
    plan_publish,
    validate_zip,
)

__all__ = ["DEFAULT_DEADLINE", "SCHEMA", "PublishOutcome", "PublishPlan", "RegionClients",
           "RegionResult", "explain", "plan_publish", "publish", "validate_zip"]
