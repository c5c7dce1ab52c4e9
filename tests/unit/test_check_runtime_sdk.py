"""``check --verify``'s judgement of the runtime's SDK, as data (the real runs are in
tests/integration/test_check_runtime_sdk.py): which pins the runtime's floor leaves unmet when
only the runtime serves boto3/botocore, and the warning when no stand-in can be made."""

from __future__ import annotations

import os
from pathlib import Path

from lambda_slim.check.verify import NOT_VERIFIED, SDK_OLDER, ImportCheck, _sdk_findings
from lambda_slim.rules.runtime_provided import needs_newer
from lambda_slim.target.placement import Placement
from lambda_slim.target.runtimes import RUNTIME_PROVIDED, parse_target
from lambda_slim.target.sdk import SDK_FLOORS
from lambda_slim.tree.inventory import Dist

TARGET = parse_target("python3.12", "x86_64")
FLOOR = SDK_FLOORS["python3.12"]


def _dist(name: str, version: str, *requires: str) -> Dist:
    return Dist(name, name, version, f"{name}-{version}.dist-info", (), (name,), requires)


BOTO3 = _dist("boto3", "1.36.0", "botocore<1.37.0,>=1.36.0", "jmespath<2.0.0,>=0.7.1",
              "s3transfer<0.12.0,>=0.11.0", "botocore[crt]<2.0a0,>=1.21.0; extra == 'crt'")
BOTOCORE = _dist("botocore", "1.36.0")


def test_a_boto3_shipped_without_botocore_is_judged_against_the_runtimes_botocore() -> None:
    got = _sdk_findings([BOTO3], FLOOR, TARGET)
    assert [(f.level, f.code) for f in got] == [("warning", SDK_OLDER)]
    assert got[0].message.startswith(
        f"boto3 1.36.0 requires botocore<1.37.0,>=1.36.0, and the runtime may have botocore "
        f"{FLOOR.botocore}")
    assert FLOOR.source in got[0].message


def test_a_shipped_botocore_serves_the_pin_itself() -> None:
    assert _sdk_findings([BOTO3, BOTOCORE], FLOOR, TARGET) == []


def test_the_build_rule_skips_the_sdks_own_pins_check_does_not() -> None:
    """The build drops boto3 and botocore together, so boto3's pin goes with them; a zip
    shipping boto3 alone keeps boto3 and leaves botocore to the runtime."""
    markers = TARGET.marker_environment()
    assert needs_newer([BOTO3], FLOOR, markers, skip=RUNTIME_PROVIDED) == []
    assert len(needs_newer([BOTO3], FLOOR, markers, served={"botocore"})) == 1
    assert needs_newer([BOTO3], FLOOR, markers, served=()) == []
    aio = _dist("aiobotocore", "2.19.0", "botocore<1.36.4,>=1.36.0")
    assert len(needs_newer([aio], FLOOR, markers, skip=RUNTIME_PROVIDED)) == 1


def test_no_stand_in_is_a_warning_saying_what_it_means(tmp_path: Path) -> None:
    placement = Placement(None, None, None, False)
    stand_in, notes = ImportCheck(dict(os.environ), cache_dir=None)._runtime_dir(
        TARGET, placement, FLOOR)
    assert stand_in is None and [(n.level, n.code) for n in notes] == [("warning", NOT_VERIFIED)]
    assert "could not make the stand-in /var/runtime" in notes[0].message
    assert "imports boto3 without shipping it fails here but not on Lambda" in notes[0].message
