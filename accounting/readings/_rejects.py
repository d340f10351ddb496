"""Collecting rejections with worded reasons (only rejected rows are worded)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from accounting.readings._model import Rejection


class Rejects:
    """Collects rejections; reasons are worded only for the rejected rows."""

    def __init__(self, rows: NDArray[np.int64]) -> None:
        self.rows = rows
        self.mask = np.zeros(len(rows), dtype=bool)
        self.items: list[Rejection] = []

    def add(self, where: NDArray[np.bool_], fld: str, reason: Callable[[int], str]) -> None:
        """Reject the rows in ``where`` not rejected yet; ``reason(i)`` words row ``i``'s."""
        index = np.flatnonzero(where & ~self.mask)
        self.items.extend(Rejection(int(self.rows[i]), fld, reason(int(i))) for i in index)
        self.mask[index] = True

    def add_at(self, index: NDArray[np.intp], fld: str, reasons: list[str]) -> None:
        """Reject rows ``index`` (not rejected yet) with one worded reason each."""
        self.items.extend(
            Rejection(int(self.rows[i]), fld, r)
            for i, r in zip(index.tolist(), reasons, strict=True)
        )
        self.mask[index] = True


def num(value: float) -> str:
    return repr(float(value))
