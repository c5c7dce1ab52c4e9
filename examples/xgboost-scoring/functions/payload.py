"""The ``POST /score`` body: parsed and checked before any model is touched.

Accepted shapes (``features`` for one vector, ``instances`` for a batch)::

    {"features": [0.0, 120.0, ...]}                         one vector, in model order
    {"features": {"domain_age_days": 120.0, ...}}           named features, any order
    {"feature_names": [...], "features": [...]}             what /features returns
    {"instances": [[...], [...]]}                           a batch of vectors
    {"instances": [{...}, {...}]}                           a batch of named features
    [0.0, 120.0, ...]  /  [[...], [...]]                    bare vector / bare batch

Every value must be a finite JSON number: NaN, Infinity, strings, booleans and null are
rejected with the row and feature they were found at.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .apigw import BadRequest

MAX_BATCH = 1000
SHAPES = (
    'send {"features": [numbers]}, {"features": {name: number}}, '
    'or {"instances": [vectors or named features]}'
)


@dataclass(frozen=True)
class ScoreRequest:
    rows: tuple[tuple[float, ...], ...] | None
    """Positional vectors (model order), or None when the request named its features."""
    named: tuple[dict[str, float], ...] | None
    single: bool

    def __len__(self) -> int:
        return len(self.rows if self.rows is not None else self.named or ())


def parse_body(text: str) -> ScoreRequest:
    if not text.strip():
        raise BadRequest(f"request body is empty; {SHAPES}")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    except (ValueError, RecursionError) as exc:
        raise BadRequest("malformed JSON: a number is too long or nesting too deep") from exc
    if isinstance(doc, list):
        doc = {"instances": doc} if doc and isinstance(doc[0], list | dict) else {"features": doc}
    if not isinstance(doc, dict):
        raise BadRequest(f"the body must be a JSON object; {SHAPES}")
    if ("features" in doc) == ("instances" in doc):
        raise BadRequest(f"give exactly one of 'features' or 'instances'; {SHAPES}")

    if "features" in doc:
        features = doc["features"]
        names = doc.get("feature_names")
        if isinstance(features, list) and names is not None:
            features = _zip_names(names, features)
        return _request([features], single=True)
    instances = doc["instances"]
    if not isinstance(instances, list) or not instances:
        raise BadRequest("'instances' must be a non-empty list of vectors or named features")
    if len(instances) > MAX_BATCH:
        raise BadRequest(f"batch of {len(instances)} exceeds the limit of {MAX_BATCH} rows")
    return _request(instances, single=False)


def _zip_names(names: Any, values: list[Any]) -> dict[str, Any]:
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise BadRequest("'feature_names' must be a list of strings")
    if len(names) != len(values):
        raise BadRequest(f"'feature_names' has {len(names)} names but 'features' has {len(values)} values")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise BadRequest(f"duplicate feature names: {', '.join(dupes)}")
    return dict(zip(names, values, strict=True))


def _request(items: Sequence[Any], single: bool) -> ScoreRequest:
    if all(isinstance(item, list) for item in items):
        rows = tuple(_vector(item, i) for i, item in enumerate(items))
        return ScoreRequest(rows=rows, named=None, single=single)
    if all(isinstance(item, dict) for item in items):
        named = tuple(_named(item, i) for i, item in enumerate(items))
        return ScoreRequest(rows=None, named=named, single=single)
    raise BadRequest(f"each row must be a list of numbers or an object of named numbers; {SHAPES}")


def _vector(values: list[Any], row: int) -> tuple[float, ...]:
    if not values:
        raise BadRequest(f"row {row}: the feature vector is empty")
    return tuple(_number(v, row, f"position {i}") for i, v in enumerate(values))


def _named(values: dict[str, Any], row: int) -> dict[str, float]:
    if not values:
        raise BadRequest(f"row {row}: no features given")
    return {str(k): _number(v, row, repr(str(k))) for k, v in values.items()}


def _number(value: Any, row: int, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequest(f"row {row}, feature {where}: {json.dumps(value)[:40]} is not a number")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise BadRequest(f"row {row}, feature {where}: NaN and infinity are not allowed")
    return number


def resolve(request: ScoreRequest, feature_names: Sequence[str]) -> list[tuple[float, ...]]:
    """The rows as vectors in the model's feature order; 400 on any mismatch."""
    expected = list(feature_names)
    if request.rows is not None:
        for i, row in enumerate(request.rows):
            if len(row) != len(expected):
                raise BadRequest(
                    f"row {i}: expected {len(expected)} features, got {len(row)}",
                    feature_names=expected,
                )
        return list(request.rows)
    out = []
    known = set(expected)
    for i, named in enumerate(request.named or ()):
        unknown = sorted(set(named) - known)
        if unknown:
            raise BadRequest(f"row {i}: unknown feature names: {', '.join(unknown)}", feature_names=expected)
        missing = [name for name in expected if name not in named]
        if missing:
            raise BadRequest(f"row {i}: missing features: {', '.join(missing)}", feature_names=expected)
        out.append(tuple(named[name] for name in expected))
    return out
