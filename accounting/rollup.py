"""Dense interval arrays -> daily totals -> per-entity energy totals.

Interval data for computation is kept as dense arrays of shape ``(meters, days, 96)`` (one
15-minute slot per column, local days), with ``NaN`` for intervals not received. Everything here
is vectorised: no Python loop over meters, days or readings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

SLOTS_PER_DAY = 96
"""15-minute intervals in a day."""


@dataclass(frozen=True)
class DailyRollup:
    """Daily totals of many meters.

    Attributes
    ----------
    quantity:
        ``(meters, days)`` float64, the sum of the day's received intervals, native unit.
    intervals:
        ``(meters, days)`` int16, how many of the 96 intervals were received.
    """

    quantity: NDArray[np.float64]
    intervals: NDArray[np.int16]

    @property
    def completeness(self) -> NDArray[np.float64]:
        """``(meters,)`` share of expected intervals received over all days (0-1)."""
        days = self.intervals.shape[1]
        received = self.intervals.sum(axis=1, dtype=np.int64)
        return received / float(days * SLOTS_PER_DAY) if days else np.zeros(len(received))


def daily_rollup(values: NDArray[np.floating]) -> DailyRollup:
    """Daily totals and received-interval counts of ``values`` shaped ``(meters, days, 96)``.

    ``NaN`` marks a missing interval. The plain sum runs over the whole array once; only the
    days that contain a missing interval (NaN propagates into their sum) are summed again
    NaN-aware, so the cost stays close to one bare ``sum`` over the array.
    """
    if values.ndim != 3 or values.shape[2] != SLOTS_PER_DAY:
        raise ValueError(f"values must be shaped (meters, days, 96), got {values.shape}")
    totals = values.sum(axis=2).astype(np.float64)
    intervals = np.full(totals.shape, SLOTS_PER_DAY, dtype=np.int16)
    holes = np.isnan(totals)
    if holes.any():
        gappy = values[holes]
        present = ~np.isnan(gappy)
        totals[holes] = np.where(present, gappy, 0.0).sum(axis=1, dtype=np.float64)
        intervals[holes] = present.sum(axis=1).astype(np.int16)
    return DailyRollup(quantity=totals, intervals=intervals)


def entity_energy_totals(
    meter_totals: NDArray[np.floating],
    meter_entity: NDArray[np.integer],
    meter_type: NDArray[np.integer],
    n_entities: int,
    n_types: int,
) -> NDArray[np.float64]:
    """Sum per-meter totals into an ``(entities, energy types)`` matrix.

    Parameters
    ----------
    meter_totals:
        ``(meters,)`` period totals, each in its meter's native unit.
    meter_entity, meter_type:
        ``(meters,)`` index of each meter's entity and energy type.
    """
    out = np.zeros((n_entities, n_types), dtype=np.float64)
    np.add.at(out, (meter_entity, meter_type), meter_totals)
    return out


def entity_completeness(
    received: NDArray[np.integer],
    expected: NDArray[np.integer],
    meter_entity: NDArray[np.integer],
    n_entities: int,
) -> NDArray[np.float64]:
    """Per-entity completeness (0-1): received over expected intervals of all its meters.

    Entities without meters get NaN (their data is declared, not metered).
    """
    got = np.bincount(meter_entity, weights=received, minlength=n_entities)
    exp = np.bincount(meter_entity, weights=expected, minlength=n_entities)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(exp > 0, got / np.where(exp > 0, exp, 1), np.nan)
