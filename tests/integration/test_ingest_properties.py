"""Property tests of ingest on SQLite and PostgreSQL (hypothesis).

- Every row is accepted, a duplicate or rejected, exactly as a small reference model of the rules
  says; what is stored is exactly what the model accepted (nothing lost, nothing twice).
- Replaying any batch changes nothing.
- Daily rollups equal the sums of stored readings per local day.
- Counter readings give the same stored intervals whether they arrive in one batch or in
  overlapping batches in any order.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from accounting.readings import MeterSpec, RawReadings, ReadingFlag
from finance_engine.config import Settings
from finance_engine.services.ingest import ingest_arrays, register_entities_and_meters
from finance_engine.storage.readings import stored_readings
from finance_engine.storage.registry import EntityRecord, MeterRecord

T0 = 1_704_038_400  # 2024-01-01T00:00:00+08:00
Q = 900
TOLERANCE_S = 60
Row = tuple[str, int, int, float]  # meter, slot, offset seconds, value

HYPOTHESIS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def registered(engine: Engine) -> Engine:
    register_entities_and_meters(
        engine,
        [EntityRecord("F1", "Firm", "industry")],
        [
            MeterRecord("F1", MeterSpec("E1", "electricity", "kWh", rated_max_per_interval=500.0)),
            MeterRecord("F1", MeterSpec("E2", "heat", "GJ")),
            MeterRecord(
                "F1", MeterSpec("G1", "natural_gas", "m3", "cumulative", counter_rollover=1000.0)
            ),
            MeterRecord(
                "F1", MeterSpec("G2", "natural_gas", "m3", "cumulative", counter_rollover=1000.0)
            ),
        ],
    )
    return engine


def _clear(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in ("alert", "daily_rollup", "reading_day", "ingest_batch"):
            conn.execute(text(f"DELETE FROM {table}"))


def _raw(rows: list[Row]) -> RawReadings:
    return RawReadings.from_codes(
        [r[0] for r in rows], [T0 + r[1] * Q + r[2] for r in rows], [r[3] for r in rows]
    )


def _stored(engine: Engine) -> dict[tuple[str, int], tuple[float, float | None, int]]:
    with engine.connect() as conn:
        codes = dict(conn.execute(text("SELECT id, code FROM meter")).all())
        rows = stored_readings(conn).records()
    return {(codes[m], (t - T0) // Q): (q, c, f) for m, t, q, c, f in rows}


def _rollups(engine: Engine) -> dict[tuple[str, str], tuple[float, int]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT m.code, d.day, d.quantity, d.intervals FROM "
                "daily_rollup d JOIN meter m ON m.id = d.meter_id"
            )
        ).all()
    return {(code, str(day)): (q, n) for code, day, q, n in rows}


def model_batch(rows: list[Row], state: dict[tuple[str, int], float]) -> tuple[int, int, int]:
    """The rules for interval meters, written plainly: (accepted, duplicates, rejected)."""
    accepted = duplicates = rejected = 0
    groups: dict[tuple[str, int], list[float]] = defaultdict(list)
    for meter, slot, offset, value in rows:
        too_big = meter == "E1" and value > 500.0
        if meter not in {"E1", "E2"} or abs(offset) > TOLERANCE_S or value < 0 or too_big:
            rejected += 1
        else:
            groups[(meter, slot)].append(value)
    for key, values in groups.items():
        if len(set(values)) > 1:
            rejected += len(values)
            continue
        duplicates += len(values) - 1
        if key not in state:
            state[key] = values[0]
            accepted += 1
        elif state[key] == values[0]:
            duplicates += 1
        else:
            rejected += 1
    return accepted, duplicates, rejected


def expected_rollups(
    stored: dict[tuple[str, int], tuple[float, float | None, int]], zone: ZoneInfo
) -> dict[tuple[str, str], tuple[float, int]]:
    """Sums per meter and local day, computed row by row with zoneinfo."""
    out: dict[tuple[str, str], tuple[float, int]] = {}
    for (code, slot), (quantity, _, flags) in stored.items():
        day = datetime.fromtimestamp(T0 + slot * Q, zone).date().isoformat()
        total, count = out.get((code, day), (0.0, 0))
        out[(code, day)] = (total + quantity, count + (0 if flags & ReadingFlag.ANCHOR else 1))
    return out


def _close(
    a: dict[tuple[str, str], tuple[float, int]], b: dict[tuple[str, str], tuple[float, int]]
) -> bool:
    return a.keys() == b.keys() and all(
        a[k][1] == b[k][1] and a[k][0] == pytest.approx(b[k][0], rel=1e-12, abs=1e-9) for k in a
    )


interval_rows = st.lists(
    st.tuples(
        st.sampled_from(["E1", "E1", "E2", "X"]),
        st.integers(min_value=0, max_value=200),  # 200 slots: a bit over two local days
        st.sampled_from([0, 0, 0, 30, -45, 75]),
        st.sampled_from([0.0, 1.5, 2.5, 7.25, 600.0, -1.0]),
    ),
    max_size=40,
)


@HYPOTHESIS
@given(batches=st.lists(interval_rows, min_size=1, max_size=3))
def test_interval_ingest_matches_the_model_and_replays_are_no_ops(
    registered: Engine, settings: Settings, batches: list[list[Row]]
) -> None:
    _clear(registered)
    state: dict[tuple[str, int], float] = {}
    for rows in batches:
        report = ingest_arrays(registered, _raw(rows), settings, alerts=False)
        assert report.accepted + report.duplicates + len(report.rejected) == report.rows
        assert (report.accepted, report.duplicates, len(report.rejected)) == model_batch(
            rows, state
        )
    stored = _stored(registered)
    assert {k: q for k, (q, _, _) in stored.items()} == state
    rollups = _rollups(registered)
    assert _close(rollups, expected_rollups(stored, ZoneInfo(settings.timezone)))
    for rows in batches:
        replay = ingest_arrays(registered, _raw(rows), settings, alerts=False)
        assert replay.accepted == 0
    assert _stored(registered) == stored
    assert _rollups(registered) == rollups


@st.composite
def counter_batches(draw: st.DrawFn) -> tuple[list[tuple[int, float]], list[list[int]]]:
    """Counter readings (slot, counter) of one meter and a split into overlapping batches,
    given as lists of reading indices in arrival order."""
    slots = sorted(draw(st.sets(st.integers(min_value=1, max_value=60), min_size=1, max_size=30)))
    start = draw(st.sampled_from([0.0, 500.0, 990.5]))
    steps = draw(st.lists(st.sampled_from([0.0, 0.25, 1.5, 7.0, 15.0]), min_size=61, max_size=61))
    counter = [(start + sum(steps[:s])) % 1000.0 for s in slots]
    index = list(range(len(slots)))
    batches = draw(st.lists(st.lists(st.sampled_from(index), min_size=1), min_size=1, max_size=4))
    batches.append(draw(st.permutations(index)))  # every reading arrives at least once
    return list(zip(slots, counter, strict=True)), draw(st.permutations(batches))


@HYPOTHESIS
@given(case=counter_batches())
def test_counters_store_the_same_intervals_whatever_the_arrival_order(
    registered: Engine,
    settings: Settings,
    case: tuple[list[tuple[int, float]], list[list[int]]],
) -> None:
    _clear(registered)
    readings, batches = case
    one = [("G1", s, 0, c) for s, c in readings]
    assert ingest_arrays(registered, _raw(one), settings, alerts=False).accepted == len(one)
    accepted = 0
    for batch in batches:
        rows = [("G2", readings[i][0], 0, readings[i][1]) for i in batch]
        report = ingest_arrays(registered, _raw(rows), settings, alerts=False)
        assert report.accepted + report.duplicates + len(report.rejected) == len(rows)
        assert report.rejected == ()
        accepted += report.accepted
    assert accepted == len(readings)  # each reading stored exactly once
    stored = _stored(registered)
    g1 = sorted((s, v) for (m, s), v in stored.items() if m == "G1")
    g2 = sorted((s, v) for (m, s), v in stored.items() if m == "G2")
    assert g1 == g2
    consumed = sum(q for _, (q, _, _) in g2)
    first, last = readings[0][1], readings[-1][1]
    assert consumed == pytest.approx((last - first) % 1000.0)
    rollups = _rollups(registered)
    assert _close(rollups, expected_rollups(stored, ZoneInfo(settings.timezone)))
