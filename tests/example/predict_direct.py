"""Score rows with a saved model directly (no handler): ``python predict_direct.py MODEL``.

Rows come as a JSON list of vectors on stdin; scores go to stdout as a JSON list. Run by the
tests in the reference virtualenv to get the expected values.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import xgboost as xgb


def main() -> int:
    booster = xgb.Booster()
    booster.load_model(sys.argv[1])
    rows = np.asarray(json.load(sys.stdin), dtype=np.float64)
    matrix = xgb.DMatrix(rows, feature_names=booster.feature_names)
    print(json.dumps(booster.predict(matrix).astype(np.float64).tolist()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
