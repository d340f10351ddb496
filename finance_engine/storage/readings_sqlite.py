"""The SQLite :class:`~finance_engine.storage.reading_store.ReadingStore`: ``executemany`` of
day rows in the transaction that holds the database write lock (``BEGIN IMMEDIATE``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from finance_engine.storage.daypack import DayRows, encode
from finance_engine.storage.reading_store import METER_COLUMNS, ReadingStore, meter_from_row
from finance_engine.storage.rows import StoredMeter
from finance_engine.storage.timezones import days_to_iso

_COLUMNS = "meter_id, day, quantity, counter_value, flags, batch_id"
"""Keys, then the packed columns in :data:`~finance_engine.storage.daypack.BLOB_COLUMNS` order."""
_WITHIN = f"SELECT {_COLUMNS} FROM reading_day WHERE meter_id = ?1 AND day BETWEEN ?2 AND ?3"
_NEIGHBOURS = (
    f"{_WITHIN} UNION ALL SELECT * FROM (SELECT {_COLUMNS} FROM reading_day WHERE meter_id = ?1 "
    "AND day < ?2 AND readings > 0 ORDER BY day DESC LIMIT 1) "
    f"UNION ALL SELECT * FROM (SELECT {_COLUMNS} FROM reading_day WHERE meter_id = ?1 "
    "AND day > ?3 AND readings > 0 ORDER BY day LIMIT 1)"
)


def _write_parameters(days: DayRows) -> list[Any]:
    """Columns ``readings, quantity, flags, batch_id, meter_id, day`` of ``days``."""
    return [
        days.readings().tolist(),
        encode(days.quantity, "quantity"),
        encode(days.flags, "flags"),
        encode(days.batch_id, "batch_id"),
        days.meter_id.tolist(),
        days.day.tolist(),
    ]


class SqliteReadingStore(ReadingStore):
    """Day rows through the ``sqlite3`` connection of a bulk transaction."""

    def __init__(self, conn: Any) -> None:
        super().__init__()
        self.conn = conn

    def lock_meters(self, codes: Sequence[str]) -> list[StoredMeter]:
        cur = self.conn.execute(
            f"SELECT {METER_COLUMNS} FROM meter "
            "WHERE code IN (SELECT value FROM json_each(?)) ORDER BY id",
            (json.dumps(list(codes)),),
        )
        return [meter_from_row(r) for r in cur.fetchall()]

    def read_days(
        self,
        meter_id: NDArray[np.int64],
        first_day: NDArray[np.int64],
        last_day: NDArray[np.int64],
        *,
        neighbours: bool = False,
    ) -> DayRows:
        sql = _NEIGHBOURS if neighbours else _WITHIN
        rows: list[Any] = []
        for span in zip(meter_id.tolist(), first_day.tolist(), last_day.tolist(), strict=True):
            rows += self.conn.execute(sql, span).fetchall()
        return DayRows.from_result(rows)

    def insert_days(self, days: DayRows) -> None:
        counted = days.has_counter()
        for part, counter in ((days.take(~counted), ""), (days.take(counted), ", counter_value")):
            if not len(part):
                continue
            values = _write_parameters(part)
            if counter:
                values.append(encode(part.counter_value, "counter_value"))
            marks = ", ".join("?" * len(values))
            self.conn.executemany(
                "INSERT INTO reading_day (readings, quantity, flags, batch_id, meter_id, day"
                f"{counter}) VALUES ({marks})",
                zip(*values, strict=True),
            )

    def update_days(self, days: DayRows) -> None:
        counted = days.has_counter()
        for part, counter in ((days.take(~counted), "NULL"), (days.take(counted), "?7")):
            if not len(part):
                continue
            values = _write_parameters(part)
            if counter != "NULL":
                values.append(encode(part.counter_value, "counter_value"))
            self.conn.executemany(
                "UPDATE reading_day SET readings = ?1, quantity = ?2, flags = ?3, batch_id = ?4, "
                f"counter_value = {counter} WHERE meter_id = ?5 AND day = ?6",
                zip(*values, strict=True),
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
