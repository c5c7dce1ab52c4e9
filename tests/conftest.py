from __future__ import annotations

import contextlib
import os
import resource
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# Tests read what the CLI prints: never wrapped mid-line (the CLI's console, made at import,
# wraps at 120 columns off a terminal; xdist's longer temporary paths would cross that).
os.environ.setdefault("COLUMNS", "1000")

from tests.arm64_python import Aarch64Python, aarch64_python311
from tests.example.mariadb import stop_shared_mariadb
from tests.servers import FAKE_AWS_ENV, moto_server
from tests.shared import shared_cache_root, warm_cache
from tests.slow import SLOW, seconds

# --- what each test needs, as markers (pyproject's [tool.pytest.ini_options] declares them) --
# By fixture: a test that uses one of these needs what it names.
_BY_FIXTURE: dict[str, tuple[str, ...]] = {
    "aarch64_python": ("emulation", "network"),  # qemu, and Debian's arm64 packages (cached)
    "moto_endpoint": ("aws",),  # aws_env, s3_world, moto: all start from it
    "mariadb": ("mariadb",),
    "py312": ("sandbox",),  # a real build verified in the sandbox (on the host without bwrap)
    "seed_build": ("slow", "network", "sandbox"),  # the XGBoost + pandas stack, once per run
    "uv_project": ("network",),
    "poetry_project": ("network",),
    "ref_python": ("network",),
    "runtime_boto3": ("network",),
}
# By module (file name): everything in it needs these.
_BY_MODULE: dict[str, tuple[str, ...]] = {
    "test_report_browser.py": ("browser",),
    "test_sandbox.py": ("sandbox",),
    "test_sandbox_build.py": ("sandbox",),
    # the process Lambda starts (matplotlib and requests wheels from PyPI)
    "test_sandbox_lambda.py": ("sandbox", "network"),
    "test_lambda_limits_build.py": ("sandbox", "network"),
    "test_borrow.py": ("sandbox",),
    "test_closure_real.py": ("sandbox",),
    "test_lambda_failures.py": ("sandbox", "network"),
    "test_function_package.py": ("sandbox",),
    "test_emulation.py": ("emulation", "sandbox"),
    "test_arm64_verify.py": ("emulation", "network"),
    "test_e2e_layers.py": ("sandbox", "network"),
    "test_handlers.py": ("network",),
    "test_config.py": ("network",),
    # real PyPI packages (from the warm wheel store when it has them)
    "test_build_stack.py": ("network",),
    "test_variants_gpu.py": ("network",),
    "test_locks_real.py": ("network",),
    "test_build_locked.py": ("network",),
    "test_diff_why.py": ("network",),
    "test_markers.py": ("network",),
    "test_native_targets.py": ("network",),
    "test_build_errors.py": ("network",),
    "test_sam_build.py": ("network",),
    "test_installers.py": ("network",),
    "test_overflow_build.py": ("network",),
    # awslambdaric and the runtime's SDK from PyPI (the stand-in /var/runtime), in the sandbox
    "test_invoke.py": ("sandbox", "network"),
    "test_handler_init.py": ("sandbox", "network"),
    "test_runtime_sdk_build.py": ("sandbox", "network"),
}
# Tests about caching (they spoil, count or expect an empty wheel store): an empty cache each.
_COLD: dict[str, tuple[str, ...]] = {
    "test_misuse_cache.py": ("*",),
    "test_misuse_build.py": ("test_outputs_never_overwrite_inputs_or_each_other",
                             "test_unwritable_outputs_fail_before_any_work",
                             "test_include_loop_is_refused_before_pip"),
}

# No xdist_group marks: pytest-xdist 3.8 cannot group under pytest 9 (it writes the group into
# ``item._nodeid``, which pytest 9's ``nodeid`` no longer reads), and nothing needs a group:
# what a session starts or makes once is shared by every worker of the run instead (MariaDB,
# tests/example/mariadb.py ``shared_mariadb``; the seed stack and the example's layers and
# models, tests/shared.py ``once_per_run``). ``--dist loadgroup`` without groups sends each
# test on its own, two ahead per worker, in the order below: the best order for longest first.


@pytest.hookimpl
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        module = item.path.name
        marks = set(_BY_MODULE.get(module, ()))
        for fixture, needs in _BY_FIXTURE.items():
            if fixture in names:
                marks.update(needs)
        base = item.name.split("[", 1)[0]
        if base in SLOW.get(module, {}):
            marks.add("slow")
        cold = _COLD.get(module, ())
        if "*" in cold or base in cold:
            marks.add("cold_cache")
        for mark in sorted(marks):
            item.add_marker(mark)


@pytest.hookimpl(trylast=True, specname="pytest_collection_modifyitems")  # after the shuffle
def pytest_collection_modifyitems_longest_first(items: list[pytest.Item]) -> None:
    """Known-slow tests first, longest first (tests/slow.py), the rest after them in the
    shuffled order: xdist hands out tests in this order, so the last test a worker starts is a
    short one and no worker idles while another runs a long test to the end."""
    items.sort(key=lambda item: -seconds(item.path.name, item.name))


# --- what the run shares, stopped once the run is over --------------------------------------
_SUMMARY = pytest.StashKey[list[str]]()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The run's end (the xdist controller's session, after every worker's; or the only
    session): stop the servers the workers shared."""
    made = session.config.stash.get(_CPU_GROUP, None)
    if made is not None:  # back where it was, and the measuring group gone (when empty)
        with contextlib.suppress(OSError):
            (made[1] / "cgroup.procs").write_text(str(os.getpid()))
            made[0].rmdir()
    if hasattr(session.config, "workerinput"):  # an xdist worker: others may still need them
        return
    factory: pytest.TempPathFactory = session.config._tmp_path_factory  # type: ignore[attr-defined]
    stopped = stop_shared_mariadb(factory.getbasetemp())
    session.config.stash[_SUMMARY] = [stopped] if stopped else []
    if os.environ.get("LAMBDA_SLIM_TEST_CPU"):  # a worker's group the server kept busy, now empty
        for group in _CPUACCT.glob("lambda-slim-test-*"):
            with contextlib.suppress(OSError):  # a group still in use cannot be removed
                group.rmdir()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    for line in config.stash.get(_SUMMARY, []):
        terminalreporter.write_line(line)


# --- measuring: each test's wall and CPU seconds, when LAMBDA_SLIM_TEST_CPU names a file ----
_CPUACCT = Path("/sys/fs/cgroup/cpuacct")


def _own_cpuacct() -> tuple[Path, Path] | None:
    """A cgroup-v1 cpuacct group of this process's own (made when the cgroup is writable, as
    root), so the CPU of every descendant is counted, even of those ``getrusage`` never sees
    (bubblewrap's sandboxed children are reaped inside their PID namespace); returns it and the
    group this process was in."""
    group = _CPUACCT / f"lambda-slim-test-{os.getpid()}"
    try:
        was = next(line.split(":", 2)[2] for line in Path("/proc/self/cgroup").read_text().splitlines()
                   if line.split(":")[1] == "cpuacct")
        group.mkdir(exist_ok=True)
        (group / "cgroup.procs").write_text(str(os.getpid()))
    except (OSError, StopIteration, IndexError):
        return None
    return group, _CPUACCT / was.lstrip("/")


def _cpu_seconds(group: Path | None) -> float:
    """CPU time of this process and its descendants: the cgroup's, else what ``getrusage``
    sees (this process and the children it waited for)."""
    if group is not None:
        return int((group / "cpuacct.usage").read_text()) / 1e9
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


_CPU_GROUP = pytest.StashKey[tuple[Path, Path] | None]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    """Append ``worker, start, wall, cpu, nodeid`` (tab-separated) to $LAMBDA_SLIM_TEST_CPU: a
    test whose CPU is far below its wall waits (sleeps, timeouts, the network, a lock), and
    the starts show when a worker idles."""
    log = os.environ.get("LAMBDA_SLIM_TEST_CPU")
    if not log:
        return (yield)
    if _CPU_GROUP not in item.config.stash:
        item.config.stash[_CPU_GROUP] = _own_cpuacct()
    made = item.config.stash[_CPU_GROUP]
    group = made[0] if made else None
    start, cpu = time.time(), _cpu_seconds(group)
    try:
        return (yield)
    finally:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        with open(log, "a", encoding="utf-8") as out:
            out.write(f"{worker}\t{start:.1f}\t{time.time() - start:.2f}\t"
                      f"{_cpu_seconds(group) - cpu:.2f}\t{item.nodeid}\n")


# --- caches ---------------------------------------------------------------------------------
@pytest.fixture(scope="session", autouse=True)
def _session_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every build in the run uses a cache of its own run (results and resolutions start empty,
    so nothing an earlier run of older code decided is reused) whose wheel store is the user's
    warm one (content-addressed, proven on every use, so sharing it is safe)."""
    cache = warm_cache(tmp_path_factory.mktemp("run-cache"), shared_cache_root())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAMBDA_SLIM_CACHE_DIR", str(cache))
        yield cache


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real moto server on 127.0.0.1 for the whole session; yields its URL."""
    with moto_server() as url:
        yield url


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Fake credentials and AWS_ENDPOINT_URL pointing at the moto server."""
    for k, v in FAKE_AWS_ENV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    env = dict(os.environ)
    return env


@pytest.fixture(scope="session")
def aarch64_python() -> Aarch64Python:
    """A real aarch64 CPython 3.11 from Debian's arm64 packages, run under qemu-aarch64-static
    (assembled once, cached under ~/.cache/lambda-slim/test-aarch64-python/)."""
    try:
        return aarch64_python311()
    except RuntimeError as exc:
        pytest.fail(f"cannot assemble the aarch64 test interpreter: {exc}")
