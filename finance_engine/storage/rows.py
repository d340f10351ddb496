"""Column-oriented values exchanged with the reading stores: readings, meter ranges, meters.

:mod:`finance_engine.storage.readings` re-exports these; they live here so the pure day-row
conversions (:mod:`finance_engine.storage.daypack`) and the stores can share them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from accounting.readings import MeterSpec


@dataclass(frozen=True)
class StoredMeter:
    """A meter row: its id, entity and what validation needs."""

    id: int
    entity_id: str
    spec: MeterSpec


@dataclass(frozen=True, eq=False)
class ReadingRows:
    """Reading rows as columns: ``meter_id`` (int64), ``interval_start_s`` (int64, epoch
    seconds UTC), ``quantity`` (float64, meter unit), ``counter_value`` (float64, NaN for
    none), ``flags`` (int16)."""

    meter_id: NDArray[np.int64]
    interval_start_s: NDArray[np.int64]
    quantity: NDArray[np.float64]
    counter_value: NDArray[np.float64]
    flags: NDArray[np.int16]

    def __len__(self) -> int:
        return len(self.meter_id)

    def take(self, index: NDArray[Any]) -> ReadingRows:
        """The rows at ``index`` (an index or boolean mask)."""
        return ReadingRows(
            self.meter_id[index],
            self.interval_start_s[index],
            self.quantity[index],
            self.counter_value[index],
            self.flags[index],
        )

    def records(self) -> list[tuple[int, int, float, float | None, int]]:
        """``(meter_id, interval_start_s, quantity, counter_value or None, flags)`` per row, as
        Python values (for small results: tests, tools, messages)."""
        counter = self.counter_value.astype(object)
        counter[np.isnan(self.counter_value)] = None
        return list(
            zip(
                self.meter_id.tolist(),
                self.interval_start_s.tolist(),
                self.quantity.tolist(),
                counter.tolist(),
                self.flags.tolist(),
                strict=True,
            )
        )

    @classmethod
    def from_columns(cls, columns: Sequence[Sequence[Any] | NDArray[Any]]) -> ReadingRows:
        """From five columns in field order (``None`` counters become NaN)."""
        m, t, q, c, f = columns
        return cls(
            np.asarray(m, dtype=np.int64),
            np.asarray(t, dtype=np.int64),
            np.asarray(q, dtype=np.float64),
            np.asarray(c, dtype=np.float64),
            np.asarray(f, dtype=np.int16),
        )


@dataclass(frozen=True, eq=False)
class MeterRanges:
    """Time ranges of meters: ``[start_s, end_s)`` of ``meter_id``, all int64 ``(r,)``."""

    meter_id: NDArray[np.int64]
    start_s: NDArray[np.int64]
    end_s: NDArray[np.int64]
