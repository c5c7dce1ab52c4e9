from __future__ import annotations

import os
from pathlib import Path

import pytest

from lambda_slim.errors import InputError
from lambda_slim.inputs.requirements import read_requirements


def test_reads_names_includes_and_options(tmp_path: Path) -> None:
    (tmp_path / "base.txt").write_text("numpy>=2  # pinned below\n")
    (tmp_path / "c.txt").write_text("boto3==1.0\n")
    req = tmp_path / "requirements.txt"
    req.write_text(
        "--extra-index-url https://example.invalid/simple\n"
        "-r base.txt\n-c c.txt\n"
        "Pandas[performance]==2.2.3 ; python_version >= '3.10' \\\n"
        "    --hash=sha256:abc\n"
        "\n# comment\nxgboost-cpu\n"
    )
    r = read_requirements(req)
    assert r.requested == {"numpy", "pandas", "xgboost-cpu"}
    assert "boto3" not in r.requested  # constraints are not requests


def test_digest_changes_with_included_file(tmp_path: Path) -> None:
    (tmp_path / "base.txt").write_text("numpy\n")
    req = tmp_path / "requirements.txt"
    req.write_text("-r base.txt\n")
    a = read_requirements(req).digest
    (tmp_path / "base.txt").write_text("numpy==2.0\n")
    assert read_requirements(req).digest != a


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as e:
        read_requirements(tmp_path / "nope.txt")
    assert "nope.txt" in e.value.message and "does not exist" in e.value.message
    assert e.value.exit_code == 2


def test_malformed_line_names_line_number(tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("numpy\npandas>=>2\n")
    with pytest.raises(InputError) as e:
        read_requirements(req)
    assert f"{req}:2" in e.value.message and "pandas>=>2" in e.value.message


def test_editable_and_unknown_option(tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("-e .\n")
    with pytest.raises(InputError, match="editable"):
        read_requirements(req)
    req.write_text("--frobnicate\n")
    with pytest.raises(InputError, match="unknown option"):
        read_requirements(req)


def test_unreadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("numpy\n")
    if os.geteuid() == 0:  # root reads anything: fake the permission error instead

        def deny(self: Path, *a: object, **k: object) -> str:
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(Path, "read_text", deny)
    else:
        req.chmod(0)
    with pytest.raises(InputError) as e:
        read_requirements(req)
    assert "not readable" in e.value.message and str(req) in e.value.message
