"""``lambda-slim check`` on zips made by the real build, then published to a real moto server."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import boto3
import pytest

from lambda_slim.artifact.zipwrite import walk_files, write_layer_zip, write_zip
from lambda_slim.cli import main
from lambda_slim.errors import EXIT_NATIVE, EXIT_OK, EXIT_OVER_BUDGET
from tests.regressions.zipcraft import find_real_elf
from tests.servers import reset_moto
from tests.wheels import make_wheel, wheelhouse_requirements

HOST_ARCH = {"x86_64": "x86_64", "aarch64": "arm64"}.get(platform.machine())


@pytest.fixture
def built_layer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A layer built by `lambda-slim build` from a tiny wheel holding a real shared library
    that needs a glibc newer than Amazon Linux 2's 2.26 (fine for python3.12)."""
    so = find_real_elf((2, 27), (2, 34))
    if so is None or HOST_ARCH is None:
        pytest.skip("needs a Linux host with a real .so needing glibc 2.27..2.34")
    monkeypatch.setenv("LAMBDA_SLIM_CACHE_DIR", str(tmp_path / "cache"))
    house = tmp_path / "house"
    make_wheel(house, "nativepkg", "1.0", {
        "nativepkg/__init__.py": "VALUE = 1\n",
        "nativepkg/_impl.so": so.read_bytes(),
    })
    req = wheelhouse_requirements(tmp_path / "requirements.txt", house, "nativepkg")
    out = tmp_path / "build" / "layer.zip"
    out.parent.mkdir()
    monkeypatch.chdir(tmp_path)
    code = main(["build", str(req), "-o", str(out), "--arch", HOST_ARCH, "--no-compile", "-q"])
    assert code == EXIT_OK
    assert (out.parent / "layer.manifest.json").is_file()
    return out


def test_check_a_built_layer(built_layer: Path, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "check.json"
    assert main(["check", str(built_layer), "--json", str(out)]) == EXIT_OK
    doc = json.loads(out.read_text())
    assert doc["target_source"] == "layer.manifest.json"
    assert doc["target"]["arch"] == HOST_ARCH
    (p,) = doc["paths"]
    assert p["kind"] == "layer" and p["zipped_bytes"] == built_layer.stat().st_size
    assert p["packages"][0]["name"] == "nativepkg"
    assert doc["findings"] == []
    # the same layer for python3.10 (Amazon Linux 2, glibc 2.26): the native file can't load
    assert main(["check", str(built_layer), "--runtime", "python3.10"]) == EXIT_NATIVE
    err = capsys.readouterr().err
    assert "python/nativepkg/_impl.so (from nativepkg)" in err and "glibc 2.26" in err
    assert main(["check", str(built_layer), "--budget", "1KiB"]) == EXIT_OVER_BUDGET


def test_function_plus_built_layer_in_github_actions(
        built_layer: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    fn_tree = tmp_path / "fn"
    fn_tree.mkdir()
    (fn_tree / "handler.py").write_text("def handler(event, context):\n    return 1\n")
    fn = write_zip(walk_files(fn_tree), tmp_path / "function.zip").path
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["check", str(built_layer), "--function", str(fn)]) == EXIT_OK
    text = summary.read_text()
    assert "| `" + str(fn) + "` | function |" in text and "| **total** |" in text
    capsys.readouterr()
    # a sixth layer is one too many
    extra = []
    for i in range(5):
        t = tmp_path / f"l{i}"
        (t / "m").mkdir(parents=True)
        (t / "m" / f"x{i}.py").write_text("")
        extra.append(str(write_layer_zip(t, tmp_path / f"l{i}.zip").path))
    assert main(["check", str(built_layer), *extra, "--function", str(fn)]) == EXIT_OVER_BUDGET
    out = capsys.readouterr().out
    assert "::error title=lambda-slim check%3A too-many-layers::6 layers" in out


def test_zip_over_50mb_is_flagged_for_s3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = tmp_path / "t"
    (tree / "blob").mkdir(parents=True)
    (tree / "blob" / "data.bin").write_bytes(os.urandom(53 * 1000 * 1000))
    z = write_layer_zip(tree, tmp_path / "big.zip", level=0).path
    assert main(["check", str(z)]) == EXIT_OK
    assert "can only be published through S3" in capsys.readouterr().err


@pytest.mark.aws
def test_build_check_publish(built_layer: Path, aws_env: dict[str, str], moto_endpoint: str,
                             tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The whole flow a user runs: build, gate, publish; runtime/arch travel via the manifest."""
    reset_moto(moto_endpoint)
    assert main(["check", str(built_layer)]) == EXIT_OK
    out = tmp_path / "publish.json"
    assert main(["publish", str(built_layer), "--name", "nativepkg", "--region", "eu-west-1",
                 "--json", str(out)]) == EXIT_OK
    doc = json.loads(out.read_text())
    arn = doc["results"][0]["arn"]
    assert arn == "arn:aws:lambda:eu-west-1:123456789012:layer:nativepkg:1"
    assert arn in capsys.readouterr().out
    lam = boto3.client("lambda", region_name="eu-west-1", endpoint_url=moto_endpoint)
    got = lam.get_layer_version(LayerName="nativepkg", VersionNumber=1)
    assert got["CompatibleRuntimes"] == ["python3.12"]
    assert got["CompatibleArchitectures"] == [HOST_ARCH]
    reset_moto(moto_endpoint)
