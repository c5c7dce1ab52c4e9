"""``lambda-slim invoke``: a function run as Lambda runs it, without Docker.

The function's code and layers are mounted in the Lambda-like sandbox as on Lambda, the real
runtime interface client loads the handler and talks to a local Runtime API, and each event
is one invocation (:mod:`lambda_slim.verify.lambda_runtime`).
"""

from __future__ import annotations

from .job import InvokeRun, InvokeSpec, run_invoke

__all__ = ["InvokeRun", "InvokeSpec", "run_invoke"]
