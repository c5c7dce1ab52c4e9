"""Verification workload, run as ``python3.12 -I -S -B verify_layer.py SITE``.

Only SITE (the layer's extracted ``python/``) and the standard library are importable.
Imports the stack and a few scipy submodules, then the scoring smoke: train a tiny model with
``xgb.train`` on a DMatrix (scikit-learn is not in the layer), ``save_model`` to .ubj, load it,
predict, check the predictions. Exits non-zero with the reason on any failure.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path


def main(site: str) -> str:
    sys.path.insert(0, site)
    import joblib
    import numpy as np
    import pandas as pd
    import scipy
    import scipy.optimize
    import scipy.sparse
    import scipy.stats
    import xgboost as xgb

    rng = np.random.default_rng(0)
    X = rng.random((300, 6))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0.8).astype(np.float64)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(6)])
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 3, "eta": 0.3, "seed": 0},
                        xgb.DMatrix(frame, label=y), num_boost_round=10)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.ubj"
        booster.save_model(path)
        loaded = xgb.Booster()
        loaded.load_model(path)
    pred = loaded.predict(xgb.DMatrix(frame))
    if pred.shape != (300,) or not np.all((pred > 0.0) & (pred < 1.0)):
        raise SystemExit(f"insane predictions: shape {pred.shape}")
    accuracy = float(((pred > 0.5) == (y == 1)).mean())
    if accuracy < 0.9:
        raise SystemExit(f"training accuracy {accuracy:.3f} is implausibly low")
    # Exercise the scipy submodules a little, not only their import.
    scipy.stats.norm.cdf(0.0)
    scipy.optimize.minimize_scalar(lambda v: (v - 1.0) ** 2)
    scipy.sparse.csr_matrix(X).sum()
    joblib.hash(X)
    return (f"xgboost {xgb.__version__}, pandas {pd.__version__}, numpy {np.__version__}, "
            f"scipy {scipy.__version__}, accuracy {accuracy:.3f}")


if __name__ == "__main__":
    print(main(sys.argv[1]))
