"""Issue 19 item 1: the one writer of pip requirements files refuses any line it did not build
from a validated name, version, wheel URL or index."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.requirements import Requirement

from lambda_slim.errors import InputError
from lambda_slim.inputs.pip_lines import PipPin, PipRequirement, check_lines, render, write_pip_file

H = "c" * 64


def test_the_writer_builds_pins_urls_indexes_and_requirements() -> None:
    text = render("uv.lock", [PipPin("six", "1.16.0", (H,)),
                              PipPin("idna", "", (H,), "https://f.example/idna-3.10-py3-none-any.whl")],
                  "https://corp.example/simple/")
    assert text.splitlines() == [
        "# lambda-slim: 2 entries from a uv.lock", "--index-url https://corp.example/simple",
        "six==1.16.0 \\", f"    --hash=sha256:{H}",
        "idna @ https://f.example/idna-3.10-py3-none-any.whl \\", f"    --hash=sha256:{H}"]
    assert render("pyproject.toml", [PipRequirement(Requirement("attrs[tests]>=23,<26"))]) \
        .splitlines()[1] == "attrs[tests]<26,>=23"


@pytest.mark.parametrize("line", [
    "-e /tmp/src", "/tmp/src", "file:///tmp/src", "--extra-index-url https://evil.example",
    "six==1.0\n/tmp/src", "--index-url file:///tmp", "evil @ https://x.example/evil-1.0.tar.gz",
    "evil @ git+https://x.example/evil", "-r other.txt", "--find-links /tmp",
    "evil @ https://x.example/evil-1.0-py3-none-any.whl",  # a URL requirement without a hash
])
def test_a_line_the_writer_did_not_build_is_refused(line: str, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="lambda-slim did not build it"):
        check_lines([line])
    with pytest.raises(InputError):
        write_pip_file(tmp_path / "r.txt", f"six==1.0\n{line}\n")
    assert not (tmp_path / "r.txt").exists()


@pytest.mark.parametrize(("pin", "message"), [
    (PipPin("six\n-e .", "1.0"), "not a valid package name"),
    (PipPin("six", "1.0\n/tmp/src"), "not a PEP 440 version"),
    (PipPin("six", "1.0", ("md5:abc",)), "not sha256 hex"),
    (PipPin("six", "", (H,), "file:///tmp/six-1.0-py3-none-any.whl"), "local file"),
])
def test_render_validates_what_it_is_given(pin: PipPin, message: str) -> None:
    with pytest.raises(InputError, match=message):
        render("uv.lock", [pin])
