"""The PostgreSQL :class:`~finance_engine.storage.reading_store.ReadingStore`.

New day rows go in through binary ``COPY`` (a buffer built with numpy, see
:mod:`finance_engine.storage.pgcopy`). Changed day rows and daily rollups are written by one
set-based statement reading ``unnest`` of array parameters for small batches, or, from
:data:`STAGE_ROWS` rows on, a temporary table loaded by the same binary ``COPY`` (psycopg dumps
``bytea[]`` parameters as escaped text, several times slower). Stored day rows come back as
one result row of packed columns (``string_agg`` of the keys and blobs: all aggregates of one
query see the rows in the same order), which numpy reads without a Python loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from finance_engine.storage import pgcopy
from finance_engine.storage.daypack import BLOB_COLUMNS, BLOB_DTYPES, DayRows, decode_joined
from finance_engine.storage.reading_store import METER_COLUMNS, ReadingStore, meter_from_row
from finance_engine.storage.rows import StoredMeter

STAGE_ROWS = 1000
"""From this many rows on, a set-based write reads its rows from a staging table loaded by
binary ``COPY``; below, from array parameters (fewer round trips, no temporary table)."""

_AGGREGATES = (
    "string_agg(int8send(r.meter_id::int8), ''::bytea), string_agg(int8send(r.day::int8), "
    "''::bytea), string_agg(boolsend(r.counter_value IS NOT NULL), ''::bytea), "
    "string_agg(r.quantity, ''::bytea), string_agg(coalesce(r.counter_value, ''::bytea), "
    "''::bytea), string_agg(r.flags, ''::bytea), string_agg(r.batch_id, ''::bytea)"
)
_SPANS = "unnest(%s::int4[], %s::int4[], %s::int4[]) AS t(m, lo, hi)"
_WITHIN = "SELECT * FROM reading_day x WHERE x.meter_id = t.m AND x.day BETWEEN t.lo AND t.hi"
_BEFORE = (
    "SELECT * FROM reading_day x WHERE x.meter_id = t.m AND x.day < t.lo AND x.readings > 0 "
    "ORDER BY x.day DESC LIMIT 1"
)
_AFTER = (
    "SELECT * FROM reading_day x WHERE x.meter_id = t.m AND x.day > t.hi AND x.readings > 0 "
    "ORDER BY x.day LIMIT 1"
)


class PostgresReadingStore(ReadingStore):
    """Day rows through the ``psycopg`` connection of a bulk transaction."""

    def __init__(self, conn: Any) -> None:
        super().__init__()
        self.conn = conn

    def lock_meters(self, codes: Sequence[str]) -> list[StoredMeter]:
        with self.conn.cursor() as cur:
            cur.execute(
                f"SELECT {METER_COLUMNS} FROM meter WHERE code = ANY(%s) "
                "ORDER BY id FOR NO KEY UPDATE",
                (list(codes),),
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
        rows = f"({_WITHIN})"
        if neighbours:
            rows = f"({_WITHIN}) UNION ALL ({_BEFORE}) UNION ALL ({_AFTER})"
        with self.conn.cursor(binary=True) as cur:
            cur.execute(
                f"SELECT {_AGGREGATES} FROM {_SPANS} CROSS JOIN LATERAL ({rows}) r",
                (meter_id.tolist(), first_day.tolist(), last_day.tolist()),
            )
            keys_m, keys_d, counted, *blobs = (b or b"" for b in cur.fetchone() or [None] * 7)
        present = np.frombuffer(counted, dtype=np.bool_)
        everywhere = np.ones(len(present), dtype=np.bool_)
        arrays = [
            decode_joined(b, c, present if c == "counter_value" else everywhere)
            for b, c in zip(blobs, BLOB_COLUMNS, strict=True)
        ]
        return DayRows(
            np.frombuffer(keys_m, dtype=">i8").astype(np.int64),
            np.frombuffer(keys_d, dtype=">i8").astype(np.int64),
            *arrays,
        )

    def insert_days(self, days: DayRows) -> None:
        counted = days.has_counter()
        with self.conn.cursor() as cur:  # rows without counters leave counter_value NULL
            for part, counter in ((days.take(~counted), False), (days.take(counted), True)):
                if not len(part):
                    continue
                columns = ["meter_id", "day", "readings", "quantity", "flags", "batch_id"]
                columns += ["counter_value"] if counter else []
                data: list[NDArray[Any]] = [part.meter_id, part.day, part.readings()]
                data += [getattr(part, c).astype(BLOB_DTYPES[c]) for c in columns[3:]]
                types = ["int4", "int4", "int2"] + ["bytea"] * (len(columns) - 3)
                with cur.copy(
                    f"COPY reading_day ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
                ) as copy:
                    copy.write(pgcopy.encode(data, types))

    def update_days(self, days: DayRows) -> None:
        if not len(days):
            return
        with self.conn.cursor() as cur:
            source, params = _source(
                cur,
                "reading_day_stage",
                [
                    ("m", "int4", days.meter_id),
                    ("d", "int4", days.day),
                    ("n", "int2", days.readings()),
                    ("has", "int2", days.has_counter().astype(np.int16)),
                    ("q", "bytea", days.quantity.astype(BLOB_DTYPES["quantity"])),
                    ("c", "bytea", days.counter_value.astype(BLOB_DTYPES["counter_value"])),
                    ("f", "bytea", days.flags.astype(BLOB_DTYPES["flags"])),
                    ("b", "bytea", days.batch_id.astype(BLOB_DTYPES["batch_id"])),
                ],
            )
            cur.execute(
                "UPDATE reading_day r SET readings = s.n, quantity = s.q, flags = s.f, "
                "batch_id = s.b, counter_value = CASE WHEN s.has = 1 THEN s.c END "
                f"FROM {source} WHERE r.meter_id = s.m AND r.day = s.d",
                params,
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
            source, params = _source(
                cur,
                "daily_rollup_stage",
                [
                    ("m", "int4", meter_id),
                    ("d", "int4", day),
                    ("q", "float8", quantity),
                    ("n", "int4", intervals),
                ],
            )
            cur.execute(
                "INSERT INTO daily_rollup (meter_id, day, quantity, intervals) "
                f"SELECT m, DATE '1970-01-01' + d, q, n FROM {source} "
                "ON CONFLICT (meter_id, day) DO "
                "UPDATE SET quantity = excluded.quantity, intervals = excluded.intervals",
                params,
            )


def _source(
    cur: Any, stage: str, columns: Sequence[tuple[str, str, NDArray[Any]]]
) -> tuple[str, list[Any]]:
    """A ``FROM`` item ``s`` over equal-length ``columns`` (name, PostgreSQL type, values; a
    ``bytea`` value is the bytes of one array row) and its parameters: ``unnest`` of array
    parameters, or, from :data:`STAGE_ROWS` rows on, a temporary table ``stage`` (dropped at
    commit) loaded by binary ``COPY``."""
    names = ", ".join(name for name, _, _ in columns)
    if len(columns[0][2]) < STAGE_ROWS:
        arrays = ", ".join(f"%s::{pg_type}[]" for _, pg_type, _ in columns)
        params = [_parameter(values, pg_type) for _, pg_type, values in columns]
        return f"unnest({arrays}) AS s({names})", params
    spec = ", ".join(f"{name} {pg_type}" for name, pg_type, _ in columns)
    cur.execute(f"DROP TABLE IF EXISTS pg_temp.{stage}")
    cur.execute(f"CREATE TEMP TABLE {stage} ({spec}) ON COMMIT DROP")
    with cur.copy(f"COPY {stage} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(pgcopy.encode([v for _, _, v in columns], [t for _, t, _ in columns]))
    return f"{stage} s", []


def _parameter(values: NDArray[Any], pg_type: str) -> list[Any]:
    if pg_type != "bytea":
        return cast(list[Any], values.tolist())
    rows = np.ascontiguousarray(values).reshape(len(values), -1)
    width = rows.shape[1] * rows.dtype.itemsize
    return cast(list[Any], rows.view(np.dtype((np.void, width))).ravel().tolist())
