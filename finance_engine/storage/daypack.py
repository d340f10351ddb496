"""Readings <-> meter-day rows, the storage layout of interval data (pure numpy).

Interval readings are stored one row per (meter, UTC day) in ``reading_day`` (see
:class:`finance_engine.models.ReadingDay`): ``day`` is ``interval_start_s // 86400`` and each of
the day's 96 fifteen-minute slots (slot ``(interval_start_s % 86400) // 900``) sits at its index
in four packed little-endian binary columns:

=================  ===============  ===============================================
column             element          empty slot
=================  ===============  ===============================================
``quantity``       float64 ``<f8``  NaN (an accepted quantity is never NaN)
``counter_value``  float64 ``<f8``  NaN; the whole column is NULL when no slot has one
``flags``          int16 ``<i2``    0
``batch_id``       int32 ``<i4``    0 (:data:`NO_BATCH`)
=================  ===============  ===============================================

A reading is stored exactly where ``quantity`` is not NaN; ``readings`` counts them. This module
converts between :class:`~finance_engine.storage.rows.ReadingRows` and :class:`DayRows`, merges
new readings into stored day rows, selects readings by time range, and encodes the columns;
every step is numpy over whole arrays (no Python loop over readings or day rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, cast

import numpy as np
from numpy.typing import NDArray

from finance_engine.storage.rows import MeterRanges, ReadingRows

DAY_S: Final = 86_400
SLOT_S: Final = 900
SLOTS_PER_DAY: Final = DAY_S // SLOT_S
NO_BATCH: Final = 0
"""``batch_id`` of a reading stored without an ingest batch."""

BLOB_DTYPES: Final[dict[str, np.dtype[Any]]] = {
    "quantity": np.dtype("<f8"),
    "counter_value": np.dtype("<f8"),
    "flags": np.dtype("<i2"),
    "batch_id": np.dtype("<i4"),
}
"""Element type of each packed column (little-endian whatever the platform)."""

BLOB_COLUMNS: Final = tuple(BLOB_DTYPES)
_KEY_SHIFT = 1 << 32  # key = meter_id * 2**32 + day (or + slot number): sorts as (meter, day)


def day_keys(meter_id: NDArray[np.int64], day: NDArray[np.int64]) -> NDArray[np.int64]:
    """One int64 per (meter, day), ordered like the pair."""
    return np.asarray(meter_id, dtype=np.int64) * _KEY_SHIFT + np.asarray(day, dtype=np.int64)


def split_keys(keys: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """``(meter_id, day)`` of :func:`day_keys`."""
    meter = (keys + (1 << 31)) // _KEY_SHIFT
    return meter, keys - meter * _KEY_SHIFT


def _slot_keys(rows: ReadingRows) -> NDArray[np.int64]:
    return rows.meter_id * _KEY_SHIFT + rows.interval_start_s // SLOT_S


@dataclass(frozen=True, eq=False)
class DayRows:
    """Meter-day rows as arrays: ``meter_id`` and ``day`` (UTC day number) int64 ``(d,)``;
    ``quantity`` and ``counter_value`` float64 ``(d, 96)`` (NaN: none), ``flags`` int16 and
    ``batch_id`` int32 ``(d, 96)``, slot ``s`` covering ``[day*86400 + 900*s, +900)``."""

    meter_id: NDArray[np.int64]
    day: NDArray[np.int64]
    quantity: NDArray[np.float64]
    counter_value: NDArray[np.float64]
    flags: NDArray[np.int16]
    batch_id: NDArray[np.int32]

    def __len__(self) -> int:
        return len(self.meter_id)

    def keys(self) -> NDArray[np.int64]:
        """:func:`day_keys` of the rows."""
        return day_keys(self.meter_id, self.day)

    def take(self, index: NDArray[Any]) -> DayRows:
        """The rows at ``index`` (an index or boolean mask), as copies."""
        return DayRows(
            self.meter_id[index],
            self.day[index],
            self.quantity[index],
            self.counter_value[index],
            self.flags[index],
            self.batch_id[index],
        )

    def stored(self) -> NDArray[np.bool_]:
        """``(d, 96)``: True where a reading is stored."""
        return ~np.isnan(self.quantity)

    def readings(self) -> NDArray[np.int16]:
        """Readings stored in each row (the ``readings`` column)."""
        counts: NDArray[np.int16] = self.stored().sum(axis=1, dtype=np.int16)
        return counts

    def has_counter(self) -> NDArray[np.bool_]:
        """Rows with at least one counter value (the others store ``counter_value`` NULL)."""
        return cast(NDArray[np.bool_], np.any(~np.isnan(self.counter_value), axis=1))

    def sorted_unique(self) -> DayRows:
        """The rows in (meter, day) order, each key once."""
        keys = self.keys()
        if bool(np.all(keys[1:] > keys[:-1])):
            return self
        _, first = np.unique(keys, return_index=True)
        return self.take(first)

    @classmethod
    def concat(cls, parts: Sequence[DayRows]) -> DayRows:
        """The rows of ``parts``, one after the other."""
        return cls(
            *(
                np.concatenate([getattr(p, name) for p in parts])
                for name in ("meter_id", "day", *BLOB_COLUMNS)
            )
        )

    @classmethod
    def empty(cls, meter_id: NDArray[np.int64], day: NDArray[np.int64]) -> DayRows:
        """Rows with these keys and no readings."""
        shape = (len(meter_id), SLOTS_PER_DAY)
        return cls(
            np.asarray(meter_id, dtype=np.int64),
            np.asarray(day, dtype=np.int64),
            np.full(shape, np.nan),
            np.full(shape, np.nan),
            np.zeros(shape, dtype=np.int16),
            np.full(shape, NO_BATCH, dtype=np.int32),
        )

    @classmethod
    def from_blobs(
        cls,
        meter_id: Sequence[int] | NDArray[Any],
        day: Sequence[int] | NDArray[Any],
        blobs: Sequence[Sequence[bytes | None]],
    ) -> DayRows:
        """Rows from their keys and one sequence of blobs per column of :data:`BLOB_COLUMNS`
        (``None`` or empty for a NULL ``counter_value``)."""
        n = len(meter_id)
        arrays = [decode(b, column, n) for b, column in zip(blobs, BLOB_COLUMNS, strict=True)]
        return cls(
            np.asarray(meter_id, dtype=np.int64),
            np.asarray(day, dtype=np.int64),
            *arrays,
        )

    @classmethod
    def from_result(cls, rows: Sequence[Sequence[Any]]) -> DayRows:
        """Rows from result rows ``(meter_id, day, quantity, counter_value, flags, batch_id)``
        (a transpose and one ``frombuffer`` per column; no Python loop over rows)."""
        if not rows:
            return cls.empty(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        meter_id, day, *blobs = zip(*rows, strict=True)
        return cls.from_blobs(meter_id, day, blobs)


def decode(blobs: Sequence[bytes | None], column: str, rows: int) -> NDArray[Any]:
    """``(rows, 96)`` native-endian values of one packed column; ``None`` or empty blobs
    (a NULL ``counter_value``) become NaN rows. One join and one ``frombuffer``."""
    present = np.fromiter(map(bool, blobs), dtype=np.bool_, count=rows)
    return decode_joined(b"".join(filter(None, blobs)), column, present)


def decode_joined(joined: bytes, column: str, present: NDArray[np.bool_]) -> NDArray[Any]:
    """``(len(present), 96)`` values of one packed column from the concatenated blobs of the
    rows where ``present`` is True (the others are NaN rows)."""
    dtype = BLOB_DTYPES[column]
    values = np.frombuffer(joined, dtype=dtype).reshape(-1, SLOTS_PER_DAY)
    values = values.astype(dtype.newbyteorder("="))
    if len(values) != int(present.sum()):
        raise ValueError(f"{column}: {len(values)} packed rows for {int(present.sum())} rows")
    if bool(present.all()):
        return values
    out = np.full((len(present), SLOTS_PER_DAY), np.nan, dtype=values.dtype)
    out[present] = values
    return out


def encode(values: NDArray[Any], column: str) -> list[bytes]:
    """One blob per row of ``values`` ``(d, 96)`` in the packed format of ``column``."""
    dtype = BLOB_DTYPES[column]
    packed = np.ascontiguousarray(values, dtype=dtype)
    rows = packed.view(np.dtype((np.void, SLOTS_PER_DAY * dtype.itemsize))).ravel()
    return cast(list[bytes], rows.tolist())


def pack(rows: ReadingRows, batch_id: int) -> DayRows:
    """Day rows holding ``rows`` (distinct intervals on the 15-minute grid), keys in order."""
    t = rows.interval_start_s
    if bool(np.any(t % SLOT_S)):
        raise ValueError("interval_start_s: not on the 15-minute grid")
    if bool(np.isnan(rows.quantity).any()):
        raise ValueError("quantity: NaN cannot be stored")
    keys = day_keys(rows.meter_id, t // DAY_S)
    if len(keys) and bool(np.all(keys[1:] >= keys[:-1])):  # the usual case: rows in key order
        first = np.r_[True, keys[1:] != keys[:-1]]
        groups, inverse = keys[first], np.cumsum(first) - 1
    else:
        groups, inverse = np.unique(keys, return_inverse=True)
    slot = (t % DAY_S) // SLOT_S
    flat = inverse * SLOTS_PER_DAY + slot
    if len(flat) and np.bincount(flat).max() > 1:
        raise ValueError("interval_start_s: an interval of a meter appears twice")
    days = DayRows.empty(*split_keys(groups))
    days.quantity[inverse, slot] = rows.quantity
    days.counter_value[inverse, slot] = rows.counter_value
    days.flags[inverse, slot] = rows.flags
    days.batch_id[inverse, slot] = batch_id
    return days


def unpack(days: DayRows) -> ReadingRows:
    """The readings stored in ``days``, in row then slot order (time order for sorted rows)."""
    r, s = np.nonzero(days.stored())
    return ReadingRows(
        days.meter_id[r],
        days.day[r] * DAY_S + s * SLOT_S,
        days.quantity[r, s],
        days.counter_value[r, s],
        days.flags[r, s],
    )


def unpack_batch_ids(days: DayRows) -> NDArray[np.int32]:
    """``batch_id`` of each reading of :func:`unpack` (same order)."""
    return days.batch_id[days.stored()]


def locate(keys: NDArray[np.int64], among: NDArray[np.int64]) -> NDArray[np.intp]:
    """Position of each of ``keys`` in ``among`` (distinct, any order), -1 where absent."""
    if not len(among):
        return np.full(len(keys), -1, dtype=np.intp)
    order = np.argsort(among, kind="stable")
    at = np.minimum(np.searchsorted(among[order], keys), len(among) - 1)
    found = among[order][at] == keys
    return np.where(found, order[at], -1)


def add_readings(stored: DayRows, new: DayRows) -> DayRows:
    """Copies of the ``stored`` rows with the keys of ``new`` (all must be there), holding the
    readings of ``new`` too; a reading of ``new`` on an occupied slot is an error."""
    at = locate(new.keys(), stored.keys())
    if bool((at < 0).any()):
        raise ValueError("add_readings: a day row to add to is not stored")
    out = stored.take(at)
    slots = new.stored()
    if bool((slots & out.stored()).any()):
        raise ValueError("add_readings: an interval to add is already stored")
    for name in BLOB_COLUMNS:
        np.copyto(getattr(out, name), getattr(new, name), where=slots)
    return out


def revise_readings(stored: DayRows, rows: ReadingRows) -> DayRows:
    """Copies of the ``stored`` rows holding ``rows`` with their ``quantity`` and ``flags``
    replaced; every one of ``rows`` must be stored."""
    day, slot = rows.interval_start_s // DAY_S, (rows.interval_start_s % DAY_S) // SLOT_S
    keys = day_keys(rows.meter_id, day)
    touched = np.unique(keys)
    at = locate(touched, stored.keys())
    if bool((at < 0).any()):
        raise ValueError("revise_readings: a day row to revise is not stored")
    out = stored.take(at)
    row = np.searchsorted(touched, keys)
    if bool(np.isnan(out.quantity[row, slot]).any()):
        raise ValueError("revise_readings: a reading to revise is not stored")
    out.quantity[row, slot] = rows.quantity
    out.flags[row, slot] = rows.flags
    return out


def day_spans(
    ranges: MeterRanges, *, closed: bool
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Per range, ``(meter_id, first_day, last_day)`` of the UTC days it overlaps; the ranges are
    ``[start_s, end_s)``, or ``[start_s, end_s]`` with ``closed`` (empty ranges are dropped)."""
    last_s = ranges.end_s if closed else ranges.end_s - 1
    keep = last_s >= ranges.start_s
    return ranges.meter_id[keep], ranges.start_s[keep] // DAY_S, last_s[keep] // DAY_S


def span_keys(
    meter_id: NDArray[np.int64], first_day: NDArray[np.int64], last_day: NDArray[np.int64]
) -> NDArray[np.int64]:
    """The :func:`day_keys` of every day of the spans ``first_day..last_day`` (sorted, once)."""
    counts = np.maximum(last_day - first_day + 1, 0)
    start = np.repeat(day_keys(meter_id, first_day) - np.r_[0, np.cumsum(counts)[:-1]], counts)
    return np.unique(start + np.arange(int(counts.sum()), dtype=np.int64))


def key_spans(
    keys: NDArray[np.int64], max_gap_days: int = 7
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Sorted distinct day ``keys`` as few ``(meter_id, first_day, last_day)`` spans: days of a
    meter at most ``max_gap_days`` apart share one span."""
    meter, day = split_keys(np.unique(keys))
    start = np.flatnonzero(
        np.r_[True, (meter[1:] != meter[:-1]) | (day[1:] - day[:-1] > max_gap_days)]
    )
    end = np.r_[start[1:], len(meter)] - 1
    return meter[start], day[start], day[end]


def _bounds(
    readings: ReadingRows, ranges: MeterRanges, *, closed: bool
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Per range, ``[a, b)`` positions of its readings among ``readings`` (sorted by meter and
    time); on-grid times ``t >= lo`` are exactly the slots ``>= ceil(lo / 900)``."""
    keys = _slot_keys(readings)
    first = -(-ranges.start_s // SLOT_S)
    last = ranges.end_s // SLOT_S if closed else -(-ranges.end_s // SLOT_S) - 1
    base = ranges.meter_id * _KEY_SHIFT
    a = np.searchsorted(keys, base + first, side="left")
    b = np.searchsorted(keys, base + last, side="right")
    return a, np.maximum(a, b)


def within(readings: ReadingRows, ranges: MeterRanges, *, closed: bool) -> NDArray[np.bool_]:
    """Which of ``readings`` (sorted by meter and time) fall in any of ``ranges``
    (``[start_s, end_s)``, or ``[start_s, end_s]`` with ``closed``)."""
    a, b = _bounds(readings, ranges, closed=closed)
    cover = np.zeros(len(readings) + 1, dtype=np.int64)
    np.add.at(cover, a, 1)
    np.add.at(cover, b, -1)
    return np.cumsum(cover[:-1]) > 0


def with_neighbours(readings: ReadingRows, ranges: MeterRanges) -> NDArray[np.intp]:
    """Positions in ``readings`` (sorted by meter and time), per range: the last reading of its
    meter before ``start_s``, those in ``[start_s, end_s]``, and the first after ``end_s``."""
    a, b = _bounds(readings, ranges, closed=True)
    meter = np.append(readings.meter_id, -1)
    before = (a > 0) & (meter[np.maximum(a - 1, 0)] == ranges.meter_id)
    after = meter[b] == ranges.meter_id
    lo, hi = a - before, b + after
    counts = hi - lo
    starts = np.repeat(lo - np.r_[0, np.cumsum(counts)[:-1]], counts)
    index: NDArray[np.intp] = np.arange(int(counts.sum()), dtype=np.intp) + starts
    return index
