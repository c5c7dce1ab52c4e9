"""Requests and checks shared by the virtualenv tests and the built-layer (end-to-end) tests."""

from __future__ import annotations

import json
from typing import Any

from tests.example.lambda_container import FE, LambdaContainer, get_event, post_event

ENTITIES = (
    "evil-login.xyz",
    "example.com",
    "x7k2q9zt4w.ru",
    "cdn.sub.badparent.top",
    "203.0.113.7",
    "198.51.100.23",
    "never-seen-before.org",
)

# (query parameters, fragment of the 400 message)
BAD_FEATURE_QUERIES: tuple[tuple[dict[str, str], str], ...] = (
    ({}, "missing query parameter 'entity'"),
    ({"entity": "   "}, "missing query parameter 'entity'"),
    ({"entity": "https://example.com/login"}, "looks like a URL"),
    ({"entity": "not a domain"}, "neither an IP address nor a domain name"),
    ({"entity": "localhost"}, "neither an IP address nor a domain name"),
    ({"entity": "a" * 300 + ".com"}, "neither an IP address nor a domain name"),
    ({"entity": "example.com", "as_of": "yesterday-ish"}, "is not an ISO date"),
)


def bad_score_bodies(n_features: int) -> list[tuple[str, str]]:
    """(raw request body, fragment of the 400 message) for the scoring function."""
    ok = [0.5] * n_features
    return [
        ("", "request body is empty"),
        ("{not json", "malformed JSON at line 1 column 2"),
        ('{"features": [1, 2,]}', "malformed JSON"),
        ("42", "must be a JSON object"),
        ('{"vector": [1, 2]}', "exactly one of 'features' or 'instances'"),
        (json.dumps({"features": ok[:-1]}), f"expected {n_features} features, got {n_features - 1}"),
        (json.dumps({"features": [*ok, 1.0]}), f"expected {n_features} features, got {n_features + 1}"),
        (json.dumps({"instances": [ok, ok[:3]]}), "row 1: expected"),
        (json.dumps({"features": {"domain_age_days": 3.0, "bogus_feature": 1.0}}),
         "unknown feature names: bogus_feature"),
        (json.dumps({"features": {"domain_age_days": 3.0}}), "missing features: is_ip"),
        ('{"features": [' + ", ".join(["NaN", *["0.5"] * (n_features - 1)]) + "]}",
         "NaN and infinity are not allowed"),
        ('{"features": [' + ", ".join([*["0.5"] * (n_features - 1), "Infinity"]) + "]}",
         "NaN and infinity are not allowed"),
        ('{"features": [' + ", ".join([*["0.5"] * (n_features - 1), "1e999"]) + "]}",
         "NaN and infinity are not allowed"),
        (json.dumps({"features": ["0.5"] * n_features}), "is not a number"),
        (json.dumps({"features": [None] * n_features}), "is not a number"),
        (json.dumps({"features": [True] * n_features}), "is not a number"),
        (json.dumps({"instances": []}), "non-empty list"),
        (json.dumps({"instances": [ok] * 1001}), "exceeds the limit of 1000"),
        (json.dumps({"feature_names": ["a"], "features": ok}), "'feature_names' has 1 names"),
    ]  # fmt: skip


def assert_clean_error(status: int, body: dict[str, Any], expected_status: int, fragment: str) -> None:
    assert status == expected_status, (status, body)
    assert isinstance(body.get("error"), str), body
    assert fragment in body["error"], (fragment, body)
    text = json.dumps(body)
    assert "Traceback" not in text and 'File "' not in text, body


def check_feature_bad_requests(fe: LambdaContainer) -> None:
    for query, fragment in BAD_FEATURE_QUERIES:
        status, body = fe.call(FE, get_event("/features", query))
        assert_clean_error(status, body, 400, fragment)
    wrong_method = post_event("/features", "{}")
    status, body = fe.call(FE, wrong_method)
    assert_clean_error(status, body, 405, "not allowed; use GET")
    response = fe.invoke(FE, "not an event")  # type: ignore[arg-type]
    assert response["statusCode"] == 400, response


def check_score_bad_requests(scorer: LambdaContainer, n_features: int) -> None:
    for raw, fragment in bad_score_bodies(n_features):
        status, body = scorer.score(raw)
        assert_clean_error(status, body, 400, fragment)


def chain(fe: LambdaContainer, scorer: LambdaContainer, entity: str) -> tuple[list[float], float]:
    """FE → ML exactly as a client would: the /features body posted as is to /score."""
    status, features = fe.features(entity)
    assert status == 200, features
    status, scored = scorer.score(features)
    assert status == 200, scored
    return features["features"], scored["score"]
