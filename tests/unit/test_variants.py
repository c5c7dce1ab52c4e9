from __future__ import annotations

from pathlib import Path

import pytest

from lambda_slim.errors import InputError, ResolveError
from lambda_slim.resolve.depgraph import DistMeta, orphaned_pins
from lambda_slim.resolve.variants import (
    VARIANTS,
    rewrite_requirement,
    transitive_plan,
    variant_table,
)
from lambda_slim.target.runtimes import parse_target

TABLE = variant_table()
X86 = parse_target("python3.12", "x86_64")


def test_every_row_is_sourced_and_named_canonically() -> None:
    for v in VARIANTS:
        assert v.source.startswith("https://pypi.org/project/"), v
        assert v.original == v.original.lower() and v.replacement == v.replacement.lower()
        assert v.machines <= {"x86_64", "aarch64"} and v.machines


def test_rewrite_keeps_extras_specifier_and_marker() -> None:
    line, rep = rewrite_requirement(
        'XGBoost[pandas]>=3,<4; python_version >= "3.10"', TABLE, "x86_64"
    )
    assert line == 'xgboost-cpu[pandas]<4,>=3; python_version >= "3.10"'
    assert rep is not None and rep.original == "xgboost" and rep.variant == "xgboost-cpu"
    assert rep.skipped is None and rep.via == "requested"
    assert rewrite_requirement("pandas==2.2.3", TABLE, "x86_64") == ("pandas==2.2.3", None)


def test_rewrite_declines_with_a_reason() -> None:
    line, rep = rewrite_requirement("tensorflow==2.21.0", TABLE, "aarch64")
    assert line == "tensorflow==2.21.0" and rep is not None
    assert rep.skipped is not None and "aarch64" in rep.skipped
    line, rep = rewrite_requirement("xgboost==3.4.1", TABLE, "x86_64", hashed=True)
    assert line == "xgboost==3.4.1" and rep is not None and "hash" in (rep.skipped or "")
    line, rep = rewrite_requirement("xgboost @ https://example.org/x.whl", TABLE, "x86_64")
    assert rep is not None and "direct reference" in (rep.skipped or "")


def test_user_variants_and_no_variants() -> None:
    t = variant_table(["My_Lib=my-lib-lite"], enabled=False)
    assert set(t) == {"my-lib"} and t["my-lib"].replacement == "my-lib-lite"
    assert not t["my-lib"].builtin
    assert "xgboost" not in t
    for bad in ("nope", "a=", "=b", "a=a", "a b=c"):
        with pytest.raises(InputError):
            variant_table([bad])


def _graph(*dists: DistMeta) -> list[DistMeta]:
    return list(dists)


APP = DistMeta("app", "1.0", ("xgboost>=3", "numpy"))
XGB = DistMeta("xgboost", "3.4.1", ("numpy", "scipy", 'nvidia-nccl-cu13; platform_system == "Linux"',
                                    'pandas; extra == "pandas"'))
NUMPY = DistMeta("numpy", "2.3.0", ())
SCIPY = DistMeta("scipy", "1.16.0", ("numpy",))
NCCL = DistMeta("nvidia-nccl-cu13", "2.28.0", ())


def test_transitive_original_first_gets_the_variant_pinned_to_its_version() -> None:
    plan = transitive_plan(_graph(APP, XGB, NUMPY, SCIPY, NCCL), ["app"], TABLE, X86)
    assert plan.extra_requirements == ("xgboost-cpu==3.4.1",)
    assert plan.drop == ()
    assert plan.replacements[0].via == "dependency of app"


def test_transitive_then_original_and_its_own_deps_are_dropped() -> None:
    cpu = DistMeta("xgboost-cpu", "3.4.1", ("numpy", "scipy"))
    plan = transitive_plan(_graph(APP, XGB, NUMPY, SCIPY, NCCL, cpu),
                           ["app", "xgboost-cpu==3.4.1"], TABLE, X86)
    assert plan.extra_requirements == ()
    assert plan.drop == ("nvidia-nccl-cu13", "xgboost")  # scipy stays: the variant needs it
    assert plan.replacements[0].version == "3.4.1"


def test_variant_that_does_not_satisfy_the_dependent_is_refused() -> None:
    app = DistMeta("app", "1.0", ("xgboost>=4",))
    cpu = DistMeta("xgboost-cpu", "3.4.1", ())
    with pytest.raises(ResolveError, match="app requires xgboost>=4"):
        transitive_plan([app, DistMeta("xgboost", "4.0", ()), cpu], ["app", "xgboost-cpu"],
                        TABLE, X86)


def test_no_variants_means_no_plan() -> None:
    plan = transitive_plan(_graph(APP, XGB, NUMPY, SCIPY, NCCL), ["app"],
                           variant_table(enabled=False), X86)
    assert plan.extra_requirements == () and plan.drop == ()


def test_pip_compile_pin_orphaned_by_the_variant() -> None:
    # pip-compile listed every pin; xgboost became xgboost-cpu before pip ran.
    cpu = DistMeta("xgboost-cpu", "3.4.1", ("numpy", "scipy"))
    dists = [cpu, NUMPY, SCIPY, NCCL]
    roots = ["xgboost-cpu==3.4.1", "numpy==2.3.0", "scipy==1.16.0", "nvidia-nccl-cu13==2.28.0"]
    env = X86.marker_environment()
    assert orphaned_pins(dists, roots, {"xgboost": XGB.requires}, env) == {"nvidia-nccl-cu13"}
    # numpy is wanted by the original too, but the variant still requires it
    assert orphaned_pins(dists, roots, {}, env) == set()


def test_rewrite_requirements_files_with_includes(tmp_path: Path) -> None:
    from lambda_slim.resolve.variants import rewrite_requirements

    proj = tmp_path / "proj"
    (proj / "wheels").mkdir(parents=True)
    (proj / "base.txt").write_text("opencv-python>=4  # GUI build\nnumpy\n")
    (proj / "pins.txt").write_text("xgboost==3.4.1\n")
    (proj / "requirements.txt").write_text(
        "# top\n-r base.txt\n-c pins.txt\n--find-links wheels\n"
        "xgboost[pandas]>=3 \\\n    ; python_version >= '3.10'\n"
        "tensorflow==2.21.0 --hash=sha256:" + "0" * 64 + "\n"
    )
    top, reps = rewrite_requirements(proj / "requirements.txt", TABLE, "x86_64", tmp_path / "out")
    text = top.read_text()
    assert "xgboost-cpu[pandas]>=3; python_version >= \"3.10\"" in text
    assert f"--find-links {(proj / 'wheels').resolve()}" in text
    assert "tensorflow==2.21.0 --hash" in text  # hash-pinned: left alone, announced
    inc = [ln.split(" ", 1)[1] for ln in text.splitlines() if ln.startswith(("-r ", "-c "))]
    base, pins = (Path(p) for p in inc)
    assert base.read_text().splitlines() == ["opencv-python-headless>=4", "numpy"]
    assert pins.read_text().splitlines() == ["xgboost==3.4.1", "xgboost-cpu==3.4.1"]
    assert sorted((r.original, r.skipped is None) for r in reps) == [
        ("opencv-python", True), ("tensorflow", False), ("xgboost", True)]


def test_a_locked_original_is_kept_and_the_report_says_how_to_get_the_variant() -> None:
    from lambda_slim.resolve.substitute import locked_originals

    (rep,) = locked_originals([("xgboost", "3.4.1"), ("pandas", "2.3.0")], TABLE,
                              Path("uv.lock"))
    assert (rep.original, rep.variant, rep.via, rep.version) == (
        "xgboost", "xgboost-cpu", "locked", "3.4.1")
    assert rep.skipped is not None and "uv.lock pins it" in rep.skipped
    assert "re-lock" in rep.skipped


def test_variants_and_overflow_are_part_of_the_result_cache_key(tmp_path: Path) -> None:
    from lambda_slim.build.cache import result_key
    from lambda_slim.inputs.args import BuildArgs
    from lambda_slim.inputs.config import build_config
    from lambda_slim.inputs.requirements import read_requirements

    (tmp_path / "requirements.txt").write_text("xgboost\n")
    reqs = read_requirements(tmp_path / "requirements.txt")

    def key(cli: BuildArgs) -> str:
        return result_key(build_config(cli, {}, tmp_path), reqs, None, None)

    keys = {key(BuildArgs()), key(BuildArgs(variants=False)), key(BuildArgs(variant=("a=b",))),
            key(BuildArgs(overflow=True)), key(BuildArgs(overflow=True, budget="200MB"))}
    assert len(keys) == 5
