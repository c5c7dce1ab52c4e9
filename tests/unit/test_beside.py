"""Work run beside a build stage (the init-time measurement beside the zip, compiling beside
the strip): its error reaches the caller, and it is always waited for."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from lambda_slim.build.bytecode import beside
from lambda_slim.errors import VerifyError
from lambda_slim.target.proc import run


def test_join_returns_after_the_work_and_reraises_its_error() -> None:
    done = threading.Event()

    def slow() -> None:
        time.sleep(0.2)
        done.set()

    with beside(slow) as join:
        join()
        assert done.is_set()

    def fails() -> None:
        raise VerifyError("peak memory does not fit")

    with pytest.raises(VerifyError, match="peak memory"), beside(fails) as join:
        join()


def test_an_unjoined_error_still_surfaces_on_the_way_out() -> None:
    def fails() -> None:
        raise VerifyError("measured after the body")

    with pytest.raises(VerifyError, match="measured after"), beside(fails):
        pass


def test_the_body_error_wins_and_the_work_is_waited_for() -> None:
    finished = threading.Event()

    def slow_fail() -> None:
        time.sleep(0.2)
        finished.set()
        raise VerifyError("second")

    with pytest.raises(KeyError), beside(slow_fail):
        raise KeyError("first")
    assert finished.is_set()  # nothing still runs once the tree may be removed


def test_no_work_is_a_no_op() -> None:
    with beside(None) as join:
        join()


def test_a_failed_body_kills_the_works_children_instead_of_waiting_for_them() -> None:
    """Ctrl-C sent to the build alone (``kill -INT``, so its children do not get it) while the
    init-time measurement runs a smoke script that sleeps: the build stops now, not when the
    script ends (test_interrupted_build_keeps_previous_zip timed out on a loaded machine)."""
    started = threading.Event()
    results: list[int] = []

    def sleeper() -> None:
        started.set()
        results.append(run([sys.executable, "-c", "import time; time.sleep(60)"]).returncode)
        run([sys.executable, "-c", "pass"])  # a next child is not started at all

    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt), beside(sleeper):
        assert started.wait(10)
        time.sleep(0.3)  # the child has started
        raise KeyboardInterrupt
    assert time.monotonic() - t0 < 20
    assert results and results[0] < 0  # killed, not finished
    assert run([sys.executable, "-c", "pass"]).returncode == 0  # later builds run children
