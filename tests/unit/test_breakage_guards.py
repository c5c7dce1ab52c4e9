"""Guards that a small, realistic edit once broke while every test stayed green (issue 23): each
test here fails when its guard is broken. More of them, where the real thing is needed, live in
tests/integration (test_closure_chain_real, test_sandbox_site, test_overflow_unsafe_members,
test_borrow_names, test_publish_moto's same-size object) and tests/unit/test_lock_uv_edges."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lambda_slim.build.cache import result_key
from lambda_slim.cli import main
from lambda_slim.errors import EXIT_GROWTH, EXIT_USAGE
from lambda_slim.inputs.args import BuildArgs
from lambda_slim.inputs.config import build_config
from lambda_slim.inputs.requirements import read_requirements
from lambda_slim.publish.apply import _same_content
from lambda_slim.publish.plan import plan_publish
from lambda_slim.resolve.depgraph import DistMeta
from lambda_slim.resolve.variants import rewrite_requirement, transitive_plan, variant_table
from lambda_slim.target.runtimes import parse_target
from tests.regressions.zipcraft import make_zip
from tests.unit.test_report_files_html import report
from tests.wheels import make_wheel, wheelhouse_requirements


# --- the result-cache key -------------------------------------------------------------------
def test_the_target_is_part_of_the_result_cache_key(tmp_path: Path) -> None:
    """An arm64 build after an x86_64 build of the same inputs must not be served the x86_64 zip
    (nor one runtime's zip for another)."""
    (tmp_path / "requirements.txt").write_text("six==1.17.0\n")
    reqs = read_requirements(tmp_path / "requirements.txt")

    def key(**kw: Any) -> str:
        return result_key(build_config(BuildArgs(**kw), {}, tmp_path), reqs, None, None)

    x86, arm = key(arch="x86_64"), key(arch="arm64")
    assert x86 == key(arch="x86_64")  # stable: the same inputs hit
    assert len({x86, arm, key(arch="x86_64", runtime="python3.11"),
                key(arch="arm64", runtime="python3.11")}) == 4


# --- diff --fail-on-growth ------------------------------------------------------------------
@pytest.mark.parametrize("limit", ["0", "0%"])
def test_an_unchanged_layer_never_fails_a_growth_limit(tmp_path: Path, limit: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    a = tmp_path / "a.json"
    a.write_text(json.dumps(report()))
    assert main(["diff", str(a), str(a), "--fail-on-growth", limit]) == 0, capsys.readouterr().err
    grown = report(final_bytes=2341)
    grown["packages"][0]["final_bytes"] = 2301
    b = tmp_path / "b.json"
    b.write_text(json.dumps(grown))
    assert main(["diff", str(a), str(b), "--fail-on-growth", limit]) == EXIT_GROWTH  # one byte


# --- the inputs guard: --smoke is an input --------------------------------------------------
@pytest.mark.parametrize("flag", ["-o", "--json"])
def test_an_output_over_the_smoke_script_is_refused_before_any_work(
        tmp_path: Path, flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    house = tmp_path / "house"
    make_wheel(house, "tiny", "1.0", {"tiny/__init__.py": ""})
    req = wheelhouse_requirements(tmp_path / "requirements.txt", house, "tiny")
    smoke = tmp_path / "s.py"
    smoke.write_text("import tiny\n")
    args = ["build", str(req), "--smoke", str(smoke), "-q", "--no-result-cache"]
    args += ["-o", str(smoke)] if flag == "-o" else ["-o", str(tmp_path / "l.zip"), "--json", str(smoke)]
    assert main(args) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "--smoke" in err and str(smoke) in err
    assert smoke.read_text() == "import tiny\n"
    assert not (tmp_path / "l.zip").exists()


# --- variants: only for machines the variant publishes wheels for ---------------------------
TABLE = variant_table()


def test_a_variant_is_never_planned_for_a_machine_it_does_not_publish() -> None:
    tf = TABLE["tensorflow"]
    assert "aarch64" not in tf.machines and "x86_64" in tf.machines  # the premise
    line, rep = rewrite_requirement("tensorflow>=2.18", TABLE, "aarch64")
    assert line == "tensorflow>=2.18" and rep is not None and rep.skipped
    # tensorflow as a dependency of the app: planned on x86_64, never on aarch64
    app = DistMeta("app", "1.0", ("tensorflow>=2.18",))
    tf_dist = DistMeta("tensorflow", "2.20.0", ())
    x86 = transitive_plan([app, tf_dist], ["app"], TABLE, parse_target("python3.12", "x86_64"))
    assert x86.extra_requirements == (f"{tf.replacement}==2.20.0",)
    arm = transitive_plan([app, tf_dist], ["app"], TABLE, parse_target("python3.12", "arm64"))
    assert arm.extra_requirements == () and arm.drop == () and arm.replacements == ()
    cpu = DistMeta(tf.replacement, "2.20.0", ())
    arm_both = transitive_plan([app, tf_dist, cpu], ["app"], TABLE, parse_target("python3.12", "arm64"))
    assert arm_both.drop == ()  # the original is never dropped for a variant the machine lacks


# --- publish: an object is reused only when its content is proven the same ------------------
def test_an_s3_object_of_the_same_size_but_other_content_is_not_reused(tmp_path: Path) -> None:
    z = tmp_path / "layer.zip"
    z.write_bytes(make_zip([("python/pkg.py", b"x = 1\n")]))
    plan = plan_publish(z, "deps", ["us-east-1"], runtimes=["python3.12"],
                        architectures=["x86_64"])
    same_size = {"ContentLength": plan.zip_bytes}
    assert not _same_content(plan, same_size)
    assert not _same_content(plan, {**same_size, "Metadata": {"sha256": "0" * 64}})
    assert not _same_content(plan, {**same_size, "ChecksumSHA256": "AAAA" + plan.code_sha256[4:]})
    assert not _same_content(plan, {"ContentLength": plan.zip_bytes + 1,
                                    "ChecksumSHA256": plan.code_sha256})
    assert _same_content(plan, {**same_size, "ChecksumSHA256": plan.code_sha256})
    assert _same_content(plan, {**same_size, "Metadata": {"sha256": plan.sha256_hex}})
