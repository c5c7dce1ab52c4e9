"""XGBoost models from S3, loaded once per container and reloaded only on a new ETag.

Models are files written by ``Booster.save_model`` (``.ubj`` or ``.json``): a documented,
version-stable format that carries the feature names. Pickles are refused: they are not
portable across XGBoost releases and unpickling runs arbitrary code.
"""

from __future__ import annotations

from dataclasses import dataclass

import xgboost as xgb

from .s3cache import ObjectMissing, ObjectUnavailable, S3ObjectCache, S3Uri

MODEL_SUFFIXES = (".ubj", ".json")


class ModelUnavailable(Exception):
    """No usable model at the URI; the message says why (safe to show the caller)."""


@dataclass(frozen=True)
class LoadedModel:
    uri: S3Uri
    etag: str
    booster: xgb.Booster

    @property
    def feature_names(self) -> tuple[str, ...]:
        names = self.booster.feature_names
        if names:
            return tuple(names)
        return tuple(f"f{i}" for i in range(self.booster.num_features()))


class ModelStore:
    def __init__(self, cache: S3ObjectCache) -> None:
        self._cache = cache
        self._loaded: dict[S3Uri, LoadedModel] = {}

    def load(self, uri: S3Uri) -> LoadedModel:
        if uri.suffix not in MODEL_SUFFIXES:
            raise ModelUnavailable(
                f"{uri}: a model must be a Booster.save_model file ending in .ubj or .json"
                " (pickles are never loaded)"
            )
        try:
            obj = self._cache.fetch(uri)
        except ObjectMissing as exc:
            self._loaded.pop(uri, None)
            raise ModelUnavailable(f"model {uri} does not exist") from exc
        except ObjectUnavailable as exc:
            raise ModelUnavailable(f"model store unavailable: {exc}") from exc
        current = self._loaded.get(uri)
        if current is not None and current.etag == obj.etag and not obj.changed:
            return current
        booster = xgb.Booster()
        try:
            booster.load_model(str(obj.path))
        except xgb.core.XGBoostError as exc:
            self._cache.forget(uri)
            self._loaded.pop(uri, None)
            raise ModelUnavailable(f"model {uri} could not be loaded by XGBoost") from exc
        model = LoadedModel(uri, obj.etag, booster)
        self._loaded[uri] = model
        return model
