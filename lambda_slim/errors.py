"""One error hierarchy with fixed exit codes.

The core raises these; only the CLI renders them and turns ``exit_code`` into the process
status. Codes are part of the public interface (documented in the README and ``--help``).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_OVER_BUDGET = 1
EXIT_USAGE = 2
EXIT_RESOLVE = 3
EXIT_NATIVE = 4
EXIT_VERIFY = 5
EXIT_TOOL_MISSING = 6
EXIT_AWS = 7
EXIT_GROWTH = 8
EXIT_INTERNAL = 70  # EX_SOFTWARE in sysexits.h
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143  # 128 + SIGTERM

EXIT_CODES: dict[int, str] = {
    EXIT_OK: "success: built/checked/published and within budget",
    EXIT_OVER_BUDGET: "over the size budget (build still writes the zip), or more than 5 layers (check)",
    EXIT_USAGE: "bad input: usage, requirements file, configuration, unreadable or hostile zip",
    EXIT_RESOLVE: "resolve/install failed: a package has no wheel for the target",
    EXIT_NATIVE: "native file cannot run on the target (arch/glibc/Mach-O/PE), in build or check",
    EXIT_VERIFY: "verification failed: the pruned layer does not import or the smoke test fails",
    EXIT_TOOL_MISSING: "a required tool is missing (strip, target interpreter with --require-verify; "
                       "QEMU or an aarch64 interpreter for a cross-architecture one)",
    EXIT_AWS: "AWS error while publishing (credentials, access, throttling, bucket, name)",
    EXIT_GROWTH: "the layer grew more than `diff --fail-on-growth` allows (not over budget)",
    EXIT_INTERNAL: "internal error: please report it (traceback with -v or LAMBDA_SLIM_DEBUG=1)",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C); previous outputs are left untouched",
    EXIT_TERMINATED: "terminated (SIGTERM, e.g. a cancelled CI job); temporary files are removed",
}


class LambdaSlimError(Exception):
    """Base class: a message that says what happened and a hint that says what to do."""

    exit_code: int = EXIT_USAGE

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\nHint: {self.hint}"


class InputError(LambdaSlimError):
    """Bad user input: a file, a flag, a configuration value, a zip."""

    exit_code = EXIT_USAGE


class ConfigError(InputError):
    """Bad configuration in pyproject.toml or LAMBDA_SLIM_* variables."""


class ResolveError(LambdaSlimError):
    """The installer could not resolve or install the requirements for the target."""

    exit_code = EXIT_RESOLVE


class NativeError(LambdaSlimError):
    """A native file cannot run on the target."""

    exit_code = EXIT_NATIVE


class VerifyError(LambdaSlimError):
    """The pruned tree does not import, or the smoke script fails."""

    exit_code = EXIT_VERIFY


class ToolMissingError(LambdaSlimError):
    """A required external tool (strip, an interpreter) is not available."""

    exit_code = EXIT_TOOL_MISSING


class AwsError(LambdaSlimError):
    """An AWS call failed in a way the user has to act on."""

    exit_code = EXIT_AWS


class Terminated(BaseException):
    """SIGTERM arrived (a cancelled CI job): unwind like Ctrl-C so temp files are removed.

    A BaseException, like KeyboardInterrupt, so no ``except Exception`` swallows it.
    """
