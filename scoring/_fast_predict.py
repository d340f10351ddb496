"""Single-row raw scores through LightGBM's C API fast path.

``Booster.predict`` spends about half of a single-row call on Python-side checks and conversions
(performance.md: ≈30 µs of 61 µs). LightGBM's C API has a path made for this case:
``LGBM_BoosterPredictForMatSingleRowFastInit`` prepares a configuration once (one thread, raw
score, float64 row of fixed width) and ``LGBM_BoosterPredictForMatSingleRowFast`` then scores a
row with no parsing. :class:`FastRowPredictor` caches that configuration per booster. One
configuration holds scratch buffers, so calls are serialised with a lock (uncontended in a
gunicorn sync worker). When the C entry points are not available it falls back to
``Booster.predict(..., num_threads=1)``; tests check both give identical scores.
"""

from __future__ import annotations

import ctypes
import threading
from typing import Any

import lightgbm as lgb
import numpy as np
from numpy.typing import NDArray

_PREDICT_RAW_SCORE = 1  # C_API_PREDICT_RAW_SCORE
_DTYPE_FLOAT64 = 1  # C_API_DTYPE_FLOAT64


def _library() -> Any:
    """LightGBM's shared library, already loaded by the ``lightgbm`` package."""
    return ctypes.CDLL(lgb.basic._LIB._name)  # type: ignore[attr-defined]


class FastRowPredictor:
    """Raw score of one row of ``n_features`` float64 values, one thread, cached config."""

    def __init__(self, booster: lgb.Booster, n_features: int) -> None:
        self._booster = booster  # keeps the booster handle alive as long as the config
        self._n = n_features
        self._lock = threading.Lock()
        self._out = np.zeros(1, dtype=np.float64)
        self._out_len = ctypes.c_int64(0)
        self._config = ctypes.c_void_p()
        self._lib: Any = None
        try:
            lib = _library()
            status = lib.LGBM_BoosterPredictForMatSingleRowFastInit(
                booster._handle,
                ctypes.c_int(_PREDICT_RAW_SCORE),
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

    def raw_score(self, row: NDArray[np.float64]) -> float:
        """Raw log-odds of ``row`` (``(n_features,)``; converted to contiguous float64 if not)."""
        if row.dtype != np.float64 or not row.flags.c_contiguous or row.size != self._n:
            row = np.ascontiguousarray(row, dtype=np.float64).reshape(-1)
            if row.size != self._n:
                raise ValueError(f"row: expected {self._n} features, got {row.size}")
        if self._lib is None:
            return float(
                self._booster.predict(row.reshape(1, -1), raw_score=True, num_threads=1)[0]
            )
        with self._lock:
            status = self._predict(self._config, row.ctypes.data, self._out_len_ref, self._out_ptr)
            value = float(self._out[0])
        if status != 0:
            message = self._lib.LGBM_GetLastError
            message.restype = ctypes.c_char_p
            raise RuntimeError(f"LightGBM fast predict failed: {message().decode()}")
        return value

    def __del__(self) -> None:
        lib = getattr(self, "_lib", None)
        if lib is not None and self._config:
            lib.LGBM_FastConfigFree(self._config)
            self._config = ctypes.c_void_p()
