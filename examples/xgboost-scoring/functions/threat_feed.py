"""The threat-intel feed: a JSON or CSV document in S3, cleaned once per ETag with pandas.

Real feeds are messy, and the cleaning is the point of this module: defanged indicators
(``evil[.]com``, ``hxxp://``), wildcards (``*.example.com``), confidence as a number or a word,
missing or malformed dates, the same indicator repeated by a source. What comes out is one row
per (indicator, source) with numeric confidence, severity and a last-seen timestamp.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .entity import Entity

COLUMNS = ("indicator", "type", "source", "confidence", "severity", "first_seen", "last_seen")
CONFIDENCE_WORDS = {"high": 90.0, "medium": 60.0, "med": 60.0, "low": 30.0}
DEFAULT_CONFIDENCE = 50.0
HALF_LIFE_DAYS = 90.0
PARENT_WEIGHT = 0.5  # a listed parent domain implicates its subdomains, less strongly
NETWORK_WEIGHT = 0.8  # an IP inside a listed CIDR range


class FeedFormatError(ValueError):
    """The document is not a feed this module can read."""


@dataclass(frozen=True)
class CleanFeed:
    frame: pd.DataFrame
    """indicator, source, wildcard, confidence, severity, seen (UTC)."""
    networks: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, int], ...]
    """CIDR indicators, parsed once, with their row position in ``frame``."""


@dataclass(frozen=True)
class FeedMatch:
    hits: float
    max_severity: float
    last_seen: pd.Timestamp | None
    matches: int


def read_feed(path: Path, suffix: str) -> CleanFeed:
    if suffix == ".csv":
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    elif suffix == ".json":
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise FeedFormatError(f"feed is not valid JSON: {exc}") from exc
        records = doc.get("indicators") if isinstance(doc, dict) else doc
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise FeedFormatError("a JSON feed is a list of records or {'indicators': [...]}")
        raw = pd.DataFrame.from_records(records)
    else:
        raise FeedFormatError(f"feed must be a .json or .csv document, not {suffix or 'no suffix'}")
    return clean_feed(raw)


def clean_feed(raw: pd.DataFrame) -> CleanFeed:
    df = raw.reindex(columns=list(COLUMNS))
    indicator = df["indicator"].astype("string").str.strip().str.lower()
    indicator = indicator.str.replace("[.]", ".", regex=False).str.replace("(.)", ".", regex=False)
    # A URL indicator (hxxp://evil.com:8080/x) names its host; a CIDR keeps its "/len".
    had_scheme = indicator.str.contains("://", regex=False).fillna(False).astype(bool)
    no_scheme = indicator.str.replace(r"^[a-z]+://", "", regex=True)
    host = no_scheme.str.split("/").str[0].str.split(":").str[0]
    indicator = host.where(had_scheme, no_scheme)
    wildcard = indicator.str.startswith("*.").fillna(False)
    indicator = indicator.str.removeprefix("*.").str.rstrip(".")

    words = df["confidence"].astype("string").str.strip().str.lower().map(CONFIDENCE_WORDS)
    confidence = pd.to_numeric(df["confidence"], errors="coerce").astype("float64")
    confidence = confidence.fillna(words.astype("float64")).fillna(DEFAULT_CONFIDENCE)
    severity = pd.to_numeric(df["severity"], errors="coerce").astype("float64").fillna(1.0)
    last_seen = pd.to_datetime(df["last_seen"], utc=True, errors="coerce", format="ISO8601")
    first_seen = pd.to_datetime(df["first_seen"], utc=True, errors="coerce", format="ISO8601")

    clean = pd.DataFrame(
        {
            "indicator": indicator,
            "source": df["source"].astype("string").str.strip().str.lower().fillna("unknown"),
            "wildcard": wildcard.astype(bool),
            "confidence": confidence.clip(0.0, 100.0),
            "severity": severity.clip(0.0, 5.0),
            "seen": last_seen.fillna(first_seen),
        }
    )
    clean = clean[clean["indicator"].notna() & (clean["indicator"] != "") & clean["seen"].notna()]
    clean = (
        clean.sort_values(["indicator", "source", "seen"], kind="mergesort")
        .drop_duplicates(["indicator", "source"], keep="last")
        .reset_index(drop=True)
    )
    networks = []
    for pos, value in enumerate(clean["indicator"]):
        if "/" in value:
            try:
                networks.append((ipaddress.ip_network(value, strict=False), pos))
            except ValueError:
                continue
    return CleanFeed(clean, tuple(networks))


def match(feed: CleanFeed, entity: Entity, as_of: pd.Timestamp) -> FeedMatch:
    frame = feed.frame
    keys = entity.lookup_keys()
    rows = frame[frame["indicator"].isin(keys)]
    weight = pd.Series(PARENT_WEIGHT, index=rows.index, dtype="float64")
    weight[(rows["indicator"] == entity.name) | rows["wildcard"]] = 1.0
    if entity.is_ip and feed.networks:
        address = ipaddress.ip_address(entity.name)
        inside = [pos for net, pos in feed.networks if address in net]
        if inside:
            net_rows = frame.iloc[inside]
            rows = pd.concat([rows, net_rows])
            weight = pd.concat([weight, pd.Series(NETWORK_WEIGHT, index=net_rows.index, dtype="float64")])
    if rows.empty:
        return FeedMatch(0.0, 0.0, None, 0)
    age_days = ((as_of - rows["seen"]).dt.total_seconds() / 86400.0).clip(lower=0.0)
    decay = 0.5 ** (age_days / HALF_LIFE_DAYS)
    hits = (rows["confidence"] / 100.0 * decay * weight).sum()
    return FeedMatch(
        hits=float(hits),
        max_severity=float((rows["severity"] * decay).max()),
        last_seen=rows["seen"].max(),
        matches=len(rows),
    )
