"""Every build setting, declared once.

A :class:`Setting` names one thing a user can set for a build: its flag, its
``[tool.lambda-slim]`` key, its ``LAMBDA_SLIM_*`` variable, its type and limits, its help text,
the :class:`~lambda_slim.inputs.config.BuildConfig` field it fills and whether it is part of the
result-cache key. From :data:`SETTINGS` come the click options (``cli/options.py``), the
:class:`~lambda_slim.inputs.args.BuildArgs` it travels in, the keys and variables the config
reader accepts and how it parses them (``inputs/config.py``), what the result cache leaves out
(``build/cache.py``) and the docs' option and key tables (``cli/docgen.py``). The default is
the ``BuildConfig`` field's, so it is declared once too.

To add an option: one ``Setting`` here and one ``BuildConfig`` field (same name, or ``field=``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..errors import ConfigError
from ..sizes import parse_size
from ..target.runtimes import ARCHES, DEFAULT_ARCH, DEFAULT_RUNTIME, RUNTIMES
from ..target.sandbox import EPHEMERAL_RANGE
from ..target.syslibs import validate_soname

#: What gets bytecode: what a cold start imports (the default), every module, nothing, or
#: what the ``--trace`` workload touched.
COMPILE_MODES = ("imported", "all", "none", "traced")
#: Lambda's own maximum function timeout is 900 s; a smoke script is a quick workload.
DEFAULT_SMOKE_TIMEOUT = 300.0
#: Lambda's memory sizes (MB).
MEMORY_RANGE = (128, 10240)
#: How resolved wheels are installed: "unpack" (parallel, spec-following, the default) or
#: "pip" (``pip install --target`` under the target interpreter).
INSTALLERS = ("unpack", "pip")
GRANULARITIES = ("package", "module", "file")

#: How a value is given and read: one path / several, one string / several, an on-only flag,
#: an ``--x/--no-x`` switch, a whole number, seconds, a size, one of ``choices``.
Kind = Literal["path", "paths", "text", "texts", "flag", "switch", "int", "float", "size",
               "choice"]


@dataclass(frozen=True)
class Setting:
    #: The BuildArgs name and click parameter name; the config key is it with ``-`` for ``_``.
    name: str
    kind: Kind
    help: str
    #: Click declarations (``("-o", "--output")``); empty when the setting has no option of its
    #: own (the PATH argument; ``disable``, set per rule by ``--RULE/--no-RULE``).
    flags: tuple[str, ...] = ()
    #: False: a command-line setting only, not read from ``[tool.lambda-slim]``.
    in_config: bool = True
    env: str | None = None
    #: The BuildConfig field it fills (default ``name``); None when it is folded into another
    #: field by the reader (``runtime``+``arch`` -> ``target``, ``disable`` -> ``rules``, ...).
    field: str | None = ""
    metavar: str | None = None
    choices: tuple[str, ...] = ()
    #: Inclusive bounds of an ``int`` (``None``: unbounded on that side) and their unit.
    limits: tuple[int | None, int | None] | None = None
    unit: str = ""
    #: The value an on-only flag gives (``--no-symlinks``: False; ``--compile``: "all").
    flag_value: Any = True
    #: Part of the result-cache key (a setting that can change the zip, its proof or its verdict).
    cached: bool = True
    #: How the docs state the default, when the field's default value does not say it.
    default_text: str | None = None
    #: Applied to a given value before the kind's parsing (``compile = true`` -> "all").
    convert: Callable[[Any], Any] | None = None
    #: Extra checking after the kind's parsing, given the parsed value and the key.
    check: Callable[[Any, str], Any] | None = None

    @property
    def key(self) -> str | None:
        return self.name.replace("_", "-") if self.in_config else None

    @property
    def config_field(self) -> str | None:
        return self.name if self.field == "" else self.field

    @property
    def multiple(self) -> bool:
        return self.kind in ("paths", "texts")


def as_list(value: Any, key: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ConfigError(f"`{key}` must be a string or a list of strings, not {value!r}.")


def as_bool(value: Any, key: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "0", "false", "no",
                                                     "off"):
        return value.lower() in ("1", "true", "yes", "on")
    raise ConfigError(f"`{key}` must be true or false, not {value!r}.")


def as_int(value: Any, key: str) -> int:
    if isinstance(value, (bool, float)):
        raise ConfigError(f"`{key}` must be a whole number, not {value!r}.")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"`{key}` must be a whole number, not {value!r}.") from None


def as_size(value: Any, key: str) -> int:
    if isinstance(value, (bool, float)):
        raise ConfigError(f"`{key}` must be bytes or a size string such as \"250MiB\", "
                          f"not {value!r}.")
    return parse_size(value)


def as_seconds(value: Any, key: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"`{key}` must be a number of seconds, not {value!r}.") from None
    if not out > 0:
        raise ConfigError(f"`{key}` must be more than 0 seconds, not {value!r}.")
    return out


def _jobs(value: int | None, key: str) -> int:
    """0 (not given) means one worker per CPU; given, it must be at least 1."""
    if value is None:
        return 0
    if value < 1:
        raise ConfigError(f"`jobs` must be a whole number of 1 or more, not {value} "
                          "(from --jobs, LAMBDA_SLIM_JOBS or jobs in pyproject.toml).",
                          hint="Leave it out to use one worker per CPU.")
    return value


def _scripts(paths: tuple[Path, ...], key: str) -> tuple[Path, ...]:
    for script in paths:
        if not script.is_file():
            raise ConfigError(
                f"The --{key} script {script} does not exist"
                + (" (it is a folder)." if script.is_dir() else "."),
                hint=f"Fix the path, or drop --{key} (`{key}` in pyproject.toml).")
    return paths


def _sonames(names: tuple[str, ...], key: str) -> tuple[str, ...]:
    return tuple(validate_soname(s, key) for s in names)


def _compile(value: Any) -> Any:
    """``compile = true/false`` in pyproject.toml means all/none."""
    if isinstance(value, bool):
        return "all" if value else "none"
    return value


SETTINGS: tuple[Setting, ...] = (
    Setting("requirements", "path", "The dependency file or project folder (the PATH argument).",
            field="requirements", default_text="./requirements.txt, else the folder's lock or "
            "pyproject"),
    Setting("groups", "texts", "Also install this dependency group of a lock/pyproject (PEP 735, "
            "Poetry groups, Pipfile categories). Repeatable.", flags=("--group",),
            field=None, metavar="NAME"),
    Setting("extras", "texts", "Also install this extra (optional dependencies) of the project. "
            "Repeatable.", flags=("--extra",), field=None, metavar="NAME"),
    Setting("no_default_groups", "flag", "Leave out the lock's default groups (dev is always "
            "left out unless --group dev).", flags=("--no-default-groups",), field=None),
    Setting("function", "path", "Build a function package: the handler code in SRC_DIR and the "
            "dependencies at the zip root [output default: function.zip].",
            flags=("--function",), metavar="SRC_DIR"),
    Setting("layer_zips", "paths", "With --function: a layer the function uses; what it "
            "provides is left out, and it counts toward the size limit. Repeatable, in order.",
            flags=("--layer-zip",), metavar="LAYER.zip"),
    Setting("handler", "text", "With --function: import this handler as Lambda would and fail "
            "if it is missing or not callable.", flags=("--handler",), metavar="MODULE.FUNCTION"),
    Setting("with_project", "flag", "Also build the project's own package (pip wheel --no-deps "
            "of PATH's pyproject) and include it.", flags=("--with-project",)),
    Setting("allow_empty", "flag", "Build even when the lock or pyproject installs nothing for "
            "the target (otherwise exit 2, naming the markers and groups that left everything "
            "out).", flags=("--allow-empty",)),
    Setting("symlinks", "flag", "With --function: refuse symlinks in SRC_DIR instead of storing "
            "each as the file it names (a link out of SRC_DIR is always refused).",
            flags=("--no-symlinks",), flag_value=False, default_text="stored as the file they name"),
    Setting("runtime", "choice", f"Lambda runtime [default: {DEFAULT_RUNTIME}].",
            flags=("--runtime",), env="LAMBDA_SLIM_RUNTIME", field=None,
            choices=tuple(RUNTIMES), default_text=DEFAULT_RUNTIME),
    Setting("arch", "choice", f"Lambda architecture [default: {DEFAULT_ARCH}].",
            flags=("--arch",), env="LAMBDA_SLIM_ARCH", field=None, choices=tuple(ARCHES),
            default_text=DEFAULT_ARCH),
    Setting("output", "path", "Layer zip to write, atomically [default: layer.zip].",
            flags=("-o", "--output"), cached=False,
            default_text="layer.zip (function.zip with --function, NAME-layer.zip with --layer)"),
    Setting("budget", "size", "Unzipped size limit: bytes or 250MiB/262MB [default: 262144000, "
            "Lambda's].", flags=("--budget",), env="LAMBDA_SLIM_BUDGET"),
    Setting("json", "path", "Write the versioned JSON report here.", flags=("--json",),
            field="json_path", metavar="FILE", cached=False),
    Setting("keep", "texts", "Protect matching paths (below python/) from every rule. "
            "Repeatable.", flags=("--keep",), metavar="GLOB"),
    Setting("disable", "texts", "Rules to turn off (what the --no-RULE flags do).", field=None),
    Setting("compile", "choice", "What gets target bytecode (unchecked-hash pycs): `imported` "
            "(default) the modules a cold start imports, found by verification; `all` (bare "
            "--compile) every module; `traced` what the --trace workload touched; `none` sources "
            "only.", flags=("--compile",),
            choices=COMPILE_MODES, flag_value="all", convert=_compile),
    Setting("smoke", "paths", "Also run this script against the pruned layer. Repeatable.",
            flags=("--smoke",), metavar="FILE", check=_scripts),
    Setting("trace", "paths", "Trace this workload and drop what it never touches. Repeatable.",
            flags=("--trace",), metavar="SCRIPT", check=_scripts),
    Setting("trace_granularity", "choice", "What --trace removes: untouched subpackages "
            "(default), modules, or single files.", flags=("--trace-granularity",),
            choices=GRANULARITIES),
    Setting("smoke_timeout", "float", "Time limit of each --smoke/--trace script "
            f"[default: {DEFAULT_SMOKE_TIMEOUT:g}].", flags=("--smoke-timeout",),
            metavar="SECONDS"),
    Setting("system_libs", "texts", "A shared library another layer or a custom runtime "
            "provides (e.g. libgomp.so.1 in a layer's lib/, which is /opt/lib). Repeatable.",
            flags=("--system-lib",), metavar="SONAME", check=_sonames),
    Setting("sandbox", "switch", "Run layer code (imports, --smoke, --trace) in the Lambda-like "
            "sandbox [default: on when this machine allows it; --no-sandbox: on this host, where "
            "its libraries stay visible].", flags=("--sandbox/--no-sandbox",)),
    Setting("memory", "int", "The function's memory size: fail when the layer's peak RSS does "
            "not fit.", flags=("--memory",), field="memory_mb", metavar="MB",
            limits=MEMORY_RANGE, unit="MB, Lambda's range"),
    Setting("ephemeral_storage", "int", "The function's /tmp size (EphemeralStorage): the "
            "sandbox's /tmp holds this much [default: 512, Lambda's default].",
            flags=("--ephemeral-storage",), field="ephemeral_mb", metavar="MB",
            limits=EPHEMERAL_RANGE, unit="MB, the /tmp sizes Lambda allows"),
    Setting("repair", "flag", "If verification fails, put back the files that broke it and "
            "re-verify.", flags=("--repair",)),
    Setting("strict", "flag", "Refuse the layer when optional parts will not import or load on "
            "Lambda (submodules, native plugins, extra packages no requested import or smoke "
            "uses); by default they are listed as warnings.", flags=("--strict",)),
    Setting("require_verify", "flag", "Fail (exit 6) instead of skipping verification when no "
            "interpreter of the target version (for another architecture: QEMU and an "
            "interpreter of that architecture) is found.", flags=("--require-verify",)),
    Setting("python", "text", "Interpreter of the target's Python version; for an arm64 layer "
            "on x86_64 an aarch64 one (or a wrapper script) run under QEMU [default: "
            "discovered].", flags=("--python",), env="LAMBDA_SLIM_PYTHON", metavar="PATH",
            cached=False, default_text="discovered"),
    Setting("event", "path", "With --handler: invoke the handler once with this JSON event "
            "after its init (as `lambda-slim invoke` does); a failure fails the build (exit 5).",
            flags=("--event",), metavar="FILE"),
    Setting("runtime_sdk", "text", "The AWS SDK your function's runtime has (print "
            "botocore.__version__ in it): the runtime-provided rule and verification judge "
            "against it [default: the runtime's floor].", flags=("--runtime-sdk",), field=None,
            metavar="botocore==X.Y.Z", default_text="the runtime's floor"),
    Setting("jobs", "int", "Parallel workers [default: CPUs].", flags=("-j", "--jobs"),
            env="LAMBDA_SLIM_JOBS", cached=False, check=_jobs, default_text="one per CPU"),
    Setting("zip_level", "int", "Deflate level [default: 6; 9 saves ~0.6% for 2.5x the "
            "time]. At 6, files shipped exactly as their wheel holds them keep the wheel's "
            "deflated bytes.",
            flags=("--zip-level",), env="LAMBDA_SLIM_ZIP_LEVEL", limits=(0, 9)),
    Setting("installer", "choice", "How resolved wheels are installed: unpacked in parallel per "
            "the wheel spec (default, fast) or by `pip install --target` under the target "
            "interpreter.", flags=("--installer",), choices=INSTALLERS),
    Setting("variants", "switch", "Replace GPU/GUI distributions by their CPU/headless drop-in "
            "variants (xgboost -> xgboost-cpu, opencv-python -> opencv-python-headless, …) "
            "[default: on].", flags=("--variants/--no-variants",)),
    Setting("variant", "texts", "Add a variant: install REPLACEMENT wherever ORIG is required. "
            "Repeatable.", flags=("--variant",), metavar="ORIG=REPLACEMENT"),
    Setting("overflow", "switch", "When the layer does not fit, pack the largest distributions "
            "the handler does not need at start into archives unpacked into /tmp at cold start.",
            flags=("--overflow/--no-overflow",)),
    Setting("refresh", "flag", "Re-resolve requirements (pick up new releases) and rebuild from "
            "scratch.", flags=("--refresh",), in_config=False, cached=False),
    Setting("result_cache", "flag", "Rebuild even if an identical build is cached (the "
            "resolution is still reused).", flags=("--no-result-cache",), in_config=False,
            field="use_result_cache", flag_value=False, cached=False,
            default_text="the cache is used"),
    Setting("cache_dir", "path", "Wheel and result cache [default: ~/.cache/lambda-slim, or "
            "$LAMBDA_SLIM_CACHE_DIR].", flags=("--cache-dir",), in_config=False,
            env="LAMBDA_SLIM_CACHE_DIR", cached=False,
            default_text="~/.cache/lambda-slim ($XDG_CACHE_HOME/lambda-slim)"),
)

BY_NAME: Mapping[str, Setting] = {s.name: s for s in SETTINGS}
#: Keys accepted in [tool.lambda-slim] and in each [tool.lambda-slim.layers.NAME].
CONFIG_KEYS: frozenset[str] = frozenset(s.key for s in SETTINGS if s.key)
#: Environment variables that set defaults (below flags, above pyproject.toml); the cache
#: folder's variable is read where its default is made (``default_cache_dir``).
ENV_KEYS: Mapping[str, str] = {s.env: s.key for s in SETTINGS if s.env and s.key}


def setting(name: str) -> Setting:
    return BY_NAME[name]
