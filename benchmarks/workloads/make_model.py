"""Make the model the cold start loads: ``python3.12 -I -S -B make_model.py SITE OUT.ubj``."""

from __future__ import annotations

import sys


def main(site: str, out: str) -> None:
    sys.path.insert(0, site)
    import numpy as np
    import pandas as pd
    import xgboost as xgb

    rng = np.random.default_rng(1)
    X = rng.random((1000, 6))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0.8).astype(np.float64)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(6)])
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 4, "eta": 0.3, "seed": 0},
                        xgb.DMatrix(frame, label=y), num_boost_round=50)
    booster.save_model(out)
    print(f"saved {out} with xgboost {xgb.__version__}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
