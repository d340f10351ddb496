"""Ingest throughput into SQLite and PostgreSQL against the raw driver floor, same rows, same run.

Run::

    .venv/bin/python -m benchmarks.bench_ingest [--rows 1000000] [--meters 40]
        [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]

The PostgreSQL URL defaults to ``FINANCE_ENGINE_TEST_DATABASE_URL``; without one only SQLite
runs. Every measurement gets a fresh SQLite file or PostgreSQL schema.

- *floor*: the same rows (meter id, interval start, quantity, NULL counter, flags, batch id)
  written the fastest plain way into a table without keys, one row per reading: SQLite
  ``executemany`` in one transaction; PostgreSQL ``COPY ... FROM STDIN (FORMAT BINARY)`` with
  ``set_types`` and ``write_row``. The target is ingest >= 0.5 x floor.
- *keyed floor*: the same, into a table with a per-reading primary key
  ``(meter_id, interval_start_s)`` (what storing readings as rows would have to maintain).
- *ingest*: :func:`finance_engine.services.ingest.ingest_arrays` on interval readings of
  ``--meters`` meters: the real path (validation, meter locks, classification against stored
  readings, insert, daily rollups, batch record; alerts off), then the same call again (a
  replay: every row a duplicate).

Ingest stores meter-day rows (``reading_day``: one row and one primary-key entry per meter and
UTC day, the day's 96 readings in packed columns; see :mod:`finance_engine.storage.daypack`),
so it writes about one row per 96 readings and can beat both floors, which write one row per
reading. ``reading_day.meter_id`` has no foreign key (see
:class:`finance_engine.models.ReadingDay`): on PostgreSQL its per-row trigger tripled the cost
of ingest when readings were rows.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import repeat
from pathlib import Path

import numpy as np
import psycopg
from sqlalchemy import Engine, text

from accounting.readings import MeterSpec, RawReadings
from finance_engine.config import load_settings
from finance_engine.db import make_engine, upgrade
from finance_engine.services.ingest import ingest_arrays, register_entities_and_meters
from finance_engine.storage.registry import EntityRecord, MeterRecord

T0 = 1_704_038_400  # 2024-01-01T00:00+08:00
COLUMNS = (
    "meter_id int, interval_start_s bigint, quantity float8, counter_value float8, "
    "flags smallint, batch_id int"
)
KEYED = f"{COLUMNS}, PRIMARY KEY (meter_id, interval_start_s)"


def make_rows(rows: int, meters: int, seed: int = 7) -> RawReadings:
    """``meters`` interval meters x ``rows // meters`` consecutive intervals, sorted."""
    per_meter = rows // meters
    rng = np.random.default_rng(seed)
    return RawReadings(
        row=np.arange(1, per_meter * meters + 1),
        meter_ref=np.repeat(np.arange(meters, dtype=np.int32), per_meter),
        meter_codes=tuple(f"M{i:04d}" for i in range(meters)),
        timestamp_s=np.tile(T0 + 900 * np.arange(per_meter, dtype=np.int64), meters),
        quantity=np.round(rng.gamma(2.0, 40.0, per_meter * meters), 3),
    )


def prepare(url: str, raw: RawReadings) -> tuple[Engine, list[int]]:
    """Migrate, register one entity and the meters; return the engine and each row's meter id."""
    engine = make_engine(url)
    upgrade(engine)
    specs = [
        MeterSpec(code, "electricity", "kWh", rated_max_per_interval=5000.0)
        for code in raw.meter_codes
    ]
    register_entities_and_meters(
        engine,
        [EntityRecord("BENCH", "Bench firm", "industry")],
        [MeterRecord("BENCH", s) for s in specs],
    )
    with engine.begin() as conn:
        ids = dict(conn.execute(text("SELECT code, id FROM meter")).all())
    meter_id = np.array([ids[c] for c in raw.meter_codes])[raw.meter_ref]
    return engine, meter_id.tolist()


def timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def floor_rows(raw: RawReadings, meter_id: list[int]) -> Iterator[tuple[object, ...]]:
    n = len(raw)
    return zip(
        meter_id,
        raw.timestamp_s.tolist(),
        raw.quantity.tolist(),
        repeat(None, n),
        repeat(0, n),
        repeat(1, n),
        strict=False,
    )


def measure_ingest(url: str, raw: RawReadings) -> tuple[float, float]:
    """Seconds for the first ingest and for its replay."""
    engine, _ = prepare(url, raw)
    try:
        settings = load_settings({}, database_url=url)
        first = timed(lambda: ingest_arrays(engine, raw, settings, alerts=False))
        again = timed(lambda: ingest_arrays(engine, raw, settings, alerts=False))
        return first, again
    finally:
        engine.dispose()


def sqlite_floor(path: Path, raw: RawReadings, meter_id: list[int], columns: str) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"CREATE TABLE floor ({columns})")

    def run() -> None:
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO floor VALUES (?, ?, ?, ?, ?, ?)", floor_rows(raw, meter_id))
        conn.execute("COMMIT")

    seconds = timed(run)
    conn.close()
    return seconds


def postgres_floor(
    dsn: str, schema: str, raw: RawReadings, meter_id: list[int], columns: str
) -> float:
    with psycopg.connect(dsn) as conn:
        conn.execute(f'SET search_path = "{schema}"')
        conn.execute(f"CREATE TABLE floor ({columns})")
        conn.commit()

        def run() -> None:
            with conn.cursor() as cur, cur.copy("COPY floor FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(["int4", "int8", "float8", "float8", "int2", "int4"])
                for row in floor_rows(raw, meter_id):
                    copy.write_row(row)
            conn.commit()

        return timed(run)


@contextmanager
def postgres_schema(url: str) -> Iterator[tuple[str, str]]:
    """A fresh schema: (SQLAlchemy URL with search_path, schema name); dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_dsn(url), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options=-csearch_path%3D{schema}", schema
    finally:
        with psycopg.connect(_dsn(url), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def line(label: str, rows: int, seconds: float, floors: tuple[float, float] | None = None) -> str:
    out = f"  {label:<38} {seconds:6.2f} s {rows / seconds:>11,.0f} rows/s"
    if floors is not None:
        out += f"   x floor {floors[0] / seconds:4.2f}   x keyed floor {floors[1] / seconds:4.2f}"
    return out


def run_sqlite(raw: RawReadings) -> None:
    n = len(raw)
    with tempfile.TemporaryDirectory() as tmp:
        first, again = measure_ingest(f"sqlite:///{Path(tmp) / 'ingest.db'}", raw)
        floors = []
        for name, columns in (("plain", COLUMNS), ("keyed", KEYED)):
            engine, meter_id = prepare(f"sqlite:///{Path(tmp) / name}.db", raw)
            engine.dispose()
            floors.append(sqlite_floor(Path(tmp) / f"{name}.db", raw, meter_id, columns))
    pair = (floors[0], floors[1])
    print("SQLite")
    print(line("floor: executemany, no keys", n, floors[0]))
    print(line("keyed floor: executemany, primary key", n, floors[1]))
    print(line("ingest_arrays (new rows)", n, first, pair))
    print(line("ingest_arrays (replay: duplicates)", n, again, pair))


def run_postgres(url: str, raw: RawReadings) -> None:
    n = len(raw)
    with postgres_schema(url) as (schema_url, _):
        first, again = measure_ingest(schema_url, raw)
    floors = []
    for columns in (COLUMNS, KEYED):
        with postgres_schema(url) as (schema_url, schema):
            engine, meter_id = prepare(schema_url, raw)
            engine.dispose()
            floors.append(postgres_floor(_dsn(url), schema, raw, meter_id, columns))
    pair = (floors[0], floors[1])
    print("PostgreSQL")
    print(line("floor: binary COPY write_row, no keys", n, floors[0]))
    print(line("keyed floor: same COPY, primary key", n, floors[1]))
    print(line("ingest_arrays (new rows)", n, first, pair))
    print(line("ingest_arrays (replay: duplicates)", n, again, pair))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--meters", type=int, default=40)
    parser.add_argument("--pg", default=os.environ.get("FINANCE_ENGINE_TEST_DATABASE_URL", ""))
    args = parser.parse_args()
    raw = make_rows(args.rows, args.meters)
    print(
        f"{len(raw):,} interval readings: {args.meters} meters x "
        f"{len(raw) // args.meters:,} intervals"
    )
    run_sqlite(raw)
    if args.pg:
        run_postgres(args.pg, raw)
    else:
        print("PostgreSQL skipped: pass --pg or set FINANCE_ENGINE_TEST_DATABASE_URL")


if __name__ == "__main__":
    main()
