"""Cold-start workload, run as ``python3.12 -I -S -B coldstart.py SITE MODEL``.

What a scoring function does on its first invocation: import pandas and xgboost, load the
model saved with ``save_model``, predict one small batch.
"""

from __future__ import annotations

import sys


def main(site: str, model: str) -> None:
    sys.path.insert(0, site)
    import numpy as np
    import pandas as pd
    import xgboost as xgb

    booster = xgb.Booster()
    booster.load_model(model)
    frame = pd.DataFrame(np.linspace(0.0, 1.0, 60).reshape(10, 6),
                         columns=[f"x{i}" for i in range(6)])
    pred = booster.predict(xgb.DMatrix(frame))
    if pred.shape != (10,) or not np.all((pred > 0.0) & (pred < 1.0)):
        raise SystemExit(f"insane predictions: {pred!r}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
