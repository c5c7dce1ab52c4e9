"""Runtime lifecycle: deprecated runtimes are named, with their blocks and where to move."""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path

import pytest

from lambda_slim.check.scan import check_paths
from lambda_slim.errors import EXIT_OK
from lambda_slim.target.runtimes import RUNTIMES, lifecycle_warning, successor

PY310 = RUNTIMES["python3.10"]


@pytest.mark.parametrize(("today", "parts", "absent"), [
    (date(2026, 10, 30), None, None),
    (date(2026, 11, 1), ["deprecated since 2026-10-31",
                         "creating functions on it will be blocked from 2026-11-30"],
     "is blocked since"),
    (date(2026, 12, 7), ["creating functions on it is blocked since 2026-11-30",
                         "updating functions on it will be blocked from 2027-01-15"], None),
    (date(2027, 2, 1), ["updating functions on it is blocked since 2027-01-15"],
     "will be blocked"),
])
def test_python310_lifecycle_relative_to_today(today: date, parts: list[str] | None,
                                               absent: str | None) -> None:
    text = lifecycle_warning(PY310, today)
    if parts is None:
        assert text is None
        return
    assert text is not None
    for p in parts:
        assert p in text
    assert absent is None or absent not in text
    assert "Move to python3.13" in text and "--runtime python3.13" in text
    assert "lambda-python.html" in text  # the source is named


def test_every_runtime_has_a_sourced_lifecycle_and_current_ones_are_quiet() -> None:
    assert all(r.lifecycle is not None and "lambda-python" in r.lifecycle.source
               for r in RUNTIMES.values())
    assert RUNTIMES["python3.11"].lifecycle is not None
    assert RUNTIMES["python3.11"].lifecycle.deprecated == date(2027, 6, 30)
    assert lifecycle_warning(RUNTIMES["python3.12"], date(2026, 12, 7)) is None
    assert lifecycle_warning(RUNTIMES["python3.11"], date(2026, 12, 7)) is None
    assert "python3.11 is deprecated" in (lifecycle_warning(RUNTIMES["python3.11"],
                                                            date(2027, 7, 1)) or "")
    assert successor(RUNTIMES["python3.14"], date(2030, 1, 1)) is None


def test_check_warns_for_a_deprecated_runtime(tmp_path: Path) -> None:
    z = tmp_path / "layer.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("python/six.py", "x = 1\n")
    old = check_paths([z], runtime="python3.10", arch="x86_64", today=date(2026, 12, 7))
    (finding,) = [f for f in old.all_findings if f.code == "runtime-deprecated"]
    assert finding.level == "warning" and "creating functions on it is blocked" in finding.message
    assert old.exit_code == EXIT_OK  # a warning, not a failed gate
    new = check_paths([z], runtime="python3.12", arch="x86_64", today=date(2026, 12, 7))
    assert not [f for f in new.all_findings if f.code == "runtime-deprecated"]
