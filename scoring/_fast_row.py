"""Shared set-up of LightGBM's single-row C API fast path.

``LGBM_BoosterPredictForMatSingleRowFastInit`` prepares a configuration once (one thread, one
predict type, float64 row of fixed width) and ``LGBM_BoosterPredictForMatSingleRowFast`` then
fills an output buffer for one row with no parsing. One configuration holds scratch buffers, so
calls are serialised with a lock (uncontended in a gunicorn sync worker). :class:`FastSingleRow`
owns that configuration, its buffer and its release; :mod:`scoring._fast_predict` (raw score) and
:mod:`scoring._fast_contrib` (contributions) add the output they read and their
``Booster.predict`` fallback for when the C entry points are not available.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import lightgbm as lgb
import numpy as np
from numpy.typing import NDArray

_DTYPE_FLOAT64 = 1  # C_API_DTYPE_FLOAT64

T = TypeVar("T")


def _library() -> Any:
    """LightGBM's shared library, already loaded by the ``lightgbm`` package."""
    return ctypes.CDLL(lgb.basic._LIB._name)  # type: ignore[attr-defined]


class FastSingleRow:
    """A cached single-row fast configuration of ``booster`` and its ``(n_outputs,)`` buffer.

    Parameters
    ----------
    booster
        The booster; kept alive as long as the configuration.
    n_features
        Width of a row (float64 values).
    predict_type
        LightGBM's ``C_API_PREDICT_*`` constant.
    n_outputs
        Values the C call writes for one row.
    action
        What the call does, for the error message (``"predict"``, ``"contributions"``).
    """

    def __init__(
        self,
        booster: lgb.Booster,
        n_features: int,
        *,
        predict_type: int,
        n_outputs: int,
        action: str,
    ) -> None:
        self._booster = booster  # keeps the booster handle alive as long as the config
        self._n = n_features
        self._action = action
        self._lock = threading.Lock()
        self._out = np.zeros(n_outputs, dtype=np.float64)
        self._out_len = ctypes.c_int64(0)
        self._config = ctypes.c_void_p()
        self._lib: Any = None
        try:
            lib = _library()
            status = lib.LGBM_BoosterPredictForMatSingleRowFastInit(
                booster._handle,
                ctypes.c_int(predict_type),
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

    def _row(self, row: NDArray[np.float64]) -> NDArray[np.float64]:
        """``row`` as contiguous ``(n_features,)`` float64; a wrong width is an error."""
        if row.dtype != np.float64 or not row.flags.c_contiguous or row.size != self._n:
            row = np.ascontiguousarray(row, dtype=np.float64).reshape(-1)
            if row.size != self._n:
                raise ValueError(f"row: expected {self._n} features, got {row.size}")
        return row

    def _call(self, row: NDArray[np.float64], read: Callable[[NDArray[np.float64]], T]) -> T:
        """Run the C call on a checked ``row`` and ``read`` the buffer under the lock."""
        with self._lock:
            status = self._predict(self._config, row.ctypes.data, self._out_len_ref, self._out_ptr)
            value = read(self._out)
        if status != 0:
            message = self._lib.LGBM_GetLastError
            message.restype = ctypes.c_char_p
            raise RuntimeError(f"LightGBM fast {self._action} failed: {message().decode()}")
        return value

    def __del__(self) -> None:
        lib = getattr(self, "_lib", None)
        if lib is not None and self._config:
            lib.LGBM_FastConfigFree(self._config)
            self._config = ctypes.c_void_p()
