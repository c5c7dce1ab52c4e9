"""Smoke test for the scoring layer: ``lambda-slim build --smoke smoke.py`` runs it.

It runs in a bare python3.12 that sees only the built layer and the standard library (no
boto3, no network, no handler code), so it is self-contained: import the stack, train a tiny
model in memory, round-trip it through save_model/load_model in both formats, and predict
from a pandas DataFrame, a scipy sparse matrix and a numpy array. Exits non-zero with the
reason on any failure, which fails the build before a broken layer ships.
"""

from __future__ import annotations

import sys
import tempfile
import traceback
from pathlib import Path


def check() -> list[str]:
    import joblib
    import numpy as np
    import pandas as pd
    import scipy
    import scipy.sparse
    import xgboost as xgb

    done = [
        f"imports: xgboost {xgb.__version__}, numpy {np.__version__}, pandas {pd.__version__},"
        f" scipy {scipy.__version__}, joblib {joblib.__version__}"
    ]
    rng = np.random.default_rng(0)
    X = rng.random((400, 6))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0.8).astype(np.float64)
    names = [f"x{i}" for i in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=names)
    booster = xgb.train(
        {"objective": "binary:logistic", "max_depth": 3, "eta": 0.3, "seed": 0},
        xgb.DMatrix(frame, label=y),
        num_boost_round=20,
    )
    expected = booster.predict(xgb.DMatrix(frame))
    assert expected.shape == (400,), expected.shape
    assert np.all((expected > 0.0) & (expected < 1.0)), "probabilities outside (0, 1)"
    accuracy = float(((expected > 0.5) == (y == 1)).mean())
    assert accuracy > 0.9, f"training accuracy {accuracy:.3f} is implausibly low"
    done.append(f"trained 20 rounds, training accuracy {accuracy:.3f}")

    with tempfile.TemporaryDirectory() as tmp:
        for suffix in (".ubj", ".json"):
            path = Path(tmp) / f"model{suffix}"
            booster.save_model(path)
            loaded = xgb.Booster()
            loaded.load_model(path)
            assert loaded.feature_names == names, loaded.feature_names
            got = loaded.predict(xgb.DMatrix(X, feature_names=names))
            assert np.array_equal(got, expected), f"{suffix} round trip changed predictions"
            done.append(f"save_model/load_model {suffix}: identical predictions")

    sparse = scipy.sparse.csr_matrix(np.where(X > 0.5, X, 0.0))
    dense = sparse.toarray()
    from_sparse = booster.predict(xgb.DMatrix(sparse, feature_names=names))
    from_dense = booster.predict(xgb.DMatrix(dense, feature_names=names, missing=0.0))
    assert np.allclose(from_sparse, from_dense), "sparse and dense inputs disagree"
    done.append("scipy.sparse input agrees with dense")

    digests = joblib.Parallel(n_jobs=1)(joblib.delayed(joblib.hash)(a) for a in (X, y))
    assert len(set(digests)) == 2, digests
    done.append("joblib.Parallel/hash work")
    return done


def main() -> int:
    try:
        for line in check():
            print(f"ok  {line}")
    except Exception:
        traceback.print_exc()
        print("smoke test FAILED", file=sys.stderr)
        return 1
    print("smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
