"""``check`` judges a missing system library by loadability, as ``build`` does: a warning unless
a run showed the file loaded (the verification of the build that made the zip, recorded in
its manifest) or ``--strict``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambda_slim.artifact.atomic import sha256_file
from lambda_slim.artifact.manifest import read_build_proof
from lambda_slim.artifact.zipwrite import write_layer_zip
from lambda_slim.check import check_paths
from lambda_slim.check.closure import MISSING, OPTIONAL, Loads, judge_misses
from lambda_slim.cli import main
from lambda_slim.errors import EXIT_NATIVE, EXIT_OK, InputError
from lambda_slim.native.closure import ClosureResult, Miss, advice_for
from lambda_slim.target.syslibs import runtime_syslibs
from tests.native_build import extension, shared_lib

SYSLIBS = runtime_syslibs("python3.12", "x86_64")
PLUGIN = "/opt/python/pkg/_plugin.so"
CORE = "/opt/python/pkg/_core.so"


def _miss(file: str, soname: str) -> Miss:
    return Miss(file, soname, "pkg", advice_for(soname, "pkg"))


CLOSURE = ClosureResult(2, (_miss(CORE, "libcore.so.1"), _miss(PLUGIN, "libtk8.6.so")))
ORIGIN = {CORE: "layer.zip", PLUGIN: "layer.zip"}


def test_without_a_run_every_miss_is_a_warning_naming_file_library_and_meaning() -> None:
    found = judge_misses(CLOSURE, ORIGIN, SYSLIBS)
    assert [(f.level, f.code, f.path) for f in found] == [("warning", OPTIONAL, "layer.zip")] * 2
    plugin = next(f.message for f in found if f.message.startswith(PLUGIN))
    assert "needs libtk8.6.so, which Lambda's python3.12 does not provide" in plugin
    assert "fails only if something loads it" in plugin
    assert "`lambda-slim build` proves which files an import loads" in plugin
    assert "--strict makes this an error" in plugin
    assert "If it is used: provide libtk8.6.so" in plugin and "--system-lib libtk8.6.so" in plugin


def test_strict_makes_every_miss_an_error_with_the_builds_message() -> None:
    found = judge_misses(CLOSURE, ORIGIN, SYSLIBS, strict=True)
    assert [(f.level, f.code) for f in found] == [("error", MISSING)] * 2
    assert found[0].message == CLOSURE.misses[0].message()


def test_a_run_that_loaded_a_file_makes_it_an_error_and_judges_the_others() -> None:
    run = Loads(frozenset({CORE}), "the verification of the build (sandbox, l.manifest.json)",
                frozenset({"layer.zip"}), ("libcore.so.1",))
    found = judge_misses(CLOSURE, ORIGIN, SYSLIBS, loads=[run])
    (err,) = [f for f in found if f.level == "error"]
    assert err.code == MISSING and err.message.startswith(f"{CORE} (from pkg) needs libcore.so.1")
    assert "the verification of the build (sandbox, l.manifest.json) loads it" in err.message
    assert "--system-lib libcore.so.1" in err.message and "check that layer together" in err.message
    (warn,) = [f for f in found if f.level == "warning"]
    assert warn.code == OPTIONAL and warn.message.startswith(PLUGIN)
    assert "judged optional by the verification of the build (sandbox" in warn.message
    # a run over another PATH judges nothing here
    elsewhere = Loads(frozenset(), "x", frozenset({"other.zip"}))
    assert all("judged" not in f.message
               for f in judge_misses(CLOSURE, ORIGIN, SYSLIBS, loads=[elsewhere]))


# --- the build manifest beside the zip ---------------------------------------------------


@pytest.fixture
def plugin_layer(tmp_path: Path) -> Path:
    """A layer whose optional plugin links libstubdep.so.1, which Lambda does not have."""
    stub = shared_lib(tmp_path / "build" / "libstubdep.so.1", "libstubdep.so.1")
    tree = tmp_path / "tree"
    (tree / "pkg").mkdir(parents=True)
    (tree / "pkg" / "__init__.py").write_text("VALUE = 1\n")
    extension(tree / "pkg" / "_plugin.so", links=(str(stub),))
    return write_layer_zip(tree, tmp_path / "layer.zip").path


def _manifest(zpath: Path, loaded: list[str] | None, *, status: str = "passed",
              sha: str | None = None, system_libs: tuple[str, ...] = ()) -> Path:
    path = zpath.with_name("layer.manifest.json")
    path.write_text(json.dumps({
        "target": {"runtime": "python3.12", "arch": "x86_64"},
        "zip_sha256": sha or sha256_file(zpath), "removed": [],
        "verify": {"status": status, "environment": "sandbox", "strict": False,
                   "system_libs": list(system_libs), "loaded_native_files": loaded,
                   "optional_failures": []},
    }))
    return path


def _codes(zpath: Path, **kw: object) -> list[tuple[str, str]]:
    return [(f.level, f.code) for f in check_paths([zpath], **kw).all_findings]  # type: ignore[arg-type]


def test_a_verified_build_judges_its_zip(plugin_layer: Path) -> None:
    _manifest(plugin_layer, ["python/pkg/__init__.so"])
    report = check_paths([plugin_layer])
    assert report.exit_code == EXIT_OK
    (f,) = report.all_findings
    assert f.code == OPTIONAL and f.message.startswith("/opt/python/pkg/_plugin.so needs")
    assert "judged optional by the verification of the build that made this zip (sandbox, " \
           "layer.manifest.json)" in f.message
    # that build saw the plugin loaded (it was told another layer provides the library)
    _manifest(plugin_layer, ["python/pkg/_plugin.so"], system_libs=("libstubdep.so.1",))
    report = check_paths([plugin_layer])
    assert report.exit_code == EXIT_NATIVE
    (f,) = report.all_findings
    assert f.code == MISSING and "layer.manifest.json) loads it" in f.message
    assert "--system-lib libstubdep.so.1" in f.message
    assert check_paths([plugin_layer], system_libs=["libstubdep.so.1"]).exit_code == EXIT_OK


def test_an_unverified_or_stale_manifest_proves_nothing(plugin_layer: Path) -> None:
    for status, loaded in (("skipped", None), ("passed", None), ("failed", [])):
        _manifest(plugin_layer, loaded, status=status)
        (f,) = check_paths([plugin_layer]).all_findings
        assert f.code == OPTIONAL and "judged" not in f.message, status
    _manifest(plugin_layer, ["python/pkg/_plugin.so"], sha="0" * 64)
    assert sorted(_codes(plugin_layer)) == [("warning", "manifest-stale"), ("warning", OPTIONAL)]
    (stale,) = [f for f in check_paths([plugin_layer]).all_findings if f.code == "manifest-stale"]
    assert "describes another zip" in stale.message and "Rebuild" in stale.message
    # a manifest from before the verify section: judged alone
    path = plugin_layer.with_name("layer.manifest.json")
    path.write_text(json.dumps({"target": {"runtime": "python3.12", "arch": "x86_64"}}))
    assert read_build_proof(path) is None
    assert _codes(plugin_layer) == [("warning", OPTIONAL)]


def test_a_malformed_verify_section_is_bad_input(plugin_layer: Path) -> None:
    path = _manifest(plugin_layer, [])
    doc = json.loads(path.read_text())
    doc["verify"]["loaded_native_files"] = "python/pkg/_plugin.so"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="malformed \"verify\" section"):
        check_paths([plugin_layer])


def test_cli_strict_and_json(plugin_layer: Path, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "c.json"
    assert main(["check", str(plugin_layer), "--json", str(out)]) == EXIT_OK
    doc = json.loads(out.read_text())
    assert doc["strict"] is False and doc["exit_code"] == 0
    assert [(f["level"], f["code"]) for f in doc["findings"]] == [("warning", OPTIONAL)]
    assert "fails only if something loads it" in capsys.readouterr().err
    assert main(["check", str(plugin_layer), "--strict", "--json", str(out)]) == EXIT_NATIVE
    doc = json.loads(out.read_text())
    assert doc["strict"] is True and doc["verdict"] == "native files cannot run"
    assert [(f["level"], f["code"]) for f in doc["findings"]] == [("error", MISSING)]


# --- check --verify: what an import check in the sandbox shows ---------------------------

LOADER_ERR = ("Traceback (most recent call last):\n  File \"/opt/python/pkg/__init__.py\", line 2\n"
              "OSError: libcore.so.1: cannot open shared object file: No such file or directory")


def test_verify_a_failed_import_names_the_files_behind_it() -> None:
    from lambda_slim.check.verify import _judge

    got = _judge({"pkg": LOADER_ERR}, ["/opt/python/other/_x.so"], CLOSURE, SYSLIBS, "sandbox")
    assert got.findings == ()
    run, failed = got.loads
    assert run.files == {"/opt/python/other/_x.so"} and run.failed == {"pkg"}
    assert failed.files == {CORE} and failed.by == "`import pkg` in the Lambda-like sandbox " \
                                                     "(check --verify)"
    found = judge_misses(CLOSURE, ORIGIN, SYSLIBS, loads=got.loads)
    (err,) = [f for f in found if f.level == "error"]
    assert err.path == "layer.zip" and err.message.startswith(f"{CORE} (from pkg) needs libcore")
    assert "`import pkg` in the Lambda-like sandbox (check --verify) loads it" in err.message
    # pkg's import failed: what else it would load is unknown, so its plugin is not judged
    (warn,) = [f for f in found if f.level == "warning"]
    assert warn.message.startswith(PLUGIN) and "judged" not in warn.message
    assert "(check --verify) could not tell: `import pkg` failed (above)" in warn.message


def test_verify_judges_files_of_imports_that_passed() -> None:
    from lambda_slim.check.verify import _judge

    got = _judge({}, [CORE], CLOSURE, SYSLIBS, "host")
    found = judge_misses(CLOSURE, ORIGIN, SYSLIBS, loads=got.loads)
    assert [(f.level, f.message.split(" ", 1)[0]) for f in found] == [
        ("error", CORE), ("warning", PLUGIN)]
    assert "importing the distributions' own packages in this host (check --verify) loads it" \
        in found[0].message
    assert "judged optional by importing" in found[1].message


def test_verify_a_library_no_static_audit_sees_and_other_failures() -> None:
    from lambda_slim.check.verify import IMPORT_FAILED, _judge

    failed = {"magic": "ImportError: failed to find libmagic.  Check your installation",
              "needsdeps": "ModuleNotFoundError: No module named 'numpy'"}
    got = _judge(failed, [], ClosureResult(0, ()), SYSLIBS, "sandbox")
    levels = {(f.level, f.code) for f in got.findings}
    assert levels == {("error", MISSING), ("warning", IMPORT_FAILED)}
    (err,) = [f for f in got.findings if f.level == "error"]
    assert "magic: missing system library libmagic" in err.message
    assert "Lambda-like sandbox" in err.message and "--system-lib" in err.message
    (warn,) = [f for f in got.findings if f.level == "warning"]
    assert "`import needsdeps` fails in the Lambda-like sandbox" in warn.message
    assert "No module named 'numpy'" in warn.message


def test_check_paths_hands_the_paths_and_target_to_the_verifier(plugin_layer: Path) -> None:
    from lambda_slim.check.verify import Verified
    from lambda_slim.target.runtimes import Target

    seen: list[tuple[list[tuple[Path, str]], Target, ClosureResult]] = []

    def fake(paths: object, target: Target, closure: ClosureResult,
             syslibs: object) -> Verified:
        seen.append((list(paths), target, closure))  # type: ignore[call-overload]
        return Verified((Loads(frozenset({"/opt/python/pkg/_plugin.so"}), "a fake run"),), ())

    report = check_paths([plugin_layer], runtime="python3.13", verify=fake)
    ((paths, target, closure),) = seen
    assert paths == [(plugin_layer, "layer")] and target.runtime.name == "python3.13"
    assert [m.file for m in closure.misses] == ["/opt/python/pkg/_plugin.so"]
    assert report.exit_code == EXIT_NATIVE
    assert "a fake run loads it" in report.all_findings[0].message


def test_cli_require_verify_needs_verify(plugin_layer: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(plugin_layer), "--require-verify"]) == 2
    assert "--require-verify needs --verify" in capsys.readouterr().err
