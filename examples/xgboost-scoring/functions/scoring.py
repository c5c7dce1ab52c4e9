"""Scoring (ML): ``POST /score`` with one vector, a batch or named features → risk scores.

Handler: ``functions.scoring.handler``. Layer: *scoring* (xgboost-cpu, pandas, numpy, scipy,
joblib).

Environment:
    MODEL_URI              s3://bucket/key.ubj; several comma-separated URIs form an ensemble
                           whose scores are averaged
    MODEL_CACHE_DIR        where models are cached (default /tmp/models)
    MODEL_REFRESH_SECONDS  skip the ETag check for this long (default 0: every call)
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

from .apigw import Event, Response, Unavailable, body_text, guarded, json_response, require_method
from .models import LoadedModel, ModelStore, ModelUnavailable
from .payload import parse_body, resolve
from .s3cache import S3ObjectCache, S3Uri, s3_client


@dataclass(frozen=True)
class Settings:
    model_uris: tuple[str, ...]
    cache_dir: Path
    refresh_seconds: float

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        uris = tuple(u.strip() for u in (env.get("MODEL_URI") or "").split(",") if u.strip())
        return cls(
            model_uris=uris,
            cache_dir=Path(env.get("MODEL_CACHE_DIR") or "/tmp/models"),
            refresh_seconds=float(env.get("MODEL_REFRESH_SECONDS") or 0),
        )


class _Container:
    """What survives between invocations in one Lambda container."""

    def __init__(self) -> None:
        self.store: ModelStore | None = None

    def models(self, settings: Settings) -> list[LoadedModel]:
        if not settings.model_uris:
            raise Unavailable("no model configured (MODEL_URI)")
        try:
            uris = [S3Uri.parse(u) for u in settings.model_uris]
        except ValueError as exc:
            raise Unavailable(f"MODEL_URI: {exc}") from exc
        if self.store is None:
            cache = S3ObjectCache(s3_client(), settings.cache_dir, settings.refresh_seconds)
            self.store = ModelStore(cache)
        try:
            models = [self.store.load(uri) for uri in uris]
        except ModelUnavailable as exc:
            raise Unavailable(str(exc)) from exc
        names = models[0].feature_names
        for model in models[1:]:
            if model.feature_names != names:
                raise Unavailable(
                    f"ensemble misconfigured: {model.uri} and {models[0].uri} expect different features"
                )
        return models


_container = _Container()


def predict(models: Sequence[LoadedModel], rows: Sequence[Sequence[float]]) -> list[float]:
    """Each model's probability per row, averaged over the ensemble (float64)."""
    names = models[0].booster.feature_names
    matrix = xgb.DMatrix(np.asarray(rows, dtype=np.float64), feature_names=list(names) if names else None)
    per_model = np.stack([m.booster.predict(matrix).astype(np.float64) for m in models])
    scores: list[float] = per_model.mean(axis=0).tolist()
    return scores


@guarded
def handler(event: Event, context: Any = None) -> Response:
    """API Gateway REST proxy handler for ``POST /score``."""
    require_method(event, "POST")
    request = parse_body(body_text(event))
    models = _container.models(Settings.from_env(os.environ))
    rows = resolve(request, models[0].feature_names)
    scores = predict(models, rows)
    payload: dict[str, Any] = {
        "scores": scores,
        "models": [{"uri": str(m.uri), "etag": m.etag} for m in models],
    }
    if request.single:
        payload["score"] = scores[0]
    return json_response(200, payload)
