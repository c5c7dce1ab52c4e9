"""Train the domain/IP risk classifier on a synthetic but plausible data set.

    python train.py --out build/model.ubj [--rows 20000] [--rounds 200] [--seed 7]

Run it with the same pinned XGBoost the scoring layer ships (requirements-scoring.txt), so the
model is trained and served by one release. The model is written with ``save_model``
(``.ubj`` or ``.json``; never a pickle) and carries the feature names the scoring function
checks requests against. Upload it to S3 and point the scoring function's MODEL_URI at it.

The data imitates what the feature-extraction function produces: malicious entities are young
(or unknown) domains in abused TLDs with high-entropy, digit-heavy names, listed in threat
feeds and internal incident reports; benign ones mostly are not. 3% of labels are flipped.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import xgboost as xgb
from functions.feature_spec import FEATURE_NAMES, MAX_DAYS, UNKNOWN

MALICIOUS_RATE = 0.3
LABEL_NOISE = 0.03


def synthesize(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A (rows, len(FEATURE_NAMES)) matrix in FEATURE_NAMES order, and 0/1 labels."""
    rng = np.random.default_rng(seed)
    bad = rng.random(rows) < MALICIOUS_RATE
    is_ip = rng.random(rows) < 0.15

    def pick(if_bad: np.ndarray, if_good: np.ndarray) -> np.ndarray:
        return np.where(bad, if_bad, if_good)

    age = pick(rng.exponential(90.0, rows), rng.lognormal(7.3, 1.0, rows)).round()
    unknown_age = rng.random(rows) < pick(np.full(rows, 0.35), np.full(rows, 0.1))
    tld_risk = pick(rng.beta(4.0, 2.0, rows), rng.beta(1.5, 6.0, rows)).round(2)
    length = pick(rng.normal(22.0, 9.0, rows), rng.normal(14.0, 5.0, rows)).clip(4, 80).round()
    dga = rng.random(rows) < 0.5
    entropy = pick(
        np.where(dga, rng.normal(3.6, 0.3, rows), rng.normal(2.9, 0.4, rows)),
        rng.normal(2.7, 0.4, rows),
    ).clip(0.0, 4.7)
    digits = pick(rng.beta(1.5, 6.0, rows), rng.beta(1.0, 20.0, rows))
    depth = pick(rng.poisson(1.4, rows), rng.poisson(0.6, rows)).astype(float)

    listed = rng.random(rows) < pick(np.full(rows, 0.6), np.full(rows, 0.05))
    hits = np.where(listed, pick(rng.gamma(2.0, 0.6, rows), rng.exponential(0.2, rows)), 0.0)
    severity = np.where(listed, pick(rng.uniform(1.5, 5.0, rows), rng.uniform(0.0, 2.0, rows)), 0)
    reported = rng.random(rows) < pick(np.full(rows, 0.45), np.full(rows, 0.08))
    incidents = np.where(reported, pick(rng.gamma(1.5, 1.0, rows), rng.exponential(0.3, rows)), 0)
    scored = rng.random(rows) < pick(np.full(rows, 0.5), np.full(rows, 0.3))
    analyst = np.where(scored, pick(rng.beta(6.0, 3.0, rows), rng.beta(2.0, 8.0, rows)), UNKNOWN)
    recency = pick(rng.exponential(60.0, rows), rng.exponential(400.0, rows)).clip(0, MAX_DAYS)
    since = np.where(listed | reported, recency, MAX_DAYS)

    lexical = ~is_ip
    columns = {
        "is_ip": is_ip.astype(float),
        "domain_age_days": np.where(is_ip | unknown_age, UNKNOWN, age),
        "tld_risk": np.where(lexical, tld_risk, 0.0),
        "name_length": np.where(lexical, length, 0.0),
        "label_entropy": np.where(lexical, entropy, 0.0),
        "digit_ratio": np.where(lexical, digits, 0.0),
        "subdomain_depth": np.where(lexical, depth, 0.0),
        "blocklist_hits": hits,
        "intel_max_severity": severity,
        "internal_incidents": incidents,
        "analyst_risk": analyst,
        "days_since_last_seen": since,
    }
    X = np.column_stack([columns[name] for name in FEATURE_NAMES]).astype(np.float64)
    flip = rng.random(rows) < LABEL_NOISE
    y = (bad ^ flip).astype(np.float64)
    return X, y


def auc(y: np.ndarray, p: np.ndarray) -> float:
    """ROC AUC by ranks (ties averaged); no scikit-learn needed."""
    order = np.argsort(p, kind="mergesort")
    ranks = np.empty(len(p))
    sorted_p = p[order]
    i = 0
    while i < len(p):
        j = i
        while j + 1 < len(p) and sorted_p[j + 1] == sorted_p[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    pos = y == 1
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def train(rows: int, rounds: int, seed: int) -> tuple[xgb.Booster, float]:
    X, y = synthesize(rows, seed)
    split = int(rows * 0.8)
    names = list(FEATURE_NAMES)
    dtrain = xgb.DMatrix(X[:split], label=y[:split], feature_names=names)
    dtest = xgb.DMatrix(X[split:], label=y[split:], feature_names=names)
    params = {
        "objective": "binary:logistic",
        "eval_metric": "auc",
        "tree_method": "hist",
        "max_depth": 4,
        "eta": 0.1,
        "subsample": 0.9,
        "colsample_bytree": 0.9,
        "seed": seed,
    }
    booster = xgb.train(params, dtrain, num_boost_round=rounds)
    holdout_auc = auc(y[split:], booster.predict(dtest))
    booster.set_attr(
        trained_with=f"xgboost {xgb.__version__}",
        training_rows=str(split),
        seed=str(seed),
        holdout_auc=f"{holdout_auc:.4f}",
    )
    return booster, holdout_auc


def save(booster: xgb.Booster, out: Path) -> None:
    """save_model to a temp file beside ``out``, then rename: never a half-written model."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=".model-", suffix=out.suffix)
    os.close(fd)
    try:
        booster.save_model(tmp)
        os.replace(tmp, out)
    finally:
        Path(tmp).unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out", type=Path, default=Path("build/model.ubj"), help="model file to write (.ubj or .json)"
    )
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.out.suffix not in (".ubj", ".json"):
        parser.error(f"--out must end in .ubj or .json (save_model formats), not {args.out}")
    if args.rows < 100 or args.rounds < 1:
        parser.error("--rows must be at least 100 and --rounds at least 1")
    booster, holdout_auc = train(args.rows, args.rounds, args.seed)
    save(booster, args.out)
    print(
        f"wrote {args.out} ({args.out.stat().st_size:,} bytes): {args.rounds} rounds on "
        f"{int(args.rows * 0.8):,} rows, holdout AUC {holdout_auc:.4f}, "
        f"xgboost {xgb.__version__}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
