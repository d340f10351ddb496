"""Bulk storage of resident events and monthly accounts, one code path per backend.

Writes go through a temporary staging table loaded on the driver's fast route (PostgreSQL binary
``COPY`` built by :mod:`finance_engine.storage.pgcopy`, SQLite ``executemany``), then set-based
SQL: the staged events are classified against the stored ones (new, exact duplicate, conflicting
duplicate) and the new ones inserted with ``INSERT ... ON CONFLICT DO NOTHING``. A transaction
holds the event table's write lock (PostgreSQL ``SHARE ROW EXCLUSIVE``, which readers do not
wait for; SQLite ``BEGIN IMMEDIATE``), so the classification is exact with concurrent ingests.

Reads of millions of rows come back as numpy columns: ``COPY (SELECT ...) TO STDOUT (FORMAT
BINARY)`` decoded with one structured dtype (every field fixed-width and non-null), or
``numpy.fromiter`` over the SQLite cursor.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Engine

from accounting.readings import Rejection
from accounting.resident_events import ResidentEvents
from finance_engine.storage import pgcopy

_STAGE_COLUMNS = (
    "row",
    "event_id",
    "resident_id",
    "occurred_at_s",
    "behaviour",
    "quantity",
    "month",
)
_STAGE_TYPES = ("int8", "int8", "int8", "int8", "int2", "float8", "int4")
_MONTH_COLUMNS = (
    "resident_id",
    "reduction_g",
    "capped_g",
    "points",
    "cumulative_points",
    "cumulative_reduction_g",
    "level",
)
_MONTH_TYPES = ("int8", "float8", "float8", "int8", "int8", "float8", "int2")
_DIFFERS = (
    "e.resident_id <> s.resident_id OR e.occurred_at_s <> s.occurred_at_s "
    "OR e.behaviour <> s.behaviour OR e.quantity <> s.quantity"
)


@dataclass(frozen=True)
class StoredEvents:
    """What storing a chunk did: new events per month (``YYYYMM``), duplicates, conflicts."""

    inserted: int
    duplicates: int
    conflicts: tuple[Rejection, ...]
    months: dict[int, int]


@dataclass(frozen=True)
class MonthRows:
    """Monthly account columns to store for one month (all ``(n,)``)."""

    resident_id: NDArray[np.int64]
    reduction_g: NDArray[np.float64]
    capped_g: NDArray[np.float64]
    points: NDArray[np.int64]
    cumulative_points: NDArray[np.int64]
    cumulative_reduction_g: NDArray[np.float64]
    level: NDArray[np.int8]

    def columns(self) -> list[NDArray[Any]]:
        """In :data:`_MONTH_COLUMNS` order."""
        return [getattr(self, c) for c in _MONTH_COLUMNS]


class ResidentStore:
    """SQL of one transaction on a raw DBAPI connection (SQLite or psycopg)."""

    def __init__(self, conn: Any, postgres: bool) -> None:
        self.conn = conn
        self.postgres = postgres

    # ----------------------------------------------------------------- helpers

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        if self.postgres:
            cur = self.conn.cursor()
            cur.execute(sql.replace("?", "%s"), params)
            return cur
        return self.conn.execute(sql, params)

    def _stage(
        self, table: str, names: Sequence[str], types: Sequence[str], cols: list[Any]
    ) -> None:
        sql_types = {
            "int8": "BIGINT",
            "int4": "INTEGER",
            "int2": "SMALLINT",
            "float8": "DOUBLE PRECISION",
        }
        spec = ", ".join(f'"{n}" {sql_types[t]}' for n, t in zip(names, types, strict=True))
        drop = " ON COMMIT DROP" if self.postgres else ""
        self._execute(f"DROP TABLE IF EXISTS {table}")
        self._execute(f"CREATE TEMP TABLE {table} ({spec}){drop}")
        quoted = ", ".join(f'"{n}"' for n in names)
        if self.postgres:
            with (
                self.conn.cursor() as cur,
                cur.copy(f"COPY {table} ({quoted}) FROM STDIN (FORMAT BINARY)") as copy,
            ):
                copy.write(pgcopy.encode(cols, types))
        else:
            marks = ", ".join("?" * len(names))
            self.conn.executemany(
                f"INSERT INTO {table} ({quoted}) VALUES ({marks})",
                zip(*[c.tolist() for c in cols], strict=True),
            )

    def _columns(self, select: str, params: Sequence[Any], dtypes: Sequence[str]) -> list[Any]:
        """Rows of ``select`` as numpy columns (fixed-width, non-null fields only)."""
        if self.postgres:
            return _copy_out(self.conn, select, params, dtypes)
        row = np.dtype([(f"f{i}", np.dtype(t)) for i, t in enumerate(dtypes)])
        rows = np.fromiter(self.conn.execute(select, params), dtype=row)
        return [rows[f"f{i}"] for i in range(len(dtypes))]

    # ----------------------------------------------------------------- events

    def store_events(
        self, events: ResidentEvents, months: NDArray[np.int32], batch_id: int
    ) -> StoredEvents:
        """Stage ``events`` (with their local ``YYYYMM``), classify them and insert the new ones."""
        cols = [
            events.row,
            events.event_id,
            events.resident_id,
            events.occurred_at_s,
            events.behaviour.astype(np.int16),
            events.quantity,
            months,
        ]
        self._stage("resident_event_stage", _STAGE_COLUMNS, _STAGE_TYPES, cols)
        new = self._execute(
            "SELECT s.month, count(*) FROM resident_event_stage s LEFT JOIN resident_event e "
            "ON e.event_id = s.event_id WHERE e.event_id IS NULL GROUP BY s.month"
        ).fetchall()
        conflicts = self._execute(
            "SELECT s.row, s.event_id, e.resident_id, e.occurred_at_s, e.behaviour, e.quantity "
            f"FROM resident_event_stage s JOIN resident_event e ON e.event_id = s.event_id "
            f"WHERE {_DIFFERS} ORDER BY s.row"
        ).fetchall()
        cur = self._execute(
            "INSERT INTO resident_event (event_id, resident_id, occurred_at_s, behaviour, "
            "quantity, batch_id) SELECT event_id, resident_id, occurred_at_s, behaviour, "
            "quantity, ? FROM resident_event_stage WHERE true "
            "ON CONFLICT (event_id) DO NOTHING",
            (batch_id,),
        )
        inserted = int(cur.rowcount)
        return StoredEvents(
            inserted=inserted,
            duplicates=len(events) - inserted - len(conflicts),
            conflicts=tuple(_conflict(r) for r in conflicts),
            months={int(m): int(c) for m, c in new},
        )

    def month_events(self, start_s: int, end_s: int) -> list[Any]:
        """``resident_id, occurred_at_s, behaviour, quantity`` of events in ``[start_s, end_s)``."""
        return self._columns(
            "SELECT resident_id, occurred_at_s, behaviour, quantity FROM resident_event "
            "WHERE occurred_at_s >= ? AND occurred_at_s < ?",
            (start_s, end_s),
            ("int64", "int64", "int16", "float64"),
        )

    def first_event_s(self, start_s: int, end_s: int) -> int | None:
        """Time of the earliest event in ``[start_s, end_s)``, or None if there is none."""
        row = self._execute(
            "SELECT min(occurred_at_s) FROM resident_event "
            "WHERE occurred_at_s >= ? AND occurred_at_s < ?",
            (start_s, end_s),
        ).fetchone()
        return None if row[0] is None else int(row[0])

    # ----------------------------------------------------------------- months

    def computed_months(self) -> list[int]:
        """Months (``YYYYMM``) with stored accounts, ascending."""
        rows = self._execute("SELECT DISTINCT month FROM resident_month ORDER BY month").fetchall()
        return [int(r[0]) for r in rows]

    def month_state(self, month: int) -> list[Any]:
        """``resident_id, cumulative_points, cumulative_reduction_g`` of a stored month."""
        return self._columns(
            "SELECT resident_id, cumulative_points, cumulative_reduction_g FROM resident_month "
            "WHERE month = ?",
            (month,),
            ("int64", "int64", "float64"),
        )

    def replace_month(self, month: int, rows: MonthRows, versions: Sequence[str]) -> None:
        """Delete the month's accounts and store ``rows`` with the four version strings."""
        self._execute("DELETE FROM resident_month WHERE month = ?", (month,))
        names = ", ".join(_MONTH_COLUMNS)
        version_cols = "factor_table_version, points_rules_version, factor_set_version, grid_region"
        if self.postgres:
            self._stage("resident_month_stage", _MONTH_COLUMNS, _MONTH_TYPES, rows.columns())
            self._execute(
                f"INSERT INTO resident_month ({names}, month, {version_cols}) "
                f"SELECT {names}, ?, ?, ?, ?, ? FROM resident_month_stage",
                (month, *versions),
            )
            return
        cols = [c.tolist() for c in rows.columns()]
        consts = [repeat(v, len(rows.resident_id)) for v in (month, *versions)]
        self.conn.executemany(
            f"INSERT INTO resident_month ({names}, month, {version_cols}) "
            f"VALUES ({', '.join('?' * 12)})",
            zip(*cols, *consts, strict=False),
        )

    def level_counts(self, month: int) -> dict[int, int]:
        """Residents per level in a stored month."""
        rows = self._execute(
            "SELECT level, count(*) FROM resident_month WHERE month = ? GROUP BY level", (month,)
        ).fetchall()
        return {int(level): int(n) for level, n in rows}


def _conflict(r: Sequence[Any]) -> Rejection:
    """A staged event whose id is stored with different content (row, id, stored fields)."""
    return Rejection(
        int(r[0]),
        "event_id",
        f"{int(r[1])} is stored with different content (resident {int(r[2])}, "
        f"at {int(r[3])} s, behaviour code {int(r[4])}, quantity {float(r[5])!r})",
    )


def _copy_out(conn: Any, select: str, params: Sequence[Any], dtypes: Sequence[str]) -> list[Any]:
    """Decode ``COPY (select) TO STDOUT (FORMAT BINARY)`` into numpy columns.

    ``params`` must be integers (COPY takes no bind parameters; they are inlined).
    """
    fields: list[tuple[str, str]] = [("n", ">i2")]
    for i, t in enumerate(dtypes):
        fields += [(f"len{i}", ">i4"), (f"f{i}", np.dtype(t).newbyteorder(">").str)]
    row = np.dtype(fields)
    with conn.cursor() as cur:
        query = select.replace("?", "{}").format(*(int(p) for p in params))
        with cur.copy(f"COPY ({query}) TO STDOUT (FORMAT BINARY)") as copy:
            data = b"".join(bytes(block) for block in copy)
    body = data[len(pgcopy.HEADER) : len(data) - len(pgcopy.TRAILER)] if data else b""
    rows = np.frombuffer(body, dtype=row)
    return [rows[f"f{i}"].astype(np.dtype(t)) for i, t in enumerate(dtypes)]


@contextmanager
def resident_transaction(engine: Engine, *, lock_events: bool = False) -> Iterator[ResidentStore]:
    """A :class:`ResidentStore` in one transaction (committed on normal exit, else rolled back).

    With ``lock_events`` the event table's write lock is taken first (ingest).
    """
    raw = engine.raw_connection()
    try:
        driver: Any = raw.driver_connection
        postgres = engine.dialect.name != "sqlite"
        if postgres:
            if lock_events:
                driver.execute("LOCK TABLE resident_event IN SHARE ROW EXCLUSIVE MODE")
        else:
            driver.execute("BEGIN IMMEDIATE")
        yield ResidentStore(driver, postgres)
        raw.commit()
    except BaseException:
        raw.rollback()
        raise
    finally:
        raw.close()
