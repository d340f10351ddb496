"""Single-row feature contributions (SHAP values) through LightGBM's C API fast path.

The same idea as :mod:`scoring._fast_predict`, for ``pred_contrib``: ``Booster.predict(...,
pred_contrib=True)`` on one row costs about 100-200 µs, mostly Python-side checks; the C API's
``LGBM_BoosterPredictForMatSingleRowFast`` with predict type ``C_API_PREDICT_CONTRIB`` prepares
its configuration once and then fills ``features + 1`` log-odds contributions (the last is the
bias) in a few microseconds. The values are the ones ``Booster.predict(..., pred_contrib=True)``
returns for that row (tests check it). Without the C entry points it falls back to
``Booster.predict``.
"""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
from numpy.typing import NDArray

from scoring._fast_row import FastSingleRow

_PREDICT_CONTRIB = 3  # C_API_PREDICT_CONTRIB


def _copy(out: NDArray[np.float64]) -> NDArray[np.float64]:
    return out.copy()


class FastRowContributions(FastSingleRow):
    """Log-odds contributions of one row of ``n_features`` float64 values (one thread)."""

    def __init__(self, booster: lgb.Booster, n_features: int) -> None:
        super().__init__(
            booster,
            n_features,
            predict_type=_PREDICT_CONTRIB,
            n_outputs=n_features + 1,
            action="contributions",
        )

    def contributions(self, row: NDArray[np.float64]) -> NDArray[np.float64]:
        """``(n_features + 1,)`` log-odds contributions of ``row``; the last value is the bias.

        ``row`` is ``(n_features,)`` float64 (converted when it is not contiguous float64).
        """
        row = self._row(row)
        if self._lib is None:
            out = self._booster.predict(row.reshape(1, -1), pred_contrib=True, num_threads=1)
            first: NDArray[np.float64] = np.asarray(out, dtype=np.float64)[0]
            return first
        return self._call(row, _copy)
