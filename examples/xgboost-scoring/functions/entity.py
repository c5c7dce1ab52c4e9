"""An entity (domain or IP) from untrusted input, and the lexical features of its name."""

from __future__ import annotations

import ipaddress
import math
import re
from collections import Counter
from dataclasses import dataclass

from .apigw import BadRequest

_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# Second-level public suffixes common enough to matter for "registrable domain".
_TWO_LEVEL_SUFFIXES = frozenset(
    {
        "co.uk",
        "org.uk",
        "ac.uk",
        "gov.uk",
        "com.au",
        "net.au",
        "co.jp",
        "com.br",
        "com.cn",
        "co.in",
        "co.za",
        "com.mx",
        "com.tr",
        "co.kr",
    }
)
# Share of abusive registrations per TLD (illustrative figures in the spirit of public
# abuse reports); anything not listed gets DEFAULT_TLD_RISK.
TLD_RISK: dict[str, float] = {
    "gov": 0.01,
    "edu": 0.02,
    "mil": 0.01,
    "int": 0.02,
    "org": 0.12,
    "com": 0.18,
    "net": 0.22,
    "io": 0.2,
    "dev": 0.15,
    "app": 0.2,
    "de": 0.08,
    "uk": 0.09,
    "fr": 0.08,
    "nl": 0.1,
    "jp": 0.07,
    "ru": 0.45,
    "cn": 0.4,
    "info": 0.5,
    "biz": 0.55,
    "online": 0.62,
    "site": 0.64,
    "club": 0.6,
    "xyz": 0.78,
    "top": 0.84,
    "icu": 0.8,
    "buzz": 0.75,
    "zip": 0.86,
    "mov": 0.8,
    "tk": 0.9,
    "ml": 0.88,
    "ga": 0.88,
    "cf": 0.88,
    "gq": 0.88,
}
DEFAULT_TLD_RISK = 0.35


@dataclass(frozen=True)
class Entity:
    name: str
    kind: str  # "domain" or "ip"

    @property
    def is_ip(self) -> bool:
        return self.kind == "ip"

    def lookup_keys(self) -> list[str]:
        """The entity and, for a domain, each parent domain: what a listing could name."""
        if self.is_ip:
            return [self.name]
        labels = self.name.split(".")
        return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def parse_entity(raw: str | None) -> Entity:
    if raw is None or not raw.strip():
        raise BadRequest("missing query parameter 'entity' (a domain name or an IP address)")
    text = raw.strip()
    if "://" in text or "/" in text:
        raise BadRequest(f"entity {text[:100]!r} looks like a URL; pass only the host, e.g. example.com")
    try:
        return Entity(str(ipaddress.ip_address(text.strip("[]"))), "ip")
    except ValueError:
        pass
    name = text.lower().rstrip(".")
    try:
        name = name.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise BadRequest(
            f"entity {text[:100]!r} is neither an IP address nor a domain name like example.com"
        ) from exc
    labels = name.split(".")
    if (
        len(name) > 253
        or len(labels) < 2
        or not all(_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise BadRequest(f"entity {text[:100]!r} is neither an IP address nor a domain name like example.com")
    return Entity(name, "domain")


def registrable_split(name: str) -> tuple[str, int]:
    """(registrable label, subdomain depth) of a domain: ``a.b.example.co.uk`` → example, 2."""
    labels = name.split(".")
    suffix_len = 2 if ".".join(labels[-2:]) in _TWO_LEVEL_SUFFIXES and len(labels) > 2 else 1
    registrable_index = len(labels) - suffix_len - 1
    return labels[registrable_index], registrable_index


def shannon_entropy(text: str) -> float:
    if not text:
        return 0.0
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def lexical_features(entity: Entity) -> dict[str, float]:
    if entity.is_ip:
        return {
            "tld_risk": 0.0,
            "name_length": 0.0,
            "label_entropy": 0.0,
            "digit_ratio": 0.0,
            "subdomain_depth": 0.0,
        }
    label, depth = registrable_split(entity.name)
    tld = entity.name.rsplit(".", 1)[-1]
    digits = sum(ch.isdigit() for ch in label)
    return {
        "tld_risk": TLD_RISK.get(tld, DEFAULT_TLD_RISK),
        "name_length": float(len(entity.name)),
        "label_entropy": shannon_entropy(label),
        "digit_ratio": digits / len(label),
        "subdomain_depth": float(depth),
    }
