"""Several processes ingesting overlapping batches for the same meters at once.

Four spawned processes start together (a barrier) and each ingests three overlapping batches of
an interval meter and a counter meter. Afterwards the stored readings are exactly the union of
what was sent, every reading was accepted by exactly one process, the counter intervals equal a
one-batch ingest of the same readings, and the daily rollups equal the stored sums.
"""

from __future__ import annotations

import multiprocessing
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, text

from accounting.readings import MeterSpec, RawReadings, ReadingFlag
from finance_engine.config import load_settings
from finance_engine.db import make_engine, upgrade
from finance_engine.services.ingest import ingest_arrays, register_entities_and_meters
from finance_engine.storage.readings import stored_readings
from finance_engine.storage.registry import EntityRecord, MeterRecord

T0 = 1_704_038_400  # 2024-01-01T00:00:00+08:00
Q = 900
PROCESSES = 4
SLOTS = 480  # five local days


def electricity(slot: int) -> float:
    return float(slot % 97) + 0.5


def gas_counter(slot: int) -> float:
    return 1000.0 + 2.25 * slot


def batches_of(worker: int) -> list[list[int]]:
    """Three overlapping slot ranges per worker; all workers together cover slots 0..SLOTS-1."""
    start = worker * SLOTS // PROCESSES
    return [
        list(range(max(0, start - 60 + k * 40), min(SLOTS, start + 160 + k * 40))) for k in range(3)
    ]


def readings(slots: list[int], counter_meter: str = "G1") -> RawReadings:
    codes = ["E1"] * len(slots) + [counter_meter] * len(slots)
    times = [T0 + s * Q for s in slots] + [T0 + (s + 1) * Q for s in slots]
    values = [electricity(s) for s in slots] + [gas_counter(s + 1) for s in slots]
    return RawReadings.from_codes(codes, times, values)


def _worker(url: str, worker: int, barrier: Any, results: Any) -> None:
    engine = make_engine(url)
    settings = load_settings({}, database_url=url, environment="test")
    barrier.wait(timeout=60)
    totals = [0, 0, 0, 0]
    try:
        for slots in batches_of(worker):
            report = ingest_arrays(engine, readings(slots), settings, alerts=False, chunk_rows=100)
            counts = (report.rows, report.accepted, report.duplicates, len(report.rejected))
            totals = [a + b for a, b in zip(totals, counts, strict=True)]
    except Exception as exc:  # reported to the parent, which fails the test with it
        results.put(f"worker {worker}: {type(exc).__name__}: {exc}")
    else:
        results.put(totals)
    finally:
        engine.dispose()


def _setup(url: str) -> Engine:
    engine = make_engine(url)
    upgrade(engine)
    gas = {"energy_type": "natural_gas", "unit": "m3", "reading_kind": "cumulative"}
    register_entities_and_meters(
        engine,
        [EntityRecord("F1", "Firm", "industry")],
        [
            MeterRecord("F1", MeterSpec("E1", "electricity", "kWh", rated_max_per_interval=500.0)),
            MeterRecord("F1", MeterSpec("G1", **gas)),  # type: ignore[arg-type]
            MeterRecord("F1", MeterSpec("GREF", **gas)),  # type: ignore[arg-type]
        ],
    )
    return engine


def _run_workers(url: str) -> list[list[int]]:
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(PROCESSES), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(url, w, barrier, results)) for w in range(PROCESSES)]
    for p in procs:
        p.start()
    totals = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert [t for t in totals if isinstance(t, str)] == []
    assert [p.exitcode for p in procs] == [0] * PROCESSES
    return totals


def _stored(engine: Engine, code: str) -> list[tuple[Any, ...]]:
    """(interval start, quantity, counter, flags) of a meter's stored readings, in time order."""
    return [(t, q, c, f) for _, t, q, c, f in stored_readings(engine, [code]).records()]


def test_concurrent_overlapping_batches_lose_and_double_count_nothing(db_url: str) -> None:
    engine = _setup(db_url)
    totals = _run_workers(db_url)
    rows, accepted, duplicates, rejected = (sum(t[i] for t in totals) for i in range(4))
    assert rejected == 0
    assert accepted == 2 * SLOTS  # each reading stored by exactly one process
    assert accepted + duplicates == rows
    assert _stored(engine, "E1") == [(T0 + s * Q, electricity(s), None, 0) for s in range(SLOTS)]
    settings = load_settings({}, database_url=db_url, environment="test")
    ingest_arrays(engine, readings(list(range(SLOTS)), "GREF"), settings, alerts=False)
    assert _stored(engine, "G1") == _stored(engine, "GREF")
    _assert_rollups_exact(engine)
    engine.dispose()


def _assert_rollups_exact(engine: Engine) -> None:
    """Rollups of E1 and G1 equal sums of stored readings per local (+08:00) day."""
    days: dict[tuple[str, str], list[float]] = {}
    with engine.connect() as conn:
        codes = dict(conn.execute(text("SELECT id, code FROM meter")).all())
        for m, t, q, _, flags in stored_readings(conn, ["E1", "G1"]).records():
            code = codes[m]
            day = datetime.fromtimestamp(t, timezone(timedelta(hours=8))).date().isoformat()
            entry = days.setdefault((code, day), [0.0, 0])
            entry[0] += q
            entry[1] += 0 if flags & ReadingFlag.ANCHOR else 1
        rollups = {
            (code, str(day)): [q, n]
            for code, day, q, n in conn.execute(
                text(
                    "SELECT m.code, d.day, d.quantity, d.intervals FROM daily_rollup d "
                    "JOIN meter m ON m.id = d.meter_id WHERE m.code IN ('E1', 'G1')"
                )
            )
        }
    assert rollups.keys() == days.keys()
    for key, (total, count) in days.items():
        assert rollups[key][1] == count
        assert rollups[key][0] == pytest.approx(total, rel=1e-12)
