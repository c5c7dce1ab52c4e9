"""End to end through the built layers, the way Lambda runs them.

Both layers are built with ``lambda-slim build --layer features`` / ``--layer scoring`` from
the example folder (python3.12, x86_64, as its pyproject.toml says), each zip is unzipped into
a fresh directory laid out as Lambda's ``/opt``, and the handlers run in ``python3.12 -I -S``
whose ``sys.path`` is only that layer, the handler code, the standard library and a
runtime-boto3 directory. S3 is the moto server over HTTP, the database a real MariaDB.

The chained FE → ML scores must equal, bit for bit, those of the same code and model in the
unpruned reference virtualenv.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lambda_slim.target.sandbox import sandbox_unavailable
from tests.example.conftest import FEATURE_NAMES, Launcher, Models, S3World, direct_predictions
from tests.example.envs import EXAMPLE
from tests.example.mariadb import MariaDB
from tests.example.scenarios import (
    ENTITIES,
    assert_clean_error,
    chain,
    check_feature_bad_requests,
    check_score_bad_requests,
)
from tests.shared import once_per_run

pytestmark = [pytest.mark.slow, pytest.mark.aws]

BUILD_TIMEOUT = 1800
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath")


@dataclass(frozen=True)
class BuiltLayers:
    features: Path
    """An unzipped features layer, laid out as /opt (so ``features / "python"`` exists)."""
    scoring: Path
    zips: dict[str, Path]
    reports: dict[str, dict[str, Any]]


def _lambda_slim() -> Path:
    exe = Path(sys.executable).with_name("lambda-slim")
    if not exe.is_file():
        pytest.fail(f"{exe} not found: install the project into this venv (pip install -e .)")
    return exe


def _unzip_as_opt(archive: Path, opt: Path) -> Path:
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        outside = [n for n in names if not n.startswith("python/") or ".." in n.split("/")]
        assert not outside, f"{archive.name} has entries outside python/: {outside[:5]}"
        zf.extractall(opt)
    return opt


def _build_layers(out: Path) -> None:
    exe = _lambda_slim()
    for name in ("features", "scoring"):
        target = out / f"{name}-layer.zip"
        proc = subprocess.run(
            [str(exe), "build", "--layer", name, "--output", str(target), "--quiet",
             "--json", str(out / f"{name}.json")],
            cwd=EXAMPLE, capture_output=True, text=True, timeout=BUILD_TIMEOUT,
        )  # fmt: skip
        assert proc.returncode == 0, (
            f"lambda-slim build --layer {name} exited {proc.returncode}:\n"
            f"{(proc.stdout + proc.stderr)[-6000:]}"
        )
        assert target.is_file(), proc.stdout
        _unzip_as_opt(target, out / f"opt-{name}")


@pytest.fixture(scope="module")
def layers(tmp_path_factory: pytest.TempPathFactory) -> BuiltLayers:
    """The two layers, built once per run (two real builds): every xdist worker that runs a
    test of this module reads the same folder."""
    out = once_per_run(tmp_path_factory, "example-layers", _build_layers)
    zips = {name: out / f"{name}-layer.zip" for name in ("features", "scoring")}
    reports: dict[str, dict[str, Any]] = {
        name: json.loads((out / f"{name}.json").read_text()) for name in zips}
    return BuiltLayers(features=out / "opt-features", scoring=out / "opt-scoring", zips=zips,
                       reports=reports)


def test_both_layers_verify_in_the_sandbox_with_init_time_and_peak_memory(
    layers: BuiltLayers,
) -> None:
    """The proof was made in the Lambda-like sandbox (issue 10), and it is measured."""
    reason = sandbox_unavailable(os.environ)
    for name, rep in layers.reports.items():
        verify = rep["verify"]
        assert verify["status"] == "passed", (name, verify)
        assert verify["environment"] == ("sandbox" if reason is None else "host"), reason
        assert verify["init_ms"] > 0, (name, verify["init_ms"])
        assert 10 * 2**20 < verify["max_rss_bytes"] < 2**30, (name, verify["max_rss_bytes"])
    # the scoring layer's smoke run trains a model: it needs more memory than the imports
    assert layers.reports["scoring"]["verify"]["smoke"][0]["ok"] is True


def test_each_layer_holds_its_functions_stack_and_nothing_the_runtime_ships(
    layers: BuiltLayers,
) -> None:
    fe, ml = layers.features / "python", layers.scoring / "python"
    for package in ("pandas", "numpy", "pymysql", "dateutil"):
        assert (fe / package).is_dir(), package
    for package in ("xgboost", "pandas", "numpy", "scipy", "joblib"):
        assert (ml / package).is_dir(), package
    assert not (fe / "xgboost").exists() and not (fe / "scipy").exists()
    assert not (ml / "pymysql").exists()
    for package in RUNTIME_PROVIDED:
        assert not (fe / package).exists() and not (ml / package).exists(), package
    assert not list(ml.glob("nvidia*")), "xgboost-cpu must not pull NVIDIA NCCL"
    budget = 250 * 1024 * 1024
    for name, archive in layers.zips.items():
        with zipfile.ZipFile(archive) as zf:
            unzipped = sum(info.file_size for info in zf.infolist())
        assert unzipped < budget, (name, unzipped)


def test_the_layer_interpreter_sees_only_layer_code_stdlib_and_runtime_boto3(
    launch: Launcher, layers: BuiltLayers, mariadb: MariaDB
) -> None:
    fe = launch.layer(layers.features, db=mariadb)
    found = fe.modules(["pandas", "numpy", "pymysql", "boto3", "functions.features", "xgboost"])
    for name in ("pandas", "numpy", "pymysql"):
        assert str(found[name]).startswith(str(layers.features / "python")), found
    assert str(found["boto3"]).startswith(str(launch.runtime)), found
    assert str(found["functions.features"]).startswith(str(EXAMPLE)), found
    assert str(found["xgboost"]).startswith("ImportError"), found

    ml = launch.layer(layers.scoring)
    found = ml.modules(["xgboost", "scipy", "joblib", "functions.scoring", "pymysql"])
    for name in ("xgboost", "scipy", "joblib"):
        assert str(found[name]).startswith(str(layers.scoring / "python")), found
    assert str(found["pymysql"]).startswith("ImportError"), found


def test_smoke_script_passes_against_the_unzipped_layer(
    python312: Path, layers: BuiltLayers, tmp_path: Path
) -> None:
    code = (
        "import runpy, sys; sys.path.insert(0, sys.argv[1]); runpy.run_path(sys.argv[2], run_name='__main__')"
    )
    proc = subprocess.run(
        [str(python312), "-I", "-S", "-B", "-c", code, str(layers.scoring / "python"),
         str(EXAMPLE / "smoke.py")],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "smoke test passed" in proc.stdout


def test_chained_scores_equal_the_unpruned_venv_bit_for_bit(
    launch: Launcher, layers: BuiltLayers, mariadb: MariaDB, s3_world: S3World, models: Models,
    ref_python: Path,
) -> None:  # fmt: skip
    key = s3_world.unique_key(".ubj")
    s3_world.put_file(key, models.a)
    uri = s3_world.uri(key)
    layer_fe = launch.layer(layers.features, db=mariadb)
    layer_ml = launch.layer(layers.scoring, MODEL_URI=uri)
    venv_fe = launch.venv(db=mariadb)
    venv_ml = launch.venv(MODEL_URI=uri)

    vectors = []
    for entity in ENTITIES:
        layer_vector, layer_score = chain(layer_fe, layer_ml, entity)
        venv_vector, venv_score = chain(venv_fe, venv_ml, entity)
        assert layer_vector == venv_vector, entity
        assert layer_score.hex() == venv_score.hex(), (entity, layer_score, venv_score)
        vectors.append(layer_vector)

    batch = {"instances": [dict(zip(FEATURE_NAMES, v, strict=True)) for v in vectors]}
    status, from_layer = layer_ml.score(batch)
    assert status == 200, from_layer
    status, from_venv = venv_ml.score(batch)
    assert status == 200, from_venv
    direct = direct_predictions(ref_python, models.a, vectors)
    assert [s.hex() for s in from_layer["scores"]] == [s.hex() for s in from_venv["scores"]]
    assert from_layer["scores"] == direct


def test_layer_scoring_swaps_ensembles_and_rejects_bad_requests(
    launch: Launcher, layers: BuiltLayers, s3_world: S3World, models: Models, ref_python: Path,
    tmp_path: Path,
) -> None:  # fmt: skip
    key_a, key_b = s3_world.unique_key(".ubj"), s3_world.unique_key(".json")
    s3_world.put_file(key_a, models.a)
    s3_world.put_file(key_b, models.b)
    rows = [
        [0.0, 30.0, 0.8, 18.0, 3.7, 0.3, 1.0, 1.2, 4.0, 0.9, 0.8, 5.0],
        [1.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.3, 2.9, 0.2, 0.6, 6.0],
    ]
    want_a = direct_predictions(ref_python, models.a, rows)
    want_b = direct_predictions(ref_python, models.b, rows)

    scorer = launch.layer(layers.scoring, MODEL_URI=s3_world.uri(key_a))
    status, body = scorer.score({"instances": rows})
    assert status == 200 and body["scores"] == want_a, body
    check_score_bad_requests(scorer, len(FEATURE_NAMES))

    b_as_ubj = tmp_path / "model-b.ubj"
    code = "import sys, xgboost as x; b = x.Booster(); b.load_model(sys.argv[1]); b.save_model(sys.argv[2])"
    subprocess.run([str(ref_python), "-c", code, str(models.b), str(b_as_ubj)], check=True)
    s3_world.put_file(key_a, b_as_ubj)  # swap under the same key, no restart
    status, body = scorer.score({"instances": rows})
    assert status == 200 and body["scores"] == want_b, body

    s3_world.put_file(key_a, models.a)
    ensemble = launch.layer(layers.scoring, MODEL_URI=f"{s3_world.uri(key_a)},{s3_world.uri(key_b)}")
    status, body = ensemble.score({"instances": rows})
    assert status == 200, body
    assert body["scores"] == [(a + b) / 2 for a, b in zip(want_a, want_b, strict=True)]

    missing = launch.layer(layers.scoring, MODEL_URI=s3_world.uri("models/gone.ubj"))
    status, body = missing.score({"features": rows[0]})
    assert_clean_error(status, body, 503, "does not exist")
    assert json.dumps(body).count("Traceback") == 0


def test_layer_feature_extraction_rejects_bad_requests(
    launch: Launcher, layers: BuiltLayers, mariadb: MariaDB
) -> None:
    check_feature_bad_requests(launch.layer(layers.features, db=mariadb))


@pytest.fixture(scope="module")
def traced_scoring(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    """The scoring layer trimmed by profile (issue 6): ``--trace smoke.py --no-compile``."""
    import json

    out = tmp_path_factory.mktemp("traced")
    target, report = out / "scoring-traced.zip", out / "report.json"
    proc = subprocess.run(
        [str(_lambda_slim()), "build", "--layer", "scoring", "--output", str(target),
         "--trace", "smoke.py", "--no-compile", "--json", str(report), "--quiet"],
        cwd=EXAMPLE, capture_output=True, text=True, timeout=BUILD_TIMEOUT,
    )  # fmt: skip
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    return _unzip_as_opt(target, out / "opt"), json.loads(report.read_text())


def test_traced_layer_is_small_and_scores_bit_for_bit(
    launch: Launcher, layers: BuiltLayers, traced_scoring: tuple[Path, dict[str, object]],
    mariadb: MariaDB, s3_world: S3World, models: Models,
) -> None:  # fmt: skip
    opt, report = traced_scoring
    trace = report["trace"]
    assert isinstance(trace, dict) and trace["applied"] is True, trace
    assert int(report["zip_bytes"]) <= 52_428_800  # type: ignore[call-overload]
    assert int(report["final_bytes"]) < 150 * 2**20  # type: ignore[call-overload]
    assert not (opt / "python" / "scipy" / "optimize").exists()  # never touched by scoring
    key = s3_world.unique_key(".ubj")
    s3_world.put_file(key, models.a)
    uri = s3_world.uri(key)
    layer_fe = launch.layer(layers.features, db=mariadb)
    traced_ml = launch.layer(opt, MODEL_URI=uri)
    venv_fe = launch.venv(db=mariadb)
    venv_ml = launch.venv(MODEL_URI=uri)
    for entity in ENTITIES:
        layer_vector, layer_score = chain(layer_fe, traced_ml, entity)
        venv_vector, venv_score = chain(venv_fe, venv_ml, entity)
        assert layer_vector == venv_vector, entity
        assert layer_score.hex() == venv_score.hex(), (entity, layer_score, venv_score)


def _invoke_all(tmp: Path, layer_zip: Path, handler: str, env: dict[str, str],
                events: list[dict[str, Any]]) -> dict[str, Any]:
    """``lambda-slim invoke`` of the example's code with one layer: every event in one run."""
    args = ["invoke", "--function", str(EXAMPLE), "--layer-zip", str(layer_zip),
            "--handler", handler, "--memory", "1024", "--timeout", "120",
            "--json", str(tmp / "invoke.json")]
    for key, value in env.items():  # the function's own settings; Lambda sets the rest
        if key not in ("PATH", "LANG", "TZ", "HOME"):
            args += ["--env", f"{key}={value}"]
    for i, event in enumerate(events):
        (tmp / f"event{i}.json").write_text(json.dumps(event))
        args += ["--event", str(tmp / f"event{i}.json")]
    from lambda_slim.cli import main

    code = main(args)
    out: dict[str, Any] = json.loads((tmp / "invoke.json").read_text())
    assert code == 0, json.dumps(out)[-6000:]
    return out


@pytest.mark.skipif(sandbox_unavailable(os.environ) is not None, reason="needs the sandbox")
def test_invoke_runs_both_functions_as_lambda_and_answers_as_the_venv(
    launch: Launcher, layers: BuiltLayers, mariadb: MariaDB, s3_world: S3World, models: Models,
    tmp_path: Path,
) -> None:  # fmt: skip
    """Issue 21: the built layers and the example's code, run by awslambdaric in the sandbox
    (lambda-slim invoke), give the unpruned venv's responses; later events are warm."""
    from tests.example.lambda_container import FE, SCORE, get_event, post_event

    key = s3_world.unique_key(".ubj")
    s3_world.put_file(key, models.a)
    cache = {"FEED_CACHE_DIR": "/tmp/feeds", "MODEL_CACHE_DIR": "/tmp/models"}
    venv_fe = launch.venv(db=mariadb)
    venv_ml = launch.venv(MODEL_URI=s3_world.uri(key))
    fe_events = [get_event("/features", {"entity": e}) for e in ENTITIES]
    (tmp_path / "fe").mkdir()
    fe = _invoke_all(tmp_path / "fe", layers.zips["features"], FE,
                     {**launch.env(mariadb), **cache}, fe_events)
    runs = fe["invocations"]
    assert len(runs) == len(ENTITIES) and fe["init"]["error"] is None
    assert all(r["init_duration_ms"] is None for r in runs)  # one init, then warm invokes
    bodies = []
    for entity, run in zip(ENTITIES, runs, strict=True):
        resp = run["response"]
        assert resp["statusCode"] == 200, resp
        status, expected = venv_fe.features(entity)
        assert (resp["statusCode"], json.loads(resp["body"])) == (status, expected), entity
        bodies.append(resp["body"])
    (tmp_path / "ml").mkdir()
    ml = _invoke_all(tmp_path / "ml", layers.zips["scoring"], SCORE,
                     {**launch.env(None, MODEL_URI=s3_world.uri(key)), **cache},
                     [post_event("/score", body) for body in bodies])
    for body, run in zip(bodies, ml["invocations"], strict=True):
        status, expected = venv_ml.score(json.loads(body))
        got = json.loads(run["response"]["body"])
        assert run["response"]["statusCode"] == status == 200, got
        assert got["score"].hex() == expected["score"].hex()
