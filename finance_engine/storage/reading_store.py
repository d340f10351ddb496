"""The reading store of one bulk transaction, on meter-day rows.

:class:`ReadingStore` speaks readings (:class:`~finance_engine.storage.rows.ReadingRows`) to
its callers and meter-day rows (:class:`~finance_engine.storage.daypack.DayRows`) to the
database. Each backend implements four primitives (lock meters, read day rows, insert day rows,
update day rows) plus the rollup upsert; the conversions between the two shapes live here and
in :mod:`~finance_engine.storage.daypack`. Writes read the day rows they touch, merge in numpy
and write whole rows back: exact because the transaction holds a lock on every meter it writes
(see :mod:`finance_engine.storage.readings`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from accounting.readings import MeterSpec
from finance_engine.storage.daypack import (
    DAY_S,
    DayRows,
    add_readings,
    day_keys,
    day_spans,
    key_spans,
    locate,
    pack,
    revise_readings,
    span_keys,
    unpack,
    with_neighbours,
    within,
)
from finance_engine.storage.rows import MeterRanges, ReadingRows, StoredMeter

METER_COLUMNS = (
    "id, code, entity_id, energy_type, unit, reading_kind, rated_max_per_interval, counter_rollover"
)
"""Columns of ``meter`` that :func:`meter_from_row` reads, in its order."""


def meter_from_row(row: Sequence[Any]) -> StoredMeter:
    """A :class:`StoredMeter` from a row of :data:`METER_COLUMNS`."""
    _id, code, entity_id, energy_type, unit, kind, rated, rollover = row
    return StoredMeter(
        int(_id), str(entity_id), MeterSpec(code, energy_type, unit, kind, rated, rollover)
    )


class _KnownDays:
    """What one transaction knows of the stored day rows of its locked meters: the keys whose
    stored state it has read or written (``covered``, sorted) and the rows among them. As
    ingest is the only writer of ``reading_day`` and holds the meter locks, the knowledge stays
    exact until the transaction ends; it saves writes from reading again what ``fetch`` read."""

    def __init__(self) -> None:
        self.covered = np.zeros(0, dtype=np.int64)
        self.rows = DayRows.empty(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))

    def learn(self, covered: NDArray[np.int64], rows: DayRows) -> None:
        """All stored rows with keys in ``covered`` are ``rows`` (the newest state)."""
        self.covered = np.union1d(self.covered, covered)
        kept = self.rows.take(locate(self.rows.keys(), rows.keys()) < 0)
        self.rows = DayRows.concat([kept, rows]).sorted_unique()

    def unknown(self, keys: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Which of ``keys`` are not covered."""
        return ~np.isin(keys, self.covered)

    def stored(self, keys: NDArray[np.int64]) -> DayRows:
        """The known stored rows with these keys (each once)."""
        return self.rows.take(np.isin(self.rows.keys(), keys))


class ReadingStore(ABC):
    """Reads and writes of one bulk transaction (see :mod:`finance_engine.storage.readings`).

    Subclasses call ``super().__init__()``."""

    def __init__(self) -> None:
        self._known = _KnownDays()

    @abstractmethod
    def lock_meters(self, codes: Sequence[str]) -> list[StoredMeter]:
        """Load and lock the meters with these codes (unknown codes are skipped), by id."""

    @abstractmethod
    def read_days(
        self,
        meter_id: NDArray[np.int64],
        first_day: NDArray[np.int64],
        last_day: NDArray[np.int64],
        *,
        neighbours: bool = False,
    ) -> DayRows:
        """Stored day rows of each ``meter_id[i]`` with ``first_day[i] <= day <= last_day[i]``
        (any order, a row possibly more than once); with ``neighbours`` also, per span, the
        meter's last row before ``first_day`` and first row after ``last_day``."""

    @abstractmethod
    def insert_days(self, days: DayRows) -> None:
        """Insert day rows whose keys are not stored."""

    @abstractmethod
    def update_days(self, days: DayRows) -> None:
        """Overwrite stored day rows (all columns) with ``days``."""

    @abstractmethod
    def upsert_rollups(
        self,
        meter_id: NDArray[np.int64],
        day: NDArray[np.int64],
        quantity: NDArray[np.float64],
        intervals: NDArray[np.int64],
    ) -> None:
        """Write daily rollups; ``day`` is the local day as days since 1970-01-01."""

    def fetch(self, ranges: MeterRanges) -> ReadingRows:
        """Stored readings of each meter within its range ``[start_s, end_s)``, in meter and
        time order, each once."""
        spans = day_spans(ranges, closed=False)
        days = self.read_days(*spans).sorted_unique()
        self._known.learn(span_keys(*spans), days)
        readings = unpack(days)
        return readings.take(within(readings, ranges, closed=False))

    def counter_history(self, ranges: MeterRanges) -> ReadingRows:
        """Stored readings in each range ``[start_s, end_s]`` plus the meter's last one before
        and first one after it, range by range."""
        days = self.read_days(*day_spans(ranges, closed=True), neighbours=True)
        readings = unpack(days.sorted_unique())
        return readings.take(with_neighbours(readings, ranges))

    def insert(self, rows: ReadingRows, batch_id: int) -> None:
        """Insert new readings (their intervals are known not to be stored): new day rows for
        days without any, the others merged into their stored day row."""
        if not len(rows):
            return
        new = pack(rows, batch_id)
        stored = self._stored_days(new.keys())
        known = locate(new.keys(), stored.keys()) >= 0
        if not known.all():
            self._write(new.take(~known), self.insert_days)
        if known.any():
            self._write(add_readings(stored, new.take(known)), self.update_days)

    def revise(self, rows: ReadingRows) -> None:
        """Set ``quantity`` and ``flags`` of stored readings."""
        if not len(rows):
            return
        keys = day_keys(rows.meter_id, rows.interval_start_s // DAY_S)
        self._write(revise_readings(self._stored_days(np.unique(keys)), rows), self.update_days)

    def _stored_days(self, keys: NDArray[np.int64]) -> DayRows:
        """The stored day rows with these keys, read unless this transaction knows them."""
        unknown = self._known.unknown(keys)
        if unknown.any():
            spans = key_spans(keys[unknown])
            self._known.learn(span_keys(*spans), self.read_days(*spans).sorted_unique())
        return self._known.stored(keys)

    def _write(self, days: DayRows, write: Callable[[DayRows], None]) -> None:
        write(days)
        self._known.learn(days.keys(), days)
