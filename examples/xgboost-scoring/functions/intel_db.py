"""The internal-intelligence database (MySQL/MariaDB) through PyMySQL.

Schema (see ``sample_data/intel.sql``): ``domains(name, registered_on, registrar)`` and
``observations(entity, observed_at, category, analyst_score)``. The connection is opened on
first use and kept for the life of the container, pinged (and reopened) before each call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pymysql

from .entity import Entity

HALF_LIFE_DAYS = 180.0
PARENT_WEIGHT = 0.5
CATEGORY_WEIGHTS = {
    "c2": 1.0,
    "malware": 1.0,
    "phishing": 0.9,
    "fraud": 0.8,
    "spam": 0.4,
    "scan": 0.3,
    "benign": 0.0,
}
DEFAULT_CATEGORY_WEIGHT = 0.5


class IntelDbUnavailable(Exception):
    """The database could not be reached or queried; the message names no secret."""


@dataclass(frozen=True)
class DbSettings:
    host: str
    port: int
    user: str
    password: str = ""
    database: str = "intel"
    connect_timeout: int = 5

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> DbSettings | None:
        host = env.get("INTEL_DB_HOST")
        if not host:
            return None
        return cls(
            host=host,
            port=int(env.get("INTEL_DB_PORT") or 3306),
            user=env.get("INTEL_DB_USER", "intel_ro"),
            password=env.get("INTEL_DB_PASSWORD", ""),
            database=env.get("INTEL_DB_NAME", "intel"),
        )


@dataclass(frozen=True)
class DbFacts:
    domain_age_days: float | None
    incidents: float
    analyst_risk: float | None
    last_seen: pd.Timestamp | None
    observations: int


class IntelDb:
    def __init__(self, settings: DbSettings) -> None:
        self.settings = settings
        self._conn: Any = None

    def _connection(self) -> Any:
        s = self.settings
        try:
            if self._conn is None:
                self._conn = pymysql.connect(
                    host=s.host,
                    port=s.port,
                    user=s.user,
                    password=s.password,
                    database=s.database,
                    connect_timeout=s.connect_timeout,
                    read_timeout=10,
                    write_timeout=10,
                    charset="utf8mb4",
                    autocommit=True,
                )
            else:
                self._conn.ping(reconnect=True)
        except pymysql.MySQLError as exc:
            self._conn = None
            raise IntelDbUnavailable(
                f"cannot connect to {s.host}:{s.port}/{s.database} as {s.user}: {_reason(exc)}"
            ) from exc
        return self._conn

    def _query(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        conn = self._connection()
        try:
            with conn.cursor() as cur:
                cur.execute(sql, args)
                return list(cur.fetchall())
        except pymysql.MySQLError as exc:
            self._conn = None
            raise IntelDbUnavailable(f"query failed: {_reason(exc)}") from exc

    def facts(self, entity: Entity, as_of: pd.Timestamp) -> DbFacts:
        registered: dt.date | None = None
        if not entity.is_ip:
            rows = self._query("SELECT registered_on FROM domains WHERE name = %s", (entity.name,))
            registered = rows[0][0] if rows and rows[0][0] is not None else None
        keys = tuple(entity.lookup_keys())
        placeholders = ", ".join(["%s"] * len(keys))
        rows = self._query(
            "SELECT entity, observed_at, category, analyst_score FROM observations"
            f" WHERE entity IN ({placeholders}) ORDER BY id",
            keys,
        )
        obs = pd.DataFrame(rows, columns=["entity", "observed_at", "category", "analyst_score"])
        age = None
        if registered is not None:
            age = float(max((as_of.date() - registered).days, 0))
        return summarise(obs, entity, as_of, age)


def summarise(
    obs: pd.DataFrame, entity: Entity, as_of: pd.Timestamp, domain_age_days: float | None
) -> DbFacts:
    """Clean the observation rows and weigh them by category, recency and match closeness."""
    obs = obs.assign(
        entity=obs["entity"].astype("string").str.strip().str.lower(),
        category=obs["category"].astype("string").str.strip().str.lower().fillna("unknown"),
        observed_at=pd.to_datetime(obs["observed_at"], utc=True, errors="coerce"),
        analyst_score=pd.to_numeric(obs["analyst_score"].astype("object"), errors="coerce")
        .astype("float64")
        .clip(0.0, 100.0),
    )
    obs = obs.dropna(subset=["observed_at"]).drop_duplicates(subset=["entity", "observed_at", "category"])
    if obs.empty:
        return DbFacts(domain_age_days, 0.0, None, None, 0)
    closeness = (obs["entity"] == entity.name).map({True: 1.0, False: PARENT_WEIGHT})
    age_days = ((as_of - obs["observed_at"]).dt.total_seconds() / 86400.0).clip(lower=0.0)
    weight = (0.5 ** (age_days / HALF_LIFE_DAYS)) * closeness.astype("float64")
    severity = obs["category"].map(CATEGORY_WEIGHTS).astype("float64")
    severity = severity.fillna(DEFAULT_CATEGORY_WEIGHT)
    incidents = float((severity * weight).sum())
    scored = obs["analyst_score"].notna()
    analyst = None
    if scored.any() and weight[scored].sum() > 0:
        w = weight[scored]
        analyst = float((obs.loc[scored, "analyst_score"] / 100.0 * w).sum() / w.sum())
    return DbFacts(domain_age_days, incidents, analyst, obs["observed_at"].max(), len(obs))


def _reason(exc: BaseException) -> str:
    args: tuple[object, ...] = tuple(exc.args)
    if len(args) >= 2:
        return f"({args[0]}) {args[1]}"
    return type(exc).__name__
