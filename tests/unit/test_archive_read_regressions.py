"""Inputs the fuzzer found, one per refusal reason (tests/regressions/corpus/).

Each must be refused with its reason by the reader, and with exit code 2 and nothing
written by ``lambda-slim check``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambda_slim.artifact.zipread import ZipLimits, read_entry, read_zip_listing
from lambda_slim.cli import main
from lambda_slim.errors import EXIT_USAGE, InputError

CORPUS = Path(__file__).resolve().parents[1] / "regressions" / "corpus"
EXPECTED: dict[str, str] = json.loads((CORPUS / "expected.json").read_text())
#: The limits the fuzzer ran with (small, so bombs are cheap to make).
FUZZ_LIMITS = ZipLimits(max_entries=1000, max_ratio=50, ratio_floor=64 * 1024)


def test_corpus_is_complete() -> None:
    assert sorted(EXPECTED) == sorted(p.name for p in CORPUS.glob("*.zip"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reader_refuses_with_reason(name: str) -> None:
    path = CORPUS / name
    with pytest.raises(InputError) as info:
        listing = read_zip_listing(path, FUZZ_LIMITS)
        for e in listing.files:
            read_entry(listing, e)
    assert EXPECTED[name] in info.value.message
    assert info.value.hint


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_check_refuses_and_writes_nothing(name: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    z = tmp_path / "input.zip"
    z.write_bytes((CORPUS / name).read_bytes())
    out = tmp_path / "check.json"
    assert main(["check", str(z), "--json", str(out)]) == EXIT_USAGE
    assert "input.zip" in capsys.readouterr().err
    assert not out.exists()
