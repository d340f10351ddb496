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

import ctypes
import threading
from typing import Any

import lightgbm as lgb
import numpy as np
from numpy.typing import NDArray

_PREDICT_CONTRIB = 3  # C_API_PREDICT_CONTRIB
_DTYPE_FLOAT64 = 1  # C_API_DTYPE_FLOAT64


class FastRowContributions:
    """Log-odds contributions of one row of ``n_features`` float64 values (one thread)."""

    def __init__(self, booster: lgb.Booster, n_features: int) -> None:
        self._booster = booster  # keeps the booster handle alive as long as the config
        self._n = n_features
        self._lock = threading.Lock()
        self._out = np.zeros(n_features + 1, dtype=np.float64)
        self._out_len = ctypes.c_int64(0)
        self._config = ctypes.c_void_p()
        self._lib: Any = None
        try:
            lib = ctypes.CDLL(lgb.basic._LIB._name)  # type: ignore[attr-defined]
            status = lib.LGBM_BoosterPredictForMatSingleRowFastInit(
                booster._handle,
                ctypes.c_int(_PREDICT_CONTRIB),
                ctypes.c_int(0),
                ctypes.c_int(-1),
                ctypes.c_int(_DTYPE_FLOAT64),
                ctypes.c_int32(n_features),
                ctypes.c_char_p(b"num_threads=1"),
                ctypes.byref(self._config),
            )
        except (AttributeError, OSError):
            return
        if status == 0:
            predict = lib.LGBM_BoosterPredictForMatSingleRowFast
            predict.argtypes = [
                ctypes.c_void_p,
                ctypes.c_void_p,
                ctypes.POINTER(ctypes.c_int64),
                ctypes.c_void_p,
            ]
            predict.restype = ctypes.c_int
            self._lib = lib
            self._predict = predict
            self._out_ptr = self._out.ctypes.data
            self._out_len_ref = ctypes.byref(self._out_len)

    @property
    def uses_c_api(self) -> bool:
        """Whether the C fast path is in use (else ``Booster.predict``)."""
        return self._lib is not None

    def contributions(self, row: NDArray[np.float64]) -> NDArray[np.float64]:
        """``(n_features + 1,)`` log-odds contributions of ``row``; the last value is the bias.

        ``row`` is ``(n_features,)`` float64 (converted when it is not contiguous float64).
        """
        if row.dtype != np.float64 or not row.flags.c_contiguous or row.size != self._n:
            row = np.ascontiguousarray(row, dtype=np.float64).reshape(-1)
            if row.size != self._n:
                raise ValueError(f"row: expected {self._n} features, got {row.size}")
        if self._lib is None:
            out = self._booster.predict(row.reshape(1, -1), pred_contrib=True, num_threads=1)
            first: NDArray[np.float64] = np.asarray(out, dtype=np.float64)[0]
            return first
        with self._lock:
            status = self._predict(self._config, row.ctypes.data, self._out_len_ref, self._out_ptr)
            values = self._out.copy()
        if status != 0:
            message = self._lib.LGBM_GetLastError
            message.restype = ctypes.c_char_p
            raise RuntimeError(f"LightGBM fast contributions failed: {message().decode()}")
        return values

    def __del__(self) -> None:
        lib = getattr(self, "_lib", None)
        if lib is not None and self._config:
            lib.LGBM_FastConfigFree(self._config)
            self._config = ctypes.c_void_p()
