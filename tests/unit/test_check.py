from __future__ import annotations

import json
import os
import platform
import shutil
from pathlib import Path

import pytest

from lambda_slim.artifact.zipread import read_zip_listing
from lambda_slim.artifact.zipwrite import write_layer_zip, write_zip
from lambda_slim.check import (
    check_paths,
    github_annotations,
    markdown_summary,
    top_level_package,
)
from lambda_slim.cli import main
from lambda_slim.errors import EXIT_NATIVE, EXIT_OK, EXIT_OVER_BUDGET, EXIT_USAGE, InputError
from tests.regressions.zipcraft import find_real_elf, make_zip, set_elf_machine

HOST_ARCH = {"x86_64": "x86_64", "aarch64": "arm64"}.get(platform.machine())
OTHER_MACHINE = 183 if HOST_ARCH == "x86_64" else 62  # EM_AARCH64 / EM_X86_64
needs_linux_elf = pytest.mark.skipif(HOST_ARCH is None or not Path("/usr/lib").is_dir(),
                                     reason="needs a Linux x86_64/aarch64 host with real ELFs")


def _tree(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return root


def _layer(tmp_path: Path, name: str, files: dict[str, bytes]) -> Path:
    tree = _tree(tmp_path / f"{name}-tree", files)
    return write_layer_zip(tree, tmp_path / f"{name}.zip").path


def _function(tmp_path: Path, name: str, files: dict[str, bytes]) -> Path:
    from lambda_slim.artifact.zipwrite import walk_files

    tree = _tree(tmp_path / f"{name}-tree", files)
    return write_zip(walk_files(tree), tmp_path / f"{name}.zip").path


@pytest.fixture
def modern_so() -> Path:
    """A real .so that runs on python3.12 (glibc <= 2.34)."""
    p = find_real_elf((2, 2), (2, 34))
    if p is None or HOST_ARCH is None:
        pytest.skip("no small real ELF found on this machine")
    return p


# --- sizes and packages ------------------------------------------------------------------


def test_top_level_package() -> None:
    assert top_level_package("python/numpy/core/x.so", "layer") == "numpy"
    assert top_level_package("python/lib/python3.12/site-packages/pandas/a.py", "layer") == \
        "pandas"
    assert top_level_package("python/six.py", "layer") == "six"
    assert top_level_package("python/_cffi.cpython-312-x86_64-linux-gnu.so", "layer") == "_cffi"
    assert top_level_package("bin/tool", "layer") == "bin/ (outside python/)"
    assert top_level_package("handler.py", "function") == "handler"
    assert top_level_package("app/views.py", "function") == "app"


def test_sizes_come_from_the_central_directory(tmp_path: Path) -> None:
    z = _layer(tmp_path, "layer", {
        "big/__init__.py": b"x" * 50_000,
        "big/data.bin": os.urandom(20_000),
        "lib/python3.12/site-packages/small/a.py": b"a" * 10,
        "six.py": b"s" * 100,
    })
    report = check_paths([z], runtime="python3.12", arch="x86_64")
    listing = read_zip_listing(z)
    (r,) = report.paths
    assert r.kind == "layer" and r.source == "zip"
    assert r.unzipped == listing.unzipped_bytes == 70_110
    assert r.zipped == z.stat().st_size
    assert r.files == 4
    assert [(p.name, p.unzipped, p.files) for p in r.packages] == [
        ("big", 70_000, 2), ("six", 100, 1), ("small", 10, 1)]
    assert report.exit_code == EXIT_OK and report.verdict == "pass"
    assert report.all_findings == ()
    assert report.share == pytest.approx(70_110 / 262_144_000)


def test_over_budget_and_near_budget(tmp_path: Path) -> None:
    z = _layer(tmp_path, "layer", {"pkg/a.bin": b"a" * 10_000})
    over = check_paths([z], budget=9_999)
    assert over.exit_code == EXIT_OVER_BUDGET
    (f,) = over.findings
    assert f.code == "over-budget" and "pkg" in f.message and "10,000 bytes" in f.message
    near = check_paths([z], budget=10_500)
    assert near.exit_code == EXIT_OK
    assert [f.code for f in near.findings] == ["near-budget"]
    assert check_paths([z], budget=10_000).exit_code == EXIT_OK


def test_function_plus_layers_sum(tmp_path: Path) -> None:
    layer = _layer(tmp_path, "layer", {"dep/a.py": b"d" * 6_000})
    fn = _function(tmp_path, "fn", {"handler.py": b"h" * 5_000})
    report = check_paths([fn, layer], budget=10_000)
    assert [r.kind for r in report.paths] == ["function", "layer"]
    assert report.unzipped == 11_000
    assert report.exit_code == EXIT_OVER_BUDGET


def test_more_than_five_layers(tmp_path: Path) -> None:
    layers = [_layer(tmp_path, f"l{i}", {f"p{i}.py": b"x"}) for i in range(6)]
    report = check_paths(layers)
    assert report.exit_code == EXIT_OVER_BUDGET
    assert [f.code for f in report.findings] == ["too-many-layers"]
    assert check_paths(layers[:5]).exit_code == EXIT_OK


def test_layer_files_outside_python_warn(tmp_path: Path) -> None:
    misplaced = _function(tmp_path, "misplaced", {"numpy/__init__.py": b"x", "lib/libz.so": b"z"})
    fn = _function(tmp_path, "fn", {"handler.py": b"h"})
    report = check_paths([misplaced], function=fn)
    layer = report.paths[0]
    assert layer.kind == "layer"
    (f,) = layer.findings
    assert f.code == "outside-python" and "numpy/__init__.py" in f.message
    assert "lib/libz.so" not in f.message  # /opt/lib is a legitimate layer folder
    assert report.exit_code == EXIT_OK
    # without --function, the second function-looking PATH is taken as a layer, with a hint
    auto = check_paths([fn, misplaced])
    assert sorted(f.code for f in auto.paths[1].findings) == ["outside-python", "second-function"]


def test_mixed_layer_warns(tmp_path: Path) -> None:
    z = tmp_path / "mixed.zip"
    z.write_bytes(make_zip([("python/ok.py", b"1"), ("stray.py", b"2")]))
    (r,) = check_paths([z]).paths
    assert r.kind == "layer" and [f.code for f in r.findings] == ["outside-python"]


def test_directory_path(tmp_path: Path) -> None:
    d = _tree(tmp_path / "build" / "python", {"pkg/a.py": b"a" * 300, "b.py": b"b"})
    report = check_paths([d])
    (r,) = report.paths
    assert (r.kind, r.source, r.unzipped, r.zipped, r.files) == ("layer", "directory", 301,
                                                                  None, 2)
    assert report.zipped is None


def test_empty_zip_warns(tmp_path: Path) -> None:
    z = tmp_path / "empty.zip"
    z.write_bytes(make_zip([]))
    (r,) = check_paths([z]).paths
    assert [f.code for f in r.findings] == ["empty"]


def test_missing_and_duplicate_paths(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        check_paths([tmp_path / "nope.zip"])
    z = _layer(tmp_path, "layer", {"a.py": b""})
    with pytest.raises(InputError, match="given twice"):
        check_paths([z, z])
    with pytest.raises(InputError, match="No PATH"):
        check_paths([])


# --- native files ----------------------------------------------------------------------------


@needs_linux_elf
def test_real_elf_passes(tmp_path: Path, modern_so: Path) -> None:
    z = _layer(tmp_path, "layer", {"native/_ext.so": modern_so.read_bytes()})
    report = check_paths([z], runtime="python3.12", arch=HOST_ARCH)
    assert report.exit_code == EXIT_OK, report.all_findings


@needs_linux_elf
def test_wrong_arch_elf(tmp_path: Path, modern_so: Path) -> None:
    data = set_elf_machine(modern_so.read_bytes(), OTHER_MACHINE)
    z = _layer(tmp_path, "layer", {"native/libfoo.so.1": data})
    report = check_paths([z], runtime="python3.12", arch=HOST_ARCH)
    assert report.exit_code == EXIT_NATIVE
    (f,) = report.paths[0].findings
    assert f.code == "native-arch"
    assert "python/native/libfoo.so.1 (from native)" in f.message
    assert f.path == str(z)


@needs_linux_elf
def test_glibc_too_new_for_runtime(tmp_path: Path) -> None:
    so = find_real_elf((2, 27), (2, 34))
    if so is None:
        pytest.skip("no real ELF needing glibc 2.27..2.34 here")
    z = _layer(tmp_path, "layer", {"pkg/_x.so": so.read_bytes()})
    old = check_paths([z], runtime="python3.10", arch=HOST_ARCH)
    (f,) = old.paths[0].findings
    assert f.code == "native-glibc" and "python3.10" in f.message and "2.26" in f.message
    assert check_paths([z], runtime="python3.12", arch=HOST_ARCH).exit_code == EXIT_OK


@needs_linux_elf
def test_target_from_manifest_sidecar(tmp_path: Path, modern_so: Path) -> None:
    z = _layer(tmp_path, "layer", {"pkg/_x.so": modern_so.read_bytes()})
    other = "arm64" if HOST_ARCH == "x86_64" else "x86_64"
    (tmp_path / "layer.manifest.json").write_text(json.dumps(
        {"target": {"runtime": "python3.13", "arch": other, "glibc": "2.34"}}))
    report = check_paths([z])
    assert report.target.runtime.name == "python3.13" and report.target.arch == other
    assert report.target_source == "layer.manifest.json"
    assert report.exit_code == EXIT_NATIVE
    # flags win over the sidecar
    flagged = check_paths([z], arch=HOST_ARCH)
    assert flagged.exit_code == EXIT_OK
    assert flagged.target_source == "layer.manifest.json and flags"


def test_macho_and_garbage_elf(tmp_path: Path) -> None:
    z = _layer(tmp_path, "layer", {
        "pkg/_mac.so": b"\xcf\xfa\xed\xfe" + b"\0" * 100,
        "pkg/_bad.so": b"\x7fELF" + b"\xff" * 100,
    })
    report = check_paths([z])
    assert sorted(f.code for f in report.paths[0].findings) == ["native-format",
                                                                 "native-malformed"]
    assert report.exit_code == EXIT_NATIVE


# --- GitHub Actions output ---------------------------------------------------------------


def test_annotations_and_summary(tmp_path: Path) -> None:
    z = _layer(tmp_path, "la,yer", {"pkg/a.py": b"a" * 100})
    report = check_paths([z], budget=50)
    lines = github_annotations(report)
    assert lines[0].startswith("::error title=lambda-slim check%3A over-budget::")
    md = markdown_summary(report)
    assert "| path | kind | unzipped |" in md and "over budget" in md
    assert "| **total** |" in md
    warn = check_paths([_function(tmp_path, "m", {"x.py": b"1"})], function=None)
    assert github_annotations(warn) == []


# --- CLI -----------------------------------------------------------------------------------


def test_cli_pass_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    z = _layer(tmp_path, "layer", {"pkg/a.py": b"a" * 1000})
    out = tmp_path / "check.json"
    assert main(["check", str(z), "--budget", "250MiB", "--json", str(out)]) == EXIT_OK
    doc = json.loads(out.read_text())
    assert doc["schema"] == "lambda-slim/check/1"
    assert doc["budget_bytes"] == 250 * 1024 * 1024
    assert doc["total"]["unzipped_bytes"] == 1000
    assert doc["paths"][0]["packages"][0]["name"] == "pkg"
    assert doc["verdict"] == "pass" and doc["exit_code"] == 0
    assert "pass" in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_cli_over_budget_in_github_actions(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    z = _layer(tmp_path, "layer", {"pkg/a.py": b"a" * 1000})
    assert main(["check", str(z), "--budget", "100"]) == EXIT_OVER_BUDGET
    out = capsys.readouterr()
    assert "::error title=lambda-slim check%3A over-budget::" in out.out
    text = summary.read_text()
    assert text.startswith("# earlier step\n### lambda-slim check: over budget")


@pytest.mark.parametrize(
    "payload",
    [b"not a zip at all", make_zip([("../escape.py", b"x")]),
     make_zip([("python/a.py", b"1"), ("python/a.py", b"2")])],
)
def test_cli_hostile_input_writes_nothing(tmp_path: Path, payload: bytes,
                                          capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    z = tmp_path / "evil.zip"
    z.write_bytes(payload)
    out = tmp_path / "out.json"
    assert main(["check", str(z), "--json", str(out)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "evil.zip" in err and "hint:" in err
    assert not out.exists() and not summary.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.zip"]


def test_cli_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    z = _layer(tmp_path, "layer", {"a.py": b""})
    assert main(["check", str(z), "--budget", "lots"]) == EXIT_USAGE
    assert "Cannot read the size" in capsys.readouterr().err
    assert main(["check", str(z), "--runtime", "python2.7"]) == EXIT_USAGE
    assert main(["check"]) == EXIT_USAGE
    assert main(["check", str(z), "--json", str(tmp_path / "no" / "x.json")]) == EXIT_USAGE


def test_cli_help_teaches(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--help"]) == 0
    text = capsys.readouterr().out
    for needle in ("Exit codes", "over budget", "GITHUB_STEP_SUMMARY", "--budget",
                   "lambda-slim check layer.zip"):
        assert needle in text


def test_real_site_packages_dir_is_checked_quickly(tmp_path: Path) -> None:
    src = Path(shutil.__file__).parent / "json"
    d = tmp_path / "python"
    shutil.copytree(src, d / "json")
    report = check_paths([d])
    assert report.paths[0].packages[0].name == "json"
