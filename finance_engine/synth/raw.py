"""The raw reading stream a meter gateway would export, built from interval arrays.

Interval meters send one row per received 15-minute interval: ``timestamp_s`` is the interval
start and ``value`` the quantity of the interval. Cumulative meters send their counter as read at
each 15-minute instant: ``timestamp_s`` is the reading time and ``value`` the counter then, so the
quantity of interval ``[t, t + 900)`` is the counter at ``t + 900`` minus the counter at ``t``
(modulo the rollover). A window of days therefore has one more counter reading than intervals (the
reading at its start). Counters wrap at ``counter_rollover``; an injected counter reset restarts
the counter from zero at the start of its slot (the reading at the slot start still shows the old
value, the next one the slot's quantity). Injected duplicates repeat rows exactly, next to the
original.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from finance_engine.synth.faults import FaultTable, ragged_slots


@dataclass(frozen=True, eq=False)
class RawRows:
    """Columnar raw readings, sorted by meter then time (duplicates adjacent).

    Attributes
    ----------
    codes:
        Meter codes; ``meter`` indexes into it (it is the city's meter list).
    meter:
        ``(rows,)`` int32 index into ``codes``.
    timestamp_s:
        ``(rows,)`` epoch seconds, UTC (see the module docstring for what the time means).
    value:
        ``(rows,)`` interval quantity or counter reading, native unit of the meter.
    """

    codes: tuple[str, ...]
    meter: NDArray[np.int32]
    timestamp_s: NDArray[np.int64]
    value: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.meter.size)

    def meter_code(self) -> NDArray[np.str_]:
        """``(rows,)`` the meter code of every row (materialised on demand)."""
        out: NDArray[np.str_] = np.asarray(self.codes)[self.meter]
        return out


def counters(
    increments: NDArray[np.floating],
    start: NDArray[np.float64],
    rollover: NDArray[np.float64],
    reset_rows: NDArray[np.int64],
    reset_slots: NDArray[np.int64],
) -> NDArray[np.float64]:
    """Counter readings at the ``slots + 1`` instants of each row.

    Parameters
    ----------
    increments:
        ``(meters, slots)`` interval quantities (no NaN).
    start:
        ``(meters,)`` counter at instant 0.
    rollover:
        ``(meters,)`` value at which the counter wraps to zero.
    reset_rows, reset_slots:
        Counter resets: row and slot; the counter restarts from zero at the slot's start.
    """
    meters, slots = increments.shape
    total = np.zeros((meters, slots + 1))
    np.cumsum(increments, axis=1, dtype=np.float64, out=total[:, 1:])
    marks = np.zeros((meters, slots + 1), dtype=np.int64)
    marks[reset_rows, reset_slots + 1] = reset_slots + 1
    last = np.maximum.accumulate(marks, axis=1)  # latest reset instant so far (0 = none)
    since_reset = total - np.take_along_axis(total, np.maximum(last - 1, 0), axis=1)
    value = np.where(last == 0, start[:, None] + total, since_reset)
    out: NDArray[np.float64] = np.mod(value, rollover[:, None])
    return out


def assemble_rows(
    values: NDArray[np.floating],
    present: NDArray[np.bool_],
    meters: NDArray[np.int64],
    first_s: int,
    duplicates: FaultTable,
    shift: int,
) -> tuple[NDArray[np.int32], NDArray[np.int64], NDArray[np.float64]]:
    """Rows of one kind of meter (interval or cumulative) in a window.

    Parameters
    ----------
    values:
        ``(meters, positions)`` the value of each position (an interval or a counter instant).
    present:
        ``(meters, positions)`` True where a row is sent.
    meters:
        City meter index of each row of ``values`` (sorted).
    first_s:
        Epoch seconds of position 0.
    duplicates:
        Duplicate faults of these meters, slots relative to position 0.
    shift:
        Position of a fault's first duplicated row relative to its start slot (1 for counter
        readings, which are taken at the end of the slot).
    """
    copies = present.astype(np.int64)
    local = duplicates.select(np.isin(duplicates.meter, meters))
    run, slot = ragged_slots(local.start_slot + shift, local.length)
    row = np.searchsorted(meters, local.meter)[run]
    inside = (slot >= 0) & (slot < values.shape[1])
    copies[row[inside], slot[inside]] *= 2
    flat = np.repeat(np.arange(copies.size), copies.ravel())
    row_of, position = np.divmod(flat, values.shape[1])
    return (
        meters[row_of].astype(np.int32),
        first_s + 900 * position.astype(np.int64),
        values.ravel()[flat].astype(np.float64),
    )
