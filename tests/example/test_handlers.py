"""The example's handlers in an ordinary python3.12 virtualenv (the unpruned pinned stack),
against a real moto server (S3 over HTTP) and a real MariaDB server.

These pin down the behaviour; test_e2e_layers.py then shows the built layers behave the same.
"""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import pytest

from tests.example.conftest import (
    AS_OF,
    FEATURE_NAMES,
    Launcher,
    Models,
    S3World,
    direct_predictions,
)
from tests.example.envs import EXAMPLE
from tests.example.mariadb import MariaDB
from tests.example.scenarios import (
    ENTITIES,
    assert_clean_error,
    chain,
    check_feature_bad_requests,
    check_score_bad_requests,
)

pytestmark = pytest.mark.aws


def named(features: list[float]) -> dict[str, float]:
    return dict(zip(FEATURE_NAMES, features, strict=True))


# --- feature extraction -----------------------------------------------------------------


def test_features_for_sample_entities(launch: Launcher, mariadb: MariaDB) -> None:
    fe = launch.venv(db=mariadb)
    out = {}
    for entity in ENTITIES:
        status, body = fe.features(entity)
        assert status == 200, body
        assert body["feature_names"] == FEATURE_NAMES
        assert len(body["features"]) == len(FEATURE_NAMES)
        assert all(isinstance(v, float) and math.isfinite(v) for v in body["features"])
        assert body["as_of"] == AS_OF
        out[entity] = named(body["features"])

    evil, benign = out["evil-login.xyz"], out["example.com"]
    assert evil["domain_age_days"] == 12.0  # registered 2026-10-20
    assert evil["tld_risk"] == 0.78 and benign["tld_risk"] == 0.18
    assert evil["blocklist_hits"] > 1.0 and benign["blocklist_hits"] == 0.0
    assert evil["internal_incidents"] > 0.5 and benign["internal_incidents"] == 0.0
    assert evil["analyst_risk"] == 0.925  # duplicate and undated rows cleaned away
    assert benign["analyst_risk"] == 0.05 and benign["domain_age_days"] > 11000
    assert out["cdn.sub.badparent.top"]["subdomain_depth"] == 2.0
    assert out["cdn.sub.badparent.top"]["blocklist_hits"] > 0  # wildcard parent listing
    assert out["x7k2q9zt4w.ru"]["label_entropy"] > 3.0
    ip, cidr = out["203.0.113.7"], out["198.51.100.23"]
    assert ip["is_ip"] == 1.0 and ip["domain_age_days"] == -1.0 and ip["name_length"] == 0.0
    assert 0.55 < ip["analyst_risk"] < 1.0  # 150 clipped to 100, averaged with an older 55
    assert cidr["blocklist_hits"] > 0  # inside a listed /24
    unseen = out["never-seen-before.org"]
    assert unseen["days_since_last_seen"] == 3650.0 and unseen["analyst_risk"] == -1.0


def test_feature_values_are_reproducible_and_format_independent(
    launch: Launcher, mariadb: MariaDB, s3_world: S3World
) -> None:
    from_json = launch.venv(db=mariadb)
    from_csv = launch.venv(db=mariadb, THREAT_FEED_URI=s3_world.feed_csv_uri)
    for entity in ENTITIES:
        a = from_json.features(entity)[1]["features"]
        b = from_csv.features(entity)[1]["features"]
        again = from_json.features(entity)[1]["features"]
        assert a == b == again, entity
    status, body = from_json.features("Evil-Login.XYZ.")
    assert status == 200 and body["entity"] == "evil-login.xyz"
    now = named(body["features"])
    status, later = from_json.features("evil-login.xyz", as_of="2027-06-01")
    assert status == 200 and later["as_of"].startswith("2027-06-01")
    later_values = named(later["features"])
    assert later_values["blocklist_hits"] < now["blocklist_hits"]  # recency decay
    assert later_values["days_since_last_seen"] > now["days_since_last_seen"]


def test_feature_bad_requests_get_400(launch: Launcher, mariadb: MariaDB) -> None:
    check_feature_bad_requests(launch.venv(db=mariadb))


def test_feature_sources_unavailable_get_503(launch: Launcher, mariadb: MariaDB, s3_world: S3World) -> None:
    from tests.servers import free_port

    db_down = launch.venv(db=mariadb, INTEL_DB_PORT=str(free_port()))
    status, body = db_down.features("example.com")
    assert_clean_error(status, body, 503, "internal intelligence database unavailable")
    assert mariadb.password not in json.dumps(body)

    no_feed = launch.venv(db=mariadb, THREAT_FEED_URI=s3_world.uri("intel/missing.json"))
    status, body = no_feed.features("example.com")
    assert_clean_error(status, body, 503, "does not exist")

    no_db = launch.venv(db=None)
    status, body = no_db.features("example.com")
    assert_clean_error(status, body, 503, "not configured (INTEL_DB_HOST)")
    # A bad request is still a 400 when the sources are down.
    status, body = db_down.features("")
    assert_clean_error(status, body, 400, "missing query parameter")


# --- scoring ----------------------------------------------------------------------------


def test_every_request_shape_gives_the_models_own_scores(
    launch: Launcher, mariadb: MariaDB, s3_world: S3World, models: Models, ref_python: Path
) -> None:
    key = s3_world.unique_key(".ubj")
    s3_world.put_file(key, models.a)
    fe = launch.venv(db=mariadb)
    scorer = launch.venv(MODEL_URI=s3_world.uri(key))

    vectors = [fe.features(e)[1]["features"] for e in ENTITIES]
    expected = direct_predictions(ref_python, models.a, vectors)
    by_entity = dict(zip(ENTITIES, expected, strict=True))
    assert by_entity["evil-login.xyz"] > 0.5 > by_entity["example.com"]

    for entity, vector, want in zip(ENTITIES, vectors, expected, strict=True):
        assert chain(fe, scorer, entity) == (vector, want)
        for body in ({"features": vector}, {"features": named(vector)}, vector):
            status, scored = scorer.score(body)
            assert status == 200, scored
            assert scored["scores"] == [want] and scored["score"] == want
    for body in ({"instances": vectors}, {"instances": [named(v) for v in vectors]}, vectors):
        status, scored = scorer.score(body)
        assert status == 200, scored
        assert scored["scores"] == expected and "score" not in scored
    assert scored["models"][0]["uri"] == s3_world.uri(key)


def test_score_bad_requests_get_400(launch: Launcher, s3_world: S3World, models: Models) -> None:
    key = s3_world.unique_key(".ubj")
    s3_world.put_file(key, models.a)
    check_score_bad_requests(launch.venv(MODEL_URI=s3_world.uri(key)), len(FEATURE_NAMES))


def test_missing_model_gets_503(launch: Launcher, s3_world: S3World, models: Models) -> None:
    body = {"features": [0.0] * len(FEATURE_NAMES)}
    cases = {
        "": "no model configured (MODEL_URI)",
        s3_world.uri("models/none-here.ubj"): "does not exist",
        "s3://no-such-bucket-for-sure/m.ubj": "does not exist",
        s3_world.uri("models/legacy.pkl"): "pickles are never loaded",
        "https://example.com/model.ubj": "not an s3://bucket/key URI",
    }
    for uri, fragment in cases.items():
        status, reply = launch.venv(MODEL_URI=uri).score(body)
        assert_clean_error(status, reply, 503, fragment)

    corrupt = s3_world.unique_key(".ubj")
    s3_world.put(corrupt, b"this is not a model")
    status, reply = launch.venv(MODEL_URI=s3_world.uri(corrupt)).score(body)
    assert_clean_error(status, reply, 503, "could not be loaded")
    # Malformed input is still a 400 when no model is there.
    status, reply = launch.venv(MODEL_URI="").score("{oops")
    assert_clean_error(status, reply, 400, "malformed JSON")


def test_model_is_cached_and_a_swap_is_picked_up(
    launch: Launcher, s3_world: S3World, models: Models, ref_python: Path
) -> None:
    key = s3_world.unique_key(".ubj")
    etag_a = s3_world.put_file(key, models.a)
    scorer = launch.venv(MODEL_URI=s3_world.uri(key))
    vector = [0.0, 30.0, 0.8, 18.0, 3.7, 0.3, 1.0, 1.2, 4.0, 0.9, 0.8, 5.0]
    want_a, want_b = (direct_predictions(ref_python, m, [vector])[0] for m in (models.a, models.b))
    assert want_a != want_b

    status, first = scorer.score({"features": vector})
    assert status == 200 and first["score"] == want_a and first["models"][0]["etag"] == etag_a
    scorer_dir = scorer.workdir / "tmp" / "models"
    cached = list(scorer_dir.iterdir())
    assert len(cached) == 1
    before = cached[0].stat()
    status, again = scorer.score({"features": vector})
    assert status == 200 and again["score"] == want_a
    after = cached[0].stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns), "re-downloaded"

    # Swap: model B (re-saved as .ubj to match the key's suffix) under the same key.
    b_ubj = launch.tmp / "model-b.ubj"
    _convert(ref_python, models.b, b_ubj)
    etag_b = s3_world.put_file(key, b_ubj)
    assert etag_b != etag_a
    status, swapped = scorer.score({"features": vector})
    assert status == 200, swapped
    assert swapped["score"] == want_b and swapped["models"][0]["etag"] == etag_b
    assert len(list(scorer_dir.iterdir())) == 1

    s3_world.delete(key)
    status, gone = scorer.score({"features": vector})
    assert_clean_error(status, gone, 503, "does not exist")
    s3_world.put_file(key, models.a)
    status, back = scorer.score({"features": vector})
    assert status == 200 and back["score"] == want_a


def test_ensemble_averages_its_models(
    launch: Launcher, s3_world: S3World, models: Models, ref_python: Path
) -> None:
    key_a, key_b = s3_world.unique_key(".ubj"), s3_world.unique_key(".json")
    s3_world.put_file(key_a, models.a)
    s3_world.put_file(key_b, models.b)
    scorer = launch.venv(MODEL_URI=f"{s3_world.uri(key_a)}, {s3_world.uri(key_b)}")
    rows = [
        [0.0, 30.0, 0.8, 18.0, 3.7, 0.3, 1.0, 1.2, 4.0, 0.9, 0.8, 5.0],
        [0.0, 9000.0, 0.18, 11.0, 2.5, 0.0, 0.0, 0.0, 0.0, 0.0, -1.0, 3650.0],
    ]
    a = direct_predictions(ref_python, models.a, rows)
    b = direct_predictions(ref_python, models.b, rows)
    status, body = scorer.score({"instances": rows})
    assert status == 200, body
    assert body["scores"] == [(x + y) / 2 for x, y in zip(a, b, strict=True)]
    assert [m["uri"] for m in body["models"]] == [s3_world.uri(key_a), s3_world.uri(key_b)]


# --- the scripts --------------------------------------------------------------------------


def test_smoke_script_passes_in_the_venv(ref_python: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [str(ref_python), str(EXAMPLE / "smoke.py")],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "smoke test passed" in proc.stdout


def test_train_refuses_a_pickle_path(ref_python: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [str(ref_python), "train.py", "--out", str(tmp_path / "model.pkl")],
        cwd=EXAMPLE, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "must end in .ubj or .json" in proc.stderr
    assert not (tmp_path / "model.pkl").exists()


def _convert(ref_python: Path, src: Path, dest: Path) -> None:
    code = "import sys, xgboost as x; b = x.Booster(); b.load_model(sys.argv[1]); b.save_model(sys.argv[2])"
    subprocess.run([str(ref_python), "-c", code, str(src), str(dest)], check=True, timeout=60)
