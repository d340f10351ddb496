"""Bulk reading storage on the driver's fast native route, one implementation per backend.

A :func:`bulk_transaction` holds, until it commits, a lock on every meter it loads: on
PostgreSQL ``SELECT ... FOR NO KEY UPDATE`` on the meter rows (taken in id order, so concurrent
ingests cannot deadlock; it does not block foreign-key checks or readers); on SQLite the
database write lock (``BEGIN IMMEDIATE``). Within it, what is stored for those meters cannot
change, so duplicates and conflicts are classified exactly against the stored rows, counter
histories are consistent and daily rollups recomputed from stored plus new rows are exact, even
with several processes ingesting overlapping batches for the same meters.

Rows go in through PostgreSQL binary ``COPY`` (a buffer built with numpy, see
:mod:`finance_engine.storage.pgcopy`) or SQLite ``executemany`` in the one transaction; stored
rows come back as packed binary columns (PostgreSQL) or through ``numpy.fromiter`` over one
query per meter range (SQLite).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Engine

from accounting.readings import MeterSpec
from finance_engine.storage import pgcopy
from finance_engine.storage.timezones import days_to_iso

_METER_COLUMNS = (
    "id, code, entity_id, energy_type, unit, reading_kind, rated_max_per_interval, counter_rollover"
)


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


class ReadingStore(ABC):
    """Reads and writes of one bulk transaction (see the module docstring)."""

    @abstractmethod
    def lock_meters(self, codes: Sequence[str]) -> list[StoredMeter]:
        """Load and lock the meters with these codes (unknown codes are skipped), by id."""

    @abstractmethod
    def fetch(self, ranges: MeterRanges) -> ReadingRows:
        """Stored readings of each meter within its range."""

    @abstractmethod
    def counter_history(self, ranges: MeterRanges) -> ReadingRows:
        """Stored readings in each range plus the last one before and the first one after."""

    @abstractmethod
    def insert(self, rows: ReadingRows, batch_id: int) -> None:
        """Insert new readings (their keys are known not to be stored)."""

    @abstractmethod
    def revise(self, rows: ReadingRows) -> None:
        """Set ``quantity`` and ``flags`` of stored readings."""

    @abstractmethod
    def upsert_rollups(
        self,
        meter_id: NDArray[np.int64],
        day: NDArray[np.int64],
        quantity: NDArray[np.float64],
        intervals: NDArray[np.int64],
    ) -> None:
        """Write daily rollups; ``day`` is the local day as days since 1970-01-01."""


def _spec(row: Sequence[Any]) -> StoredMeter:
    _id, code, entity_id, energy_type, unit, kind, rated, rollover = row
    return StoredMeter(
        int(_id), str(entity_id), MeterSpec(code, energy_type, unit, kind, rated, rollover)
    )


_SQLITE_COLUMNS = "meter_id, interval_start_s, quantity, coalesce(counter_value, -1.0), flags"
"""Counters are never negative (validation rejects them), so -1 stands for NULL in transit."""
_SQLITE_ROW = np.dtype(
    [("m", np.int64), ("t", np.int64), ("q", np.float64), ("c", np.float64), ("f", np.int16)]
)


def _split_counter(rows: ReadingRows) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    with_counter = ~np.isnan(rows.counter_value)
    return ~with_counter, with_counter


class _SqliteStore(ReadingStore):
    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def lock_meters(self, codes: Sequence[str]) -> list[StoredMeter]:
        cur = self.conn.execute(
            f"SELECT {_METER_COLUMNS} FROM meter "
            "WHERE code IN (SELECT value FROM json_each(?)) ORDER BY id",
            (json.dumps(list(codes)),),
        )
        return [_spec(r) for r in cur.fetchall()]

    def _query(self, sql: str, params: Iterator[tuple[Any, ...]]) -> ReadingRows:
        parts = [np.fromiter(self.conn.execute(sql, p), dtype=_SQLITE_ROW) for p in params]
        rows = np.concatenate(parts) if parts else np.zeros(0, dtype=_SQLITE_ROW)
        counter = np.where(rows["c"] < 0, np.nan, rows["c"])  # -1: no counter (NULL)
        return ReadingRows(rows["m"], rows["t"], rows["q"], counter, rows["f"])

    def fetch(self, ranges: MeterRanges) -> ReadingRows:
        return self._query(
            f"SELECT {_SQLITE_COLUMNS} FROM reading "
            "WHERE meter_id = ? AND interval_start_s >= ? AND interval_start_s < ?",
            zip(
                ranges.meter_id.tolist(),
                ranges.start_s.tolist(),
                ranges.end_s.tolist(),
                strict=True,
            ),
        )

    def counter_history(self, ranges: MeterRanges) -> ReadingRows:
        cols = _SQLITE_COLUMNS
        sql = (
            f"SELECT * FROM (SELECT {cols} FROM reading WHERE meter_id = ?1 "
            "AND interval_start_s < ?2 ORDER BY interval_start_s DESC LIMIT 1) "
            f"UNION ALL SELECT {cols} FROM reading WHERE meter_id = ?1 "
            "AND interval_start_s >= ?2 AND interval_start_s <= ?3 "
            f"UNION ALL SELECT * FROM (SELECT {cols} FROM reading WHERE meter_id = ?1 "
            "AND interval_start_s > ?3 ORDER BY interval_start_s LIMIT 1)"
        )
        return self._query(
            sql,
            zip(
                ranges.meter_id.tolist(),
                ranges.start_s.tolist(),
                ranges.end_s.tolist(),
                strict=True,
            ),
        )

    def insert(self, rows: ReadingRows, batch_id: int) -> None:
        plain, counted = _split_counter(rows)
        for mask, columns in ((plain, ""), (counted, ", counter_value")):
            part = rows.take(mask)
            values = [
                part.meter_id.tolist(),
                part.interval_start_s.tolist(),
                part.quantity.tolist(),
                part.flags.tolist(),
                repeat(batch_id, len(part)),
            ]
            if columns:
                values.append(part.counter_value.tolist())
            marks = ", ".join("?" * len(values))
            self.conn.executemany(
                "INSERT INTO reading (meter_id, interval_start_s, quantity, flags, batch_id"
                f"{columns}) VALUES ({marks})",
                zip(*values, strict=False),
            )

    def revise(self, rows: ReadingRows) -> None:
        self.conn.executemany(
            "UPDATE reading SET quantity = ?, flags = ? "
            "WHERE meter_id = ? AND interval_start_s = ?",
            zip(
                rows.quantity.tolist(),
                rows.flags.tolist(),
                rows.meter_id.tolist(),
                rows.interval_start_s.tolist(),
                strict=True,
            ),
        )

    def upsert_rollups(
        self,
        meter_id: NDArray[np.int64],
        day: NDArray[np.int64],
        quantity: NDArray[np.float64],
        intervals: NDArray[np.int64],
    ) -> None:
        self.conn.executemany(
            "INSERT INTO daily_rollup (meter_id, day, quantity, intervals) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (meter_id, day) DO UPDATE SET quantity = excluded.quantity, "
            "intervals = excluded.intervals",
            zip(
                meter_id.tolist(),
                days_to_iso(day),
                quantity.tolist(),
                intervals.tolist(),
                strict=True,
            ),
        )


_AGGREGATES = (
    "string_agg(int8send(r.meter_id::int8), ''::bytea), string_agg(int8send(r.interval_start_s), "
    "''::bytea), string_agg(float8send(r.quantity), ''::bytea), "
    "string_agg(float8send(coalesce(r.counter_value, 'NaN'::float8)), ''::bytea), "
    "string_agg(int2send(r.flags), ''::bytea)"
)
"""Stored rows come back as five packed big-endian columns in one result row (all aggregates
of one query see the rows in the same order), which numpy reads without a Python loop."""
_AGGREGATE_TYPES = (">i8", ">i8", ">f8", ">f8", ">i2")
_RANGES = "unnest(%s::int8[], %s::int8[], %s::int8[]) AS t(m, lo, hi)"


class _PostgresStore(ReadingStore):
    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def lock_meters(self, codes: Sequence[str]) -> list[StoredMeter]:
        with self.conn.cursor() as cur:
            cur.execute(
                f"SELECT {_METER_COLUMNS} FROM meter WHERE code = ANY(%s) "
                "ORDER BY id FOR NO KEY UPDATE",
                (list(codes),),
            )
            return [_spec(r) for r in cur.fetchall()]

    def _packed(self, source: str, ranges: MeterRanges) -> ReadingRows:
        params = (ranges.meter_id.tolist(), ranges.start_s.tolist(), ranges.end_s.tolist())
        with self.conn.cursor(binary=True) as cur:
            cur.execute(f"SELECT {_AGGREGATES} FROM {source}", params)
            packed = cur.fetchone()
        columns = [
            np.frombuffer(b or b"", dtype=t).astype(np.dtype(t).newbyteorder("="))
            for b, t in zip(packed or [None] * 5, _AGGREGATE_TYPES, strict=True)
        ]
        return ReadingRows.from_columns(columns)

    def fetch(self, ranges: MeterRanges) -> ReadingRows:
        return self._packed(
            f"{_RANGES} JOIN reading r ON r.meter_id = t.m "
            "AND r.interval_start_s >= t.lo AND r.interval_start_s < t.hi",
            ranges,
        )

    def counter_history(self, ranges: MeterRanges) -> ReadingRows:
        before = (
            "SELECT * FROM reading x WHERE x.meter_id = t.m AND x.interval_start_s < t.lo "
            "ORDER BY x.interval_start_s DESC LIMIT 1"
        )
        within = (
            "SELECT * FROM reading x WHERE x.meter_id = t.m "
            "AND x.interval_start_s BETWEEN t.lo AND t.hi"
        )
        after = (
            "SELECT * FROM reading x WHERE x.meter_id = t.m AND x.interval_start_s > t.hi "
            "ORDER BY x.interval_start_s LIMIT 1"
        )
        return self._packed(
            f"{_RANGES} CROSS JOIN LATERAL (({before}) UNION ALL ({within}) UNION ALL ({after})) r",
            ranges,
        )

    def insert(self, rows: ReadingRows, batch_id: int) -> None:
        plain, counted = _split_counter(rows)
        with self.conn.cursor() as cur:
            for mask, columns in ((plain, ""), (counted, ", counter_value")):
                part = rows.take(mask)
                if not len(part):
                    continue
                data: list[NDArray[Any]] = [
                    part.meter_id,
                    part.interval_start_s,
                    part.quantity,
                    part.flags,
                    np.full(len(part), batch_id),
                ]
                types = ["int4", "int8", "float8", "int2", "int4"]
                if columns:
                    data.append(part.counter_value)
                    types.append("float8")
                with cur.copy(
                    "COPY reading (meter_id, interval_start_s, quantity, flags, "
                    f"batch_id{columns}) FROM STDIN (FORMAT BINARY)"
                ) as copy:
                    copy.write(pgcopy.encode(data, types))

    def revise(self, rows: ReadingRows) -> None:
        if not len(rows):
            return
        with self.conn.cursor() as cur:
            cur.execute(
                "UPDATE reading r SET quantity = u.q, flags = u.f FROM unnest(%s::int8[], "
                "%s::int8[], %s::float8[], %s::int2[]) AS u(m, t, q, f) "
                "WHERE r.meter_id = u.m AND r.interval_start_s = u.t",
                (
                    rows.meter_id.tolist(),
                    rows.interval_start_s.tolist(),
                    rows.quantity.tolist(),
                    rows.flags.tolist(),
                ),
            )

    def upsert_rollups(
        self,
        meter_id: NDArray[np.int64],
        day: NDArray[np.int64],
        quantity: NDArray[np.float64],
        intervals: NDArray[np.int64],
    ) -> None:
        if not len(meter_id):
            return
        with self.conn.cursor() as cur:
            cur.execute(
                "INSERT INTO daily_rollup (meter_id, day, quantity, intervals) "
                "SELECT m, DATE '1970-01-01' + d, q, n FROM unnest(%s::int4[], %s::int4[], "
                "%s::float8[], %s::int4[]) AS u(m, d, q, n) ON CONFLICT (meter_id, day) DO "
                "UPDATE SET quantity = excluded.quantity, intervals = excluded.intervals",
                (meter_id.tolist(), day.tolist(), quantity.tolist(), intervals.tolist()),
            )


@contextmanager
def bulk_transaction(engine: Engine) -> Iterator[ReadingStore]:
    """A :class:`ReadingStore` in one transaction: committed when the block ends normally,
    rolled back otherwise. SQLite takes the write lock at the start."""
    raw = engine.raw_connection()
    try:
        driver: Any = raw.driver_connection
        store: ReadingStore
        if engine.dialect.name == "sqlite":
            driver.execute("BEGIN IMMEDIATE")
            store = _SqliteStore(driver)
        else:
            store = _PostgresStore(driver)
        yield store
        raw.commit()
    except BaseException:
        raw.rollback()
        raise
    finally:
        raw.close()
