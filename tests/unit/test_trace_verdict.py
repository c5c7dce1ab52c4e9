"""--trace and the verdict agree (issue 18), with a fake target interpreter (tests/fakes.py):
a module that stops importing only because the trace cut what it needs is reported as cut
by the trace, never a refusal; the verdict's promises (requested own imports, smoke scripts,
other rules judged differentially, --strict) still hold. And the trace workload sees what
verification sees: the stand-in /var/runtime, not the SDK copy a rule removed."""

from __future__ import annotations

import json
import subprocess
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from lambda_slim.errors import VerifyError
from lambda_slim.progress import NullProgress
from lambda_slim.target.python import Interpreter, TargetPython
from lambda_slim.tree.inventory import read_inventory
from lambda_slim.tree.staging import PlanEntry, Staging
from lambda_slim.verify.diagnose import lambda_paths, verify_tree
from lambda_slim.verify.probes import VerifyReport
from lambda_slim.verify.trace import trace_stage
from lambda_slim.verify.verdict import TRACE_CUT, split_trace_cut
from tests.fakes import FakeTarget
from tests.wheels import make_wheel

LOKY = ["joblib/externals/loky/__init__.py", "joblib/externals/loky/process_executor.py"]


def _tree(tmp_path: Path) -> Staging:
    """A joblib-like distribution whose public ``executor`` module imports a subpackage a
    thread-only workload never touches (loky, when there is no /dev/shm)."""
    root = tmp_path / "python"
    files: dict[str, str | bytes] = {
        "joblib/__init__.py": "", "joblib/parallel.py": "", "joblib/executor.py": "",
        "joblib/externals/__init__.py": "", **{f: "x" * 1000 for f in LOKY}}
    whl = make_wheel(tmp_path / "house", "joblib", "1.0", files)
    with zipfile.ZipFile(whl) as zf:
        zf.extractall(root)
    return Staging(root, tmp_path / "trash")


def _fake(needs: Mapping[str, Sequence[str]] | None = None) -> FakeTarget:
    """``joblib.executor`` reads loky's ``__init__``; ``needs`` adds or overrides items."""
    base: dict[str, Sequence[str]] = {"joblib": ["joblib/__init__.py"],
                                      "joblib.executor": [LOKY[0]], "joblib.parallel": []}
    return FakeTarget({**base, **(needs or {})},
                      submodules={"joblib": ["joblib.parallel", "joblib.executor"]})


def _verify(tmp_path: Path, staging: Staging, fake: FakeTarget, cut: Mapping[str, str], *,
            strict: bool = False, repair: bool = False,
            smoke: tuple[Path, ...] = ()) -> VerifyReport:
    """Verify after applying ``cut`` (path -> rule), as the build leaves the tree."""
    inv = read_inventory(staging.root)
    staging.apply([PlanEntry(rel, rule, (staging.root / rel).stat().st_size)
                   for rel, rule in cut.items()])
    return verify_tree(fake.python(), staging, inv, NullProgress(), requested=["joblib"],
                       strict=strict, repair=repair, smoke=smoke)


def test_a_module_the_trace_cut_is_reported_not_refused(tmp_path: Path) -> None:
    staging = _tree(tmp_path)
    report = _verify(tmp_path, staging, _fake(), dict.fromkeys(LOKY, "trace"))
    assert report.status == "passed" and not report.failures and not report.culprits
    [opt] = report.optional_failures
    assert opt.item == "joblib.executor"
    assert opt.reason.startswith(TRACE_CUT)
    assert "No module named 'joblib.externals.loky'" in opt.reason
    assert opt.reason.endswith("; rule `trace` removed joblib/externals/loky (2 files, "
                               "2.0 KiB), --keep joblib/externals/loky keeps it")
    assert all(not (staging.root / f).exists() for f in LOKY)  # the cut stays


def test_the_same_removal_by_another_rule_is_still_refused(tmp_path: Path) -> None:
    staging = _tree(tmp_path)
    with pytest.raises(VerifyError) as info:
        _verify(tmp_path, staging, _fake(), dict.fromkeys(LOKY, "sources"))
    assert "rule `sources` removed joblib/externals/loky/__init__.py, imported by " \
        "joblib.executor" in info.value.message


def test_a_requested_packages_own_import_broken_by_the_trace_is_refused(tmp_path: Path) -> None:
    staging = _tree(tmp_path)
    with pytest.raises(VerifyError) as info:
        _verify(tmp_path, staging, _fake({"joblib": ["joblib/__init__.py", LOKY[1]]}),
                dict.fromkeys(LOKY, "trace"))
    assert f"rule `trace` removed {LOKY[1]}, imported by joblib" in info.value.message


def test_a_smoke_script_broken_by_the_trace_is_refused(tmp_path: Path) -> None:
    staging = _tree(tmp_path)
    smoke = tmp_path / "smoke.py"
    smoke.write_text("")
    with pytest.raises(VerifyError) as info:
        _verify(tmp_path, staging, _fake({"smoke:smoke.py": [LOKY[0]]}),
                dict.fromkeys(LOKY, "trace"), smoke=(smoke,))
    assert "rule `trace` removed" in info.value.message and "smoke script" in info.value.message


def test_strict_refuses_what_the_trace_cut(tmp_path: Path) -> None:
    staging = _tree(tmp_path)
    with pytest.raises(VerifyError) as info:
        _verify(tmp_path, staging, _fake(), dict.fromkeys(LOKY, "trace"), strict=True)
    assert "rule `trace` removed joblib/externals/loky/__init__.py" in info.value.message


def test_repair_restores_other_rules_culprits_and_keeps_the_trace_cut(tmp_path: Path) -> None:
    staging = _tree(tmp_path)
    cut = {**dict.fromkeys(LOKY, "trace"), "joblib/parallel.py": "sources"}
    report = _verify(tmp_path, staging, _fake({"joblib.parallel": ["joblib/parallel.py"]}), cut,
                     repair=True)
    assert report.status == "repaired"
    assert [(c.rule, c.path) for c in report.culprits] == [("sources", "joblib/parallel.py")]
    assert [o.item for o in report.optional_failures] == ["joblib.executor"]
    assert (staging.root / "joblib/parallel.py").exists()
    assert not (staging.root / LOKY[0]).exists()


def test_split_trace_cut() -> None:
    broke = ["pkg", "pkg.opt", "smoke:/w/s.py"]
    assert split_trace_cut(broke, {"pkg"}) == (["pkg", "smoke:/w/s.py"], ["pkg.opt"])
    assert split_trace_cut(broke, {"pkg"}, strict=True) == (broke, [])


def _recording_python(seen: list[dict[str, object]]) -> TargetPython:
    """A target whose every run records its JSON argument and fails (no payload)."""
    def runner(cmd: Sequence[str], *, cwd: Path | None = None,
               env: Mapping[str, str] | None = None,
               timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        seen.append(json.loads(cmd[-1]))
        return subprocess.CompletedProcess(list(cmd), 1, "", "ModuleNotFoundError: x")
    return TargetPython(Interpreter(Path("/fake/python3.12"), (3, 12)), {}, runner)


@pytest.mark.parametrize("with_stand_in", [True, False])
def test_the_trace_workload_sees_what_verification_sees(tmp_path: Path,
                                                        with_stand_in: bool) -> None:
    """With a stand-in /var/runtime the workload sees it after the layer, a function's layers
    and its own folder, never the SDK copy the runtime-provided rule removed; without one
    (offline) the removed copy stands in, as for verification."""
    staging = _tree(tmp_path)
    (staging.root / "botocore").mkdir()
    (staging.root / "botocore/__init__.py").write_text("")
    staging.apply([PlanEntry("botocore/__init__.py", "runtime-provided", 0)])
    runtime, fn_layer, work = tmp_path / "var-runtime", tmp_path / "fn-layer", tmp_path / "w"
    for d in (runtime, fn_layer, work):
        d.mkdir()
    script = work / "work.py"
    script.write_text("")
    seen: list[dict[str, object]] = []
    stand_in = runtime if with_stand_in else None
    with pytest.raises(VerifyError) as info:
        trace_stage(_recording_python(seen), staging, [], [script], "package", (),
                    extra_paths=[fn_layer], runtime_dir=stand_in,
                    runtime_sdk="boto3 1.34.42 / botocore 1.34.42")
    expected = stand_in or staging.rule_root("runtime-provided")
    assert seen[0]["paths"] == [str(staging.root), str(work), str(fn_layer), str(expected)]
    assert lambda_paths(staging, [fn_layer], stand_in) == [staging.root, fn_layer, expected]
    assert ("botocore 1.34.42, in /var/runtime" in (info.value.hint or "")) is with_stand_in
