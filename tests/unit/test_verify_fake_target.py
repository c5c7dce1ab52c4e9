"""Verification's verdicts on a real staging tree, with a fake target interpreter (tests/fakes.py)
standing in for every child run: the differential rule, culprit search and repair in
milliseconds. tests/integration proves the same wiring against real interpreters."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from lambda_slim.errors import VerifyError
from lambda_slim.progress import NullProgress
from lambda_slim.tree.inventory import read_inventory
from lambda_slim.tree.staging import PlanEntry, Staging
from lambda_slim.verify.diagnose import verify_tree
from lambda_slim.verify.probes import VerifyReport
from tests.fakes import FakeTarget
from tests.wheels import make_wheel


def _tree(tmp_path: Path) -> Staging:
    """``app`` (requested; its import reads app/core.py and app/data/table.json) and ``extra``
    (a dependency with an optional submodule ``extra.gui``), installed as pip --target does."""
    root = tmp_path / "python"
    house = tmp_path / "house"
    for whl in (
        make_wheel(house, "app", "1.0", {"app/__init__.py": "", "app/core.py": "",
                                         "app/data/table.json": "{}",
                                         "app/tests/test_app.py": ""}),
        make_wheel(house, "extra", "2.0", {"extra/__init__.py": "", "extra/gui.py": "",
                                           "extra/docs/guide.txt": "x" * 100}),
    ):
        with zipfile.ZipFile(whl) as zf:
            zf.extractall(root)
    return Staging(root, tmp_path / "trash")


def _verify(tmp_path: Path, staging: Staging, fake: FakeTarget, *, repair: bool = False,
            smoke: tuple[Path, ...] = ()) -> tuple[VerifyReport, FakeTarget]:
    inv = read_inventory(staging.root)
    report = verify_tree(fake.python(), staging, inv, NullProgress(), smoke=smoke, repair=repair,
                         requested=["app"])
    return report, fake


APP_NEEDS = {"app": ["app/__init__.py", "app/core.py", "app/data/table.json"],
             "extra": ["extra/__init__.py"]}


def test_a_pruned_tree_that_imports_passes_and_is_measured(tmp_path: Path) -> None:
    staging = _tree(tmp_path)
    staging.apply([PlanEntry("app/tests", "tests", 1), PlanEntry("extra/docs", "sources", 100)])
    report, fake = _verify(tmp_path, staging, FakeTarget(APP_NEEDS))
    assert report.status == "passed" and not report.failures
    assert report.init_ms == 50.0
    assert fake.calls == ["imports", "measure", "measure", "measure"]  # no second look; 3 timings


def test_the_rule_that_removed_a_needed_file_is_named_and_repair_puts_it_back(tmp_path: Path) -> None:
    staging = _tree(tmp_path)
    data = PlanEntry("app/data", "sources", 2)
    staging.apply([PlanEntry("app/tests", "tests", 1), data])
    with pytest.raises(VerifyError) as info:
        _verify(tmp_path, staging, FakeTarget(APP_NEEDS))
    assert "rule `sources` removed app/data" in info.value.message
    assert "--repair" in (info.value.hint or "")
    assert (staging.root / "app" / "data").exists()  # the culprit search left it in place
    assert not (staging.root / "app" / "tests").exists()  # and the innocent removal applied
    staging = _tree(tmp_path / "again")
    staging.apply([PlanEntry("app/tests", "tests", 1), data])
    report, _ = _verify(tmp_path, staging, FakeTarget(APP_NEEDS), repair=True)
    assert report.status == "repaired"
    assert (staging.root / "app" / "data" / "table.json").exists()
    assert not (staging.root / "app" / "tests").exists()  # only the culprit came back


def test_a_requested_package_failing_before_pruning_too_is_never_excused(tmp_path: Path) -> None:
    """The differential rule: "it fails with nothing pruned too" must not excuse everything."""
    staging = _tree(tmp_path)
    staging.apply([PlanEntry("app/tests", "tests", 1)])
    fake = FakeTarget(APP_NEEDS, broken={"app": "Traceback:\nRuntimeError: needs a GPU"})
    with pytest.raises(VerifyError) as info:
        _verify(tmp_path, staging, fake)
    assert "requested package app" in info.value.message and "needs a GPU" in info.value.message
    assert "even with nothing pruned" in info.value.message
    assert fake.calls == ["imports", "imports"]  # pruned, then unpruned: the differential look
    assert not (staging.root / "app" / "tests").exists()  # the plan is put back as it was


def test_a_smoke_script_failing_before_pruning_too_is_never_excused(tmp_path: Path) -> None:
    staging = _tree(tmp_path)
    smoke = tmp_path / "smoke.py"
    smoke.write_text("")
    fake = FakeTarget({**APP_NEEDS, "smoke:smoke.py": ["app/missing.bin"]})
    with pytest.raises(VerifyError) as info:
        _verify(tmp_path, staging, fake, smoke=(smoke,))
    assert f"smoke script {smoke}" in info.value.message


def test_an_optional_submodule_failing_before_pruning_too_is_a_warning(tmp_path: Path) -> None:
    """No false refusal: an optional part that fails with nothing pruned is not the layer's fault."""
    staging = _tree(tmp_path)
    staging.apply([PlanEntry("extra/docs", "sources", 100)])
    gui_error = "Traceback:\nModuleNotFoundError: No module named 'tkinter'"
    fake = FakeTarget(APP_NEEDS, broken={"extra.gui": gui_error}, submodules={"extra": ["extra.gui"]})
    report, _ = _verify(tmp_path, staging, fake)
    assert report.status == "passed"
    assert [(o.item, o.reason) for o in report.optional_failures] == [
        ("extra.gui", "ModuleNotFoundError: No module named 'tkinter'")]
