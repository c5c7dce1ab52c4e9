"""The runtime's SDK floor and the ``runtime-provided`` rule's decision to keep or drop it."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.version import Version

from lambda_slim.errors import InputError
from lambda_slim.rules import RULES, PruneContext
from lambda_slim.rules.plan import make_plan
from lambda_slim.target.runtimes import RUNTIMES, parse_target
from lambda_slim.target.sdk import SDK_FLOORS, parse_runtime_sdk, runtime_sdk
from lambda_slim.tree.inventory import read_inventory

FLOOR = SDK_FLOORS["python3.12"]


def test_every_runtime_has_a_floor_with_a_source() -> None:
    assert set(SDK_FLOORS) == set(RUNTIMES)
    for sdk in SDK_FLOORS.values():
        assert sdk.source and sdk.boto3.startswith("1.") and sdk.botocore.startswith("1.")
        # each floor is a real boto3/botocore pair, as the override would pair it
        paired = parse_runtime_sdk(f"boto3=={sdk.boto3}")
        assert (paired.boto3, paired.botocore) == (sdk.boto3, sdk.botocore)
    assert runtime_sdk("python3.12") is FLOOR


def test_a_later_runtime_never_has_an_older_floor() -> None:
    """Runtimes launched later ship SDKs at least as new (a floor that went backwards would
    be a typo); the source of each floor cites where its number comes from."""
    order = sorted(SDK_FLOORS, key=lambda r: RUNTIMES[r].python)
    versions = [Version(SDK_FLOORS[r].botocore) for r in order]
    assert versions == sorted(versions)
    for runtime in order:
        src = SDK_FLOORS[runtime].source
        assert "#" in src and ("published" in src or SDK_FLOORS[runtime].boto3 in src), src


@pytest.mark.parametrize("spec, boto3, botocore", [
    ("botocore==1.35.10", "1.35.10", "1.35.10"),  # aligned since 1.33
    ("boto3==1.40.0", "1.40.0", "1.40.0"),
    ("boto3==1.26.90", "1.26.90", "1.29.90"),  # before: boto3 1.N with botocore 1.N+3
    ("botocore==1.29.90", "1.26.90", "1.29.90"),
    ("  BotoCore == 1.35.10 ", "1.35.10", "1.35.10"),
])
def test_runtime_sdk_override_pairs_boto3_and_botocore(spec: str, boto3: str,
                                                       botocore: str) -> None:
    sdk = parse_runtime_sdk(spec)
    assert (sdk.boto3, sdk.botocore) == (boto3, botocore) and spec in sdk.source


@pytest.mark.parametrize("spec", ["botocore", "botocore>=1.35", "boto3==2.0.0", "s3transfer==0.10.0",
                                  "botocore==1.35", "botocore==x.y.z"])
def test_runtime_sdk_override_refuses_anything_else(spec: str) -> None:
    with pytest.raises(InputError, match=r"botocore==X\.Y\.Z"):
        parse_runtime_sdk(spec)


def _tree(root: Path, dists: dict[str, tuple[str, list[str]]]) -> Path:
    """``name -> (version, Requires-Dist lines)``, each with one module and a RECORD."""
    for name, (version, requires) in dists.items():
        mod = name.replace("-", "_")
        di = root / f"{mod}-{version}.dist-info"
        di.mkdir(parents=True)
        (root / mod).mkdir()
        (root / mod / "__init__.py").write_text("X = 1\n")
        meta = [f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}"]
        meta += [f"Requires-Dist: {r}" for r in requires]
        (di / "METADATA").write_text("\n".join(meta) + "\n")
        (di / "RECORD").write_text(f"{mod}/__init__.py,,\n{di.name}/METADATA,,\n")
    return root


SDK = {"boto3": ("1.40.0", ["botocore<1.41.0,>=1.40.0", "s3transfer<0.14.0,>=0.13.0",
                            "jmespath<2.0.0,>=0.7.1"]),
       "botocore": ("1.40.0", ["jmespath<2.0.0,>=0.7.1", "urllib3!=2.2.0,<3,>=1.25.4"]),
       "s3transfer": ("0.13.0", ["botocore<2.0a.0,>=1.37.4"]),
       "jmespath": ("1.0.1", [])}


def _plan(tmp_path: Path, extra: dict[str, tuple[str, list[str]]], requested: set[str]
          ) -> tuple[set[str], list[str]]:
    inv = read_inventory(_tree(tmp_path / "python", {**SDK, **extra}))
    ctx = PruneContext(inv, frozenset(requested), tmp_path / "scratch", runtime_sdk=FLOOR,
                       markers=parse_target("python3.12", "x86_64").marker_environment())
    plan = make_plan(ctx, set(RULES), ())
    return {e.rel.split("/")[0] for e in plan if e.rule == "runtime-provided"}, ctx.sdk_kept


def test_a_dependency_the_floor_satisfies_lets_the_rule_drop_the_sdk(tmp_path: Path) -> None:
    gone, kept = _plan(tmp_path, {"app": ("1.0", ["boto3>=1.20", "botocore"])}, {"app"})
    assert gone >= {"boto3", "botocore", "s3transfer", "jmespath"} and kept == []


def test_listing_boto3_keeps_the_whole_sdk_and_says_why(tmp_path: Path) -> None:
    gone, kept = _plan(tmp_path, {}, {"boto3"})
    assert gone == set()
    assert kept == ["the requirements list boto3: the layer's copy shadows the runtime's "
                    "(/opt/python comes first on sys.path)"]


def test_a_narrow_pin_beyond_the_floor_keeps_the_sdk(tmp_path: Path) -> None:
    gone, kept = _plan(tmp_path, {"aiobotocore": ("2.24.0", ["botocore<1.40.19,>=1.40.0",
                                                             "aiohttp"])}, {"aiobotocore"})
    assert gone == set()
    assert any(k.startswith("aiobotocore 2.24.0 requires botocore") and FLOOR.botocore in k
               for k in kept), kept
    # boto3 1.40's own pin on botocore 1.40 is not a reason: the two go together
    assert not any(k.startswith("boto3") for k in kept)


def test_requirement_lines_of_extras_and_other_platforms_do_not_count(tmp_path: Path) -> None:
    extra = {"app": ("1.0", ['botocore>=9; extra == "aws"', 'boto3>=9; sys_platform == "win32"'])}
    sdk = dict(SDK)
    sdk["boto3"] = (FLOOR.boto3, [f"botocore>={FLOOR.botocore}"])
    inv = read_inventory(_tree(tmp_path / "python", {**sdk, **extra}))
    ctx = PruneContext(inv, frozenset({"app"}), tmp_path / "scratch", runtime_sdk=FLOOR,
                       markers=parse_target("python3.12", "x86_64").marker_environment())
    plan = make_plan(ctx, set(RULES), ())
    assert "botocore/__init__.py" in {e.rel for e in plan} and ctx.sdk_kept == []
