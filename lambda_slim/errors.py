"""One error hierarchy with fixed exit codes, and the one table that says what each code means.

The core raises these; only the CLI renders them and turns ``exit_code`` into the process
status. Codes are part of the public interface: :data:`EXIT_TABLE` is their one declaration,
from which ``lambda-slim --help``, every command's epilog and ``docs/exit-codes.md`` are made
(``python -m lambda_slim.cli.docgen`` rewrites the docs; a test fails when they disagree).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

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


@dataclass(frozen=True)
class ExitCode:
    """One exit code: its number, a stable name, a one-line summary for ``--help``, the full
    meaning for the docs, and what it means for each command that can return it (commands
    absent from ``commands`` never return it; ``every_command`` codes apply to all of them)."""

    code: int
    name: str
    summary: str
    meaning: str
    commands: Mapping[str, str] = field(default_factory=dict)
    every_command: bool = False


def _table(*codes: ExitCode) -> tuple[ExitCode, ...]:
    return tuple(ExitCode(c.code, c.name, c.summary, c.meaning, MappingProxyType(dict(c.commands)),
                          c.every_command) for c in codes)


EXIT_TABLE: tuple[ExitCode, ...] = _table(
    ExitCode(
        EXIT_OK, "ok", "success: built/checked/published and within budget",
        "success: built, checked or published, and within budget",
        {"build": "ok",
         "check": "within budget (warnings do not fail the gate)",
         "publish": "published, or already up to date, in every region",
         "trace": "the preview was printed (and written with --json)",
         "report": "ok",
         "diff": "compared (and within --fail-on-growth, if given)",
         "why": "explained",
         "invoke": "the init and every invocation succeeded"}),
    ExitCode(
        EXIT_OVER_BUDGET, "over-budget",
        "over the size budget (build still writes the zip), or more than 5 layers (check)",
        "over the size budget (the build still writes the zip so you can inspect it), or more "
        "than 5 layers (`check`)",
        {"build": "over budget (the zip is still written)",
         "check": "over budget, or more than 5 layers"}),
    ExitCode(
        EXIT_USAGE, "bad-input",
        "bad input: usage, requirements file, configuration, unreadable or hostile zip",
        "bad input: usage, requirements file (with line number; source folders, include loops, "
        "no packages), configuration (wrong types, `jobs` below 1, sizes over 1 PiB, "
        "`SOURCE_DATE_EPOCH` past 2107), unknown runtime or architecture, an output that is an "
        "input or is not writable, unreadable or hostile zip",
        {"build": "bad input (also: an output naming an input or not writable, checked before "
                  "any work)",
         "check": "bad usage, or a PATH is unreadable, not a zip, or hostile (unsafe names, "
                  "duplicates, sizes that do not match the data, zip bombs); nothing is written",
         "publish": "bad usage: invalid layer name, region (or an ARN of another region), missing "
                    "--s3-bucket, --endpoint-url or AWS_MAX_ATTEMPTS unreadable, --json naming "
                    "the zip; a zip that is unreadable, hostile or empty (checked with check's "
                    "reader before any AWS call)",
         "trace": "bad input: a workload script that does not exist, a bad requirements file or "
                  "configuration",
         "report": "the report is missing or not a build report",
         "diff": "a file is missing, unreadable, or not a report, manifest or zip",
         "why": "unknown distribution or unreadable input",
         "invoke": "bad input: a handler that is not module.function, a missing or hostile zip, "
                   "an event that is not JSON, --env without =, --memory/--timeout outside "
                   "Lambda's range"}),
    ExitCode(
        EXIT_RESOLVE, "resolve-failed",
        "resolve/install failed: a package has no wheel for the target",
        "resolve/install failed: no package of that name (with \"did you mean\"), no version "
        "matching a pin (the versions that fit are listed), no wheel for the target (named, with "
        "the target's tags and known advice), a cached wheel that changed on disk and cannot be "
        "fetched again, a wheel that breaks its `--hash` pin",
        {"build": "no wheel for the target (or a spoiled cached wheel)",
         "trace": "the requirements do not resolve for the target",
         "why": "the requirements do not resolve for the target",
         "invoke": "no wheel of awslambdaric or the runtime's SDK for the target"}),
    ExitCode(
        EXIT_NATIVE, "native-incompatible",
        "native file cannot run on the target (arch/glibc/Mach-O/PE), in build or check",
        "a native file cannot run on the target (architecture, glibc, Mach-O/PE, or it needs a "
        "shared library the runtime lacks), in `build` or `check`",
        {"build": "a native file can't run on the target (architecture, glibc, Mach-O/PE, or a "
                  "shared library the runtime lacks)",
         "why": "with a requirements file: its build found a native file that cannot run on the "
                "target",
         "check": "a native file cannot run on the target (wrong architecture, newer glibc, "
                  "macOS/Windows binary, or it needs a shared library the runtime lacks and "
                  "the zip's verified build or --verify saw it loaded; with --strict, any such "
                  "file)",
         "trace": "a native file can't run on the target"}),
    ExitCode(
        EXIT_VERIFY, "verify-failed",
        "verification failed: the pruned layer does not import or the smoke test fails",
        "verification failed: the pruned layer doesn't import or a smoke script fails, in the "
        "Lambda-like sandbox (the cause is named: the rule and file responsible, a missing "
        "library, a write to the read-only layer, a timeout), or the peak memory does not fit "
        "`--memory`",
        {"build": "verification failed: the pruned layer does not import, a smoke script or the "
                  "handler fails, or the peak memory does not fit --memory",
         "why": "with a requirements file: its build failed verification",
         "trace": "a workload fails on the rule-pruned layer, before any trace pruning",
         "invoke": "the function failed: an init error (Runtime.ImportModuleError, ...), a "
                   "handler error, a timeout (Sandbox.Timedout) or a crash, as Lambda names it"}),
    ExitCode(
        EXIT_TOOL_MISSING, "tool-missing",
        "a required tool is missing (strip, target interpreter with --require-verify; "
        "QEMU or an aarch64 interpreter for a cross-architecture one)",
        "a required tool is missing: `strip`; an interpreter of the target version or the "
        "Lambda-like sandbox with `--require-verify`; for a cross-architecture "
        "`--trace`/`--require-verify`, QEMU and an interpreter of the target's architecture "
        "(both named, with how to get them)",
        {"build": "a required tool is missing: strip; with --require-verify an interpreter of "
                  "the target version or the sandbox; cross-architecture, QEMU and an interpreter "
                  "of the target's architecture",
         "why": "with a requirements file: a tool its build needs is missing",
         "trace": "no interpreter of the target version (or, cross-architecture, no QEMU or "
                  "no interpreter of the target's architecture)",
         "invoke": "the sandbox cannot run here, or no interpreter of the target version (or, "
                   "cross-architecture, no QEMU or interpreter of the target's architecture)",
         "check": "with --verify --require-verify: the Lambda-like sandbox or an interpreter of "
                  "the target version (cross-architecture: QEMU and one of that architecture) "
                  "is not available"}),
    ExitCode(
        EXIT_AWS, "aws-error",
        "AWS error while publishing (credentials, access, throttling, bucket, name)",
        "AWS error while publishing (credentials, access denied, throttling, bucket, name, no "
        "answer within `--timeout`)",
        {"publish": "AWS error in at least one region (credentials, access denied, throttling, "
                    "missing bucket, bucket in another region, no answer within --timeout); "
                    "the others are still reported"}),
    ExitCode(
        EXIT_GROWTH, "grew",
        "the layer grew more than `diff --fail-on-growth` allows (not over budget)",
        "`diff --fail-on-growth`: the layer grew by more than the allowed size or percentage "
        "(deliberately not 1, which means \"over budget\")",
        {"diff": "the unzipped size grew by more than --fail-on-growth"}),
    ExitCode(
        EXIT_INTERNAL, "internal-error",
        "internal error: please report it (traceback with -v or LAMBDA_SLIM_DEBUG=1)",
        "internal error: a bug in lambda-slim, please report it; the traceback is shown with `-v` "
        "or `LAMBDA_SLIM_DEBUG=1` (never 1, which a CI gate would read as \"over budget\")",
        every_command=True),
    ExitCode(
        EXIT_INTERRUPTED, "interrupted",
        "interrupted (Ctrl-C); previous outputs are left untouched",
        "interrupted (Ctrl-C); previous outputs are untouched",
        {"publish": "interrupted (Ctrl-C): one Ctrl-C stops every region at once"},
        every_command=True),
    ExitCode(
        EXIT_TERMINATED, "terminated",
        "terminated (SIGTERM, e.g. a cancelled CI job); temporary files are removed",
        "terminated (SIGTERM, e.g. a cancelled CI job): temporary zips and staging folders are "
        "removed, previous outputs are untouched",
        every_command=True),
)

#: code -> the one-line summary ``lambda-slim --help`` shows.
EXIT_CODES: Mapping[int, str] = MappingProxyType({c.code: c.summary for c in EXIT_TABLE})


def exit_codes_for(command: str) -> list[tuple[int, str]]:
    """The codes ``command`` can return, each with what it means for that command."""
    return [(c.code, c.commands.get(command, c.summary)) for c in EXIT_TABLE
            if command in c.commands or c.every_command]


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
