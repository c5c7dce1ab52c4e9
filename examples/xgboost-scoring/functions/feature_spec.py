"""The feature vector's contract: names, order and meaning, shared by FE, training and docs.

The scoring function does not import this: it reads the names from the model file, which
``train.py`` writes with these names, so a retrained model with other features needs no code
change on the scoring side.
"""

from __future__ import annotations

UNKNOWN = -1.0
"""Sentinel for a value no source knows (e.g. the age of an unregistered domain)."""

MAX_DAYS = 3650.0
"""``days_since_last_seen`` when no source ever reported the entity; ages are capped here too."""

FEATURES: dict[str, str] = {
    "is_ip": "1 for an IP address, 0 for a domain name",
    "domain_age_days": "days since registration (internal DB); -1 unknown or an IP",
    "tld_risk": "abuse rate of the top-level domain, 0..1 (0 for an IP)",
    "name_length": "characters in the full domain name (0 for an IP)",
    "label_entropy": "Shannon entropy (bits/char) of the registrable label; DGA names are high",
    "digit_ratio": "share of digits in the registrable label",
    "subdomain_depth": "labels left of the registrable domain",
    "blocklist_hits": "threat-feed matches weighted by confidence and recency",
    "intel_max_severity": "highest recency-weighted feed severity, 0..5",
    "internal_incidents": "internal DB incidents weighted by category and recency",
    "analyst_risk": "recency-weighted mean analyst risk score, 0..1; -1 when never scored",
    "days_since_last_seen": "days since any source last reported it, capped at 3650",
}

FEATURE_NAMES: tuple[str, ...] = tuple(FEATURES)
