"""Single-row raw scores through LightGBM's C API fast path.

``Booster.predict`` spends about half of a single-row call on Python-side checks and conversions
(performance.md: ≈30 µs of 61 µs). LightGBM's C API has a path made for this case:
``LGBM_BoosterPredictForMatSingleRowFastInit`` prepares a configuration once (one thread, raw
score, float64 row of fixed width) and ``LGBM_BoosterPredictForMatSingleRowFast`` then scores a
row with no parsing. :class:`FastRowPredictor` caches that configuration per booster (set-up,
lock and release in :mod:`scoring._fast_row`). When the C entry points are not available it
falls back to ``Booster.predict(..., num_threads=1)``; tests check both give identical scores.
"""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
from numpy.typing import NDArray

from scoring._fast_row import FastSingleRow

_PREDICT_RAW_SCORE = 1  # C_API_PREDICT_RAW_SCORE


def _first(out: NDArray[np.float64]) -> float:
    return float(out[0])


class FastRowPredictor(FastSingleRow):
    """Raw score of one row of ``n_features`` float64 values, one thread, cached config."""

    def __init__(self, booster: lgb.Booster, n_features: int) -> None:
        super().__init__(
            booster, n_features, predict_type=_PREDICT_RAW_SCORE, n_outputs=1, action="predict"
        )

    def raw_score(self, row: NDArray[np.float64]) -> float:
        """Raw log-odds of ``row`` (``(n_features,)``; converted to contiguous float64 if not)."""
        row = self._row(row)
        if self._lib is None:
            return float(
                self._booster.predict(row.reshape(1, -1), raw_score=True, num_threads=1)[0]
            )
        return self._call(row, _first)
