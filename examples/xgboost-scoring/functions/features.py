"""Feature extraction (FE): ``GET /features?entity=example.com`` → a fixed-order vector.

Handler: ``functions.features.handler``. Layer: *features* (pandas, numpy, pymysql).

Environment:
    INTEL_DB_HOST, INTEL_DB_PORT, INTEL_DB_USER, INTEL_DB_PASSWORD, INTEL_DB_NAME
        the internal-intelligence MySQL/MariaDB database
    THREAT_FEED_URI   s3://bucket/key.json or .csv: the threat-intel feed
    FEED_CACHE_DIR    where the feed is cached (default /tmp/feeds)
    FEED_REFRESH_SECONDS  skip the feed's ETag check for this long (default 0: every call)
    FEATURES_AS_OF    ISO timestamp to compute recency against (default: now); the
                      ``as_of`` query parameter overrides it, for reproducible backfills

The response's ``feature_names`` + ``features`` can be posted to ``/score`` as they are.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .apigw import (
    BadRequest,
    Event,
    Response,
    Unavailable,
    guarded,
    json_response,
    query_param,
    require_method,
)
from .entity import Entity, lexical_features, parse_entity
from .feature_spec import FEATURE_NAMES, MAX_DAYS, UNKNOWN
from .intel_db import DbFacts, DbSettings, IntelDb, IntelDbUnavailable
from .s3cache import ObjectMissing, ObjectUnavailable, S3ObjectCache, S3Uri, s3_client
from .threat_feed import CleanFeed, FeedFormatError, FeedMatch, match, read_feed

DECIMALS = 6


@dataclass(frozen=True)
class Settings:
    db: DbSettings | None
    feed_uri: str | None
    feed_cache_dir: Path
    feed_refresh_seconds: float
    as_of: str | None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        return cls(
            db=DbSettings.from_env(env),
            feed_uri=env.get("THREAT_FEED_URI") or None,
            feed_cache_dir=Path(env.get("FEED_CACHE_DIR") or "/tmp/feeds"),
            feed_refresh_seconds=float(env.get("FEED_REFRESH_SECONDS") or 0),
            as_of=env.get("FEATURES_AS_OF") or None,
        )


class _Container:
    """What survives between invocations in one Lambda container."""

    def __init__(self) -> None:
        self.db: IntelDb | None = None
        self.feed_cache: S3ObjectCache | None = None
        self.feed: tuple[str, CleanFeed] | None = None

    def intel_db(self, settings: Settings) -> IntelDb:
        if settings.db is None:
            raise Unavailable("internal intelligence database not configured (INTEL_DB_HOST)")
        if self.db is None or self.db.settings != settings.db:
            self.db = IntelDb(settings.db)
        return self.db

    def threat_feed(self, settings: Settings) -> tuple[CleanFeed, str]:
        if not settings.feed_uri:
            raise Unavailable("threat feed not configured (THREAT_FEED_URI)")
        try:
            uri = S3Uri.parse(settings.feed_uri)
        except ValueError as exc:
            raise Unavailable(f"THREAT_FEED_URI: {exc}") from exc
        if self.feed_cache is None:
            self.feed_cache = S3ObjectCache(
                s3_client(), settings.feed_cache_dir, settings.feed_refresh_seconds
            )
        try:
            obj = self.feed_cache.fetch(uri)
        except ObjectMissing as exc:
            self.feed = None
            raise Unavailable(f"threat feed {uri} does not exist") from exc
        except ObjectUnavailable as exc:
            raise Unavailable(f"threat feed unavailable: {exc}") from exc
        if self.feed is None or self.feed[0] != obj.etag or obj.changed:
            try:
                self.feed = (obj.etag, read_feed(obj.path, uri.suffix))
            except FeedFormatError as exc:
                self.feed_cache.forget(uri)
                raise Unavailable(f"threat feed {uri} is unreadable: {exc}") from exc
        return self.feed[1], obj.etag


_container = _Container()


def parse_as_of(text: str | None) -> pd.Timestamp:
    if not text:
        return pd.Timestamp.now(tz="UTC")
    try:
        ts = pd.Timestamp(text)
    except (ValueError, TypeError) as exc:
        raise BadRequest(f"as_of {text[:64]!r} is not an ISO date or timestamp") from exc
    if pd.isna(ts):
        raise BadRequest(f"as_of {text[:64]!r} is not an ISO date or timestamp")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def assemble(entity: Entity, as_of: pd.Timestamp, db: DbFacts, feed: FeedMatch) -> list[float]:
    """The vector in FEATURE_NAMES order, rounded so the JSON is short and stable."""
    seen = [t for t in (db.last_seen, feed.last_seen) if t is not None]
    if seen:
        days = (as_of - max(seen)).total_seconds() / 86400.0
        since = min(max(days, 0.0), MAX_DAYS)
    else:
        since = MAX_DAYS
    values: dict[str, float] = {
        "is_ip": 1.0 if entity.is_ip else 0.0,
        "domain_age_days": UNKNOWN if db.domain_age_days is None else db.domain_age_days,
        **lexical_features(entity),
        "blocklist_hits": feed.hits,
        "intel_max_severity": feed.max_severity,
        "internal_incidents": db.incidents,
        "analyst_risk": UNKNOWN if db.analyst_risk is None else db.analyst_risk,
        "days_since_last_seen": since,
    }
    return [round(float(values[name]), DECIMALS) for name in FEATURE_NAMES]


@guarded
def handler(event: Event, context: Any = None) -> Response:
    """API Gateway REST proxy handler for ``GET /features?entity=...``."""
    require_method(event, "GET")
    entity = parse_entity(query_param(event, "entity"))
    settings = Settings.from_env(os.environ)
    as_of = parse_as_of(query_param(event, "as_of") or settings.as_of)
    feed, feed_etag = _container.threat_feed(settings)
    try:
        facts = _container.intel_db(settings).facts(entity, as_of)
    except IntelDbUnavailable as exc:
        raise Unavailable(f"internal intelligence database unavailable: {exc}") from exc
    feed_match = match(feed, entity, as_of)
    return json_response(
        200,
        {
            "entity": entity.name,
            "kind": entity.kind,
            "as_of": as_of.isoformat(),
            "feature_names": list(FEATURE_NAMES),
            "features": assemble(entity, as_of, facts, feed_match),
            "sources": {
                "intel_db": {"observations": facts.observations},
                "threat_feed": {"matches": feed_match.matches, "etag": feed_etag},
            },
        },
    )
