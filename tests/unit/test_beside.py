"""Work run beside a build stage (the init-time measurement beside the zip, compiling beside
the strip): its error reaches the caller, and it is always waited for."""

from __future__ import annotations

import threading
import time

import pytest

from lambda_slim.build.bytecode import beside
from lambda_slim.errors import VerifyError


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
