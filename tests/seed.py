"""The seed stack (the README's XGBoost + pandas layer), built once per test run."""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lambda_slim.cli import main
from tests.shared import shared_cache_root, warm_cache

SEED_STACK = "xgboost-cpu\npandas\nnumpy\nscipy\njoblib\n"
SEED_SMOKE = (
    "import numpy as np, pandas as pd, xgboost as xgb\n"
    "X = pd.DataFrame(np.random.default_rng(0).normal(size=(200, 4)))\n"
    "y = (X[0] + X[1] > 0).astype(int)\n"
    "d = xgb.DMatrix(X, label=y)\n"
    "m = xgb.train({'objective': 'binary:logistic', 'max_depth': 2}, d, 5)\n"
    "p = m.predict(d)\n"
    "assert ((p > 0.5) == y).mean() > 0.8, p\n"
)


@dataclass(frozen=True)
class SeedBuild:
    """The seed stack (the README's XGBoost + pandas layer), built once per test run with
    default flags and a scoring smoke: the tests that only read a build of it share this one."""

    folder: Path  # requirements.txt, smoke.py and the outputs below
    zip: Path
    report: Path  # --json
    html: Path  # --html
    manifest: Path  # the removal manifest beside the zip
    printed: str  # what the build printed

    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.report.read_text()))


def build_seed(folder: Path) -> None:
    (folder / "requirements.txt").write_text(SEED_STACK)
    (folder / "smoke.py").write_text(SEED_SMOKE)
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(out):
        mp.chdir(folder)
        # A cache of its own (results start empty: this build is real), with the warm wheels.
        mp.setenv("LAMBDA_SLIM_CACHE_DIR", str(warm_cache(folder.parent / "seed-cache", shared_cache_root())))
        code = main(["build", "-o", str(folder / "layer.zip"), "--json", str(folder / "r.json"),
                     "--html", str(folder / "report.html"), "--smoke", str(folder / "smoke.py")])
    (folder / "printed.txt").write_text(out.getvalue())
    assert code == 0, out.getvalue()
