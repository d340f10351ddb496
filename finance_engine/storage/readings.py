"""Bulk reading storage on the driver's fast native route, one implementation per backend.

Interval readings are stored as meter-day rows (``reading_day``: one row per meter and UTC day
holding the day's 96 slots in packed columns, see :mod:`finance_engine.storage.daypack`), so a
day of readings costs one primary-key entry instead of 96. Callers still see readings
(:class:`ReadingRows`); :class:`ReadingStore` converts.

A :func:`bulk_transaction` holds, until it commits, a lock on every meter it loads: on
PostgreSQL ``SELECT ... FOR NO KEY UPDATE`` on the meter rows (taken in id order, so concurrent
ingests cannot deadlock; it does not block foreign-key checks or readers); on SQLite the
database write lock (``BEGIN IMMEDIATE``). Within it, what is stored for those meters cannot
change, so duplicates and conflicts are classified exactly against the stored rows, counter
histories are consistent, day rows are read, merged and written back without losing a
concurrent write, and daily rollups recomputed from stored plus new rows are exact, even with
several processes ingesting overlapping batches for the same meters.

Day rows go in through PostgreSQL binary ``COPY`` (a buffer built with numpy, see
:mod:`finance_engine.storage.pgcopy`) or SQLite ``executemany`` in the one transaction; stored
rows come back as packed columns decoded by one ``numpy.frombuffer`` per column.

:func:`stored_readings` and :func:`stored_days` read what is stored outside a bulk transaction
(tests, tools).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, Table, select

from finance_engine.models import Meter, ReadingDay
from finance_engine.storage.daypack import DayRows, unpack
from finance_engine.storage.reading_store import ReadingStore
from finance_engine.storage.readings_pg import PostgresReadingStore
from finance_engine.storage.readings_sqlite import SqliteReadingStore
from finance_engine.storage.rows import MeterRanges, ReadingRows, StoredMeter

__all__ = [
    "MeterRanges",
    "ReadingRows",
    "ReadingStore",
    "StoredMeter",
    "bulk_transaction",
    "stored_days",
    "stored_readings",
]

_DAYS: Table = ReadingDay.__table__  # type: ignore[attr-defined]
_METERS: Table = Meter.__table__  # type: ignore[attr-defined]


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
            store = SqliteReadingStore(driver)
        else:
            store = PostgresReadingStore(driver)
        yield store
        raw.commit()
    except BaseException:
        raw.rollback()
        raise
    finally:
        raw.close()


def stored_days(
    db: Engine | Connection,
    meter_codes: Sequence[str] | None = None,
    *,
    first_day: int | None = None,
    last_day: int | None = None,
) -> DayRows:
    """The stored day rows (of the meters with these codes, or all), in meter and day order;
    ``first_day``/``last_day``: only UTC day numbers in that closed range."""
    query = select(
        _DAYS.c.meter_id,
        _DAYS.c.day,
        _DAYS.c.quantity,
        _DAYS.c.counter_value,
        _DAYS.c.flags,
        _DAYS.c.batch_id,
    ).order_by(_DAYS.c.meter_id, _DAYS.c.day)
    if meter_codes is not None:
        codes = select(_METERS.c.id).where(_METERS.c.code.in_(list(meter_codes)))
        query = query.where(_DAYS.c.meter_id.in_(codes))
    if first_day is not None:
        query = query.where(_DAYS.c.day >= first_day)
    if last_day is not None:
        query = query.where(_DAYS.c.day <= last_day)
    if isinstance(db, Connection):
        return DayRows.from_result(db.execute(query).all())
    with db.connect() as conn:
        return DayRows.from_result(conn.execute(query).all())


def stored_readings(
    db: Engine | Connection, meter_codes: Sequence[str] | None = None
) -> ReadingRows:
    """The stored readings (of the meters with these codes, or all), in meter and time order."""
    return unpack(stored_days(db, meter_codes))
