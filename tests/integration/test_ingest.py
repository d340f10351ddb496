"""Ingest through the service on SQLite and PostgreSQL: storage, duplicates, rollups, counters."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, text

from accounting.readings import MeterSpec, RawReadings, ReadingFlag
from finance_engine.config import Settings
from finance_engine.services.ingest import (
    BatchReport,
    ingest_arrays,
    ingest_readings,
    register_entities_and_meters,
)
from finance_engine.storage import readings_pg
from finance_engine.storage.daypack import unpack_batch_ids
from finance_engine.storage.readings import stored_days, stored_readings
from finance_engine.storage.registry import EntityRecord, MeterRecord

T0 = 1_704_038_400  # 2024-01-01T00:00:00+08:00
Q = 900


@pytest.fixture
def meters(engine: Engine) -> dict[str, int]:
    """Entity F1 with an electricity meter E1 (rated 500 kWh), a gas counter G1 (rollover 1e6)
    and a heat counter H1 (no rollover); returns meter ids by code."""
    register_entities_and_meters(
        engine,
        [EntityRecord("F1", "Firm one", "industry", industry_code="C26")],
        [
            MeterRecord("F1", MeterSpec("E1", "electricity", "kWh", rated_max_per_interval=500.0)),
            MeterRecord(
                "F1", MeterSpec("G1", "natural_gas", "m3", "cumulative", counter_rollover=1e6)
            ),
            MeterRecord("F1", MeterSpec("H1", "heat", "GJ", "cumulative")),
        ],
    )
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT code, id FROM meter")).all())


@pytest.fixture(params=["arrays", "staged"])
def write_route(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """PostgreSQL updates day rows and rollups from array parameters (small batches) or from a
    staging table (large ones; ``staged`` forces it for every batch). SQLite has one route."""
    if request.param == "staged":
        monkeypatch.setattr(readings_pg, "STAGE_ROWS", 1)
    return str(request.param)


def raw(rows: list[tuple[str, float, float]]) -> RawReadings:
    """Readings from (meter, slots after T0, value)."""
    return RawReadings.from_codes(
        [m for m, _, _ in rows], [T0 + round(s * Q) for _, s, _ in rows], [v for _, _, v in rows]
    )


def ingest(
    engine: Engine, settings: Settings, rows: list[tuple[str, float, float]], **kwargs: object
) -> BatchReport:
    return ingest_arrays(engine, raw(rows), settings, alerts=False, **kwargs)  # type: ignore[arg-type]


def stored(engine: Engine, code: str) -> list[tuple[int, float, float | None, int]]:
    """(slot after T0, quantity, counter, flags) of a meter's stored readings."""
    rows = stored_readings(engine, [code]).records()
    return [((t - T0) // Q, q, c, f) for _, t, q, c, f in rows]


def rollups(engine: Engine, code: str) -> list[tuple[date, float, int]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT d.day, d.quantity, d.intervals FROM daily_rollup d JOIN meter m "
                "ON m.id = d.meter_id WHERE m.code = :c ORDER BY d.day"
            ),
            {"c": code},
        ).all()
    return [(d if isinstance(d, date) else date.fromisoformat(d), q, n) for d, q, n in rows]


def test_accepted_readings_are_stored_and_reported(
    engine: Engine, settings: Settings, meters: dict[str, int]
) -> None:
    report = ingest(
        engine,
        settings,
        [("E1", 0, 1.5), ("E1", 1, 2.5), ("E1", 1, 2.5), ("E1", 2, -1.0), ("X9", 0, 1.0)],
        source="test",
    )
    assert (report.rows, report.accepted, report.duplicates) == (5, 2, 1)
    assert [str(r) for r in report.rejected] == [
        "row 4: quantity: negative (-1.0)",
        "row 5: meter: unknown meter 'X9'",
    ]
    assert stored(engine, "E1") == [(0, 1.5, None, 0), (1, 2.5, None, 0)]
    assert report.meter_ids == (meters["E1"],)
    assert (report.start_s, report.end_s) == (T0, T0 + 2 * Q)


def test_the_batch_and_its_full_report_are_recorded(
    engine: Engine, settings: Settings, meters: dict[str, int]
) -> None:
    report = ingest(
        engine, settings, [("E1", 0, 1.0), ("E1", 3, 1.0), ("E1", 0, 2.0)], source="gateway-7"
    )
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT source, rows, accepted, duplicates, rejected, report "
                "FROM ingest_batch WHERE id = :i"
            ),
            {"i": report.batch_id},
        ).one()
    assert row[:5] == ("gateway-7", 3, 1, 0, 2)
    body = row[5] if isinstance(row[5], dict) else __import__("json").loads(row[5])
    assert body["status"] == "complete"
    assert body["rejected"][0] == {
        "row": 1,
        "field": "duplicate",
        "reason": "conflicts with row 3 (1.0 vs 2.0)",
    }
    assert body["gaps"] == []
    assert np.unique(unpack_batch_ids(stored_days(engine))).tolist() == [report.batch_id]


def test_resending_a_batch_changes_nothing(
    engine: Engine, settings: Settings, meters: dict[str, int]
) -> None:
    rows = [("E1", s, 10.0 + s) for s in range(8)] + [("G1", s, 100.0 + 3 * s) for s in (1, 2, 4)]
    first = ingest(engine, settings, rows)
    before = stored(engine, "E1"), stored(engine, "G1"), rollups(engine, "E1")
    again = ingest(engine, settings, rows)
    assert (first.accepted, again.accepted, again.duplicates) == (11, 0, 11)
    assert again.rejected == ()
    assert (stored(engine, "E1"), stored(engine, "G1"), rollups(engine, "E1")) == before


def test_a_different_value_for_a_stored_interval_is_rejected_and_the_stored_one_kept(
    engine: Engine, settings: Settings, meters: dict[str, int]
) -> None:
    ingest(engine, settings, [("E1", 0, 12.5)])
    report = ingest(engine, settings, [("E1", 0, 13.0), ("E1", 1, 1.0)])
    assert [str(r) for r in report.rejected] == [
        "row 1: quantity: 13.0 conflicts with the stored value 12.5 for this interval"
    ]
    assert report.accepted == 1
    assert stored(engine, "E1") == [(0, 12.5, None, 0), (1, 1.0, None, 0)]


def test_daily_rollups_cut_local_days_and_count_received_intervals(
    engine: Engine, settings: Settings, meters: dict[str, int], write_route: str
) -> None:
    # T0 is local midnight (+08:00): slots 0..95 are 1 January, 96.. are 2 January
    ingest(engine, settings, [("E1", s, 1.0) for s in range(90)] + [("E1", 96, 7.0)])
    assert rollups(engine, "E1") == [(date(2024, 1, 1), 90.0, 90), (date(2024, 1, 2), 7.0, 1)]
    ingest(engine, settings, [("E1", s, 2.0) for s in range(90, 97)])  # 96 is a duplicate
    assert rollups(engine, "E1") == [(date(2024, 1, 1), 102.0, 96), (date(2024, 1, 2), 7.0, 1)]


def test_rollup_days_follow_the_configured_zone(
    engine: Engine, settings: Settings, meters: dict[str, int]
) -> None:
    utc = settings.with_overrides(timezone="UTC")  # T0 is 2023-12-31T16:00Z
    ingest(engine, utc, [("E1", s, 1.0) for s in range(40)])
    assert rollups(engine, "E1") == [(date(2023, 12, 31), 32.0, 32), (date(2024, 1, 1), 8.0, 8)]


def test_counters_continue_from_the_stored_reading_across_batches(
    engine: Engine, settings: Settings, meters: dict[str, int], write_route: str
) -> None:
    ingest(engine, settings, [("G1", 1, 100.0), ("G1", 2, 110.0)])
    report = ingest(engine, settings, [("G1", 3, 125.0), ("G1", 6, 155.0)])
    assert report.accepted == 2
    assert stored(engine, "G1") == [
        (0, 0.0, 100.0, ReadingFlag.ANCHOR),
        (1, 10.0, 110.0, 0),
        (2, 15.0, 125.0, 0),
        (5, 30.0, 155.0, ReadingFlag.SPANS_GAP),
    ]
    assert rollups(engine, "G1") == [(date(2024, 1, 1), 55.0, 3)]  # the anchor is not received


def test_rollover_and_reset_are_stored_with_their_flags(
    engine: Engine, settings: Settings, meters: dict[str, int]
) -> None:
    ingest(
        engine, settings, [("G1", 1, 999_990.0), ("G1", 2, 5.0), ("H1", 1, 50.0), ("H1", 2, 3.0)]
    )
    assert stored(engine, "G1")[1] == (1, 15.0, 5.0, ReadingFlag.COUNTER_ROLLOVER)
    assert stored(engine, "H1")[1] == (1, 3.0, 3.0, ReadingFlag.COUNTER_RESET)


def test_late_counter_readings_revise_the_stored_ones_so_totals_hold(
    engine: Engine, settings: Settings, meters: dict[str, int], write_route: str
) -> None:
    ingest(engine, settings, [("G1", 5, 150.0), ("G1", 9, 190.0)])  # anchor, then 40 over 4
    report = ingest(engine, settings, [("G1", 1, 100.0), ("G1", 6, 160.0), ("G1", 7, 165.0)])
    assert report.revised == 2  # the anchor at 5 and the reading at 9
    assert stored(engine, "G1") == [
        (0, 0.0, 100.0, ReadingFlag.ANCHOR),
        (4, 50.0, 150.0, ReadingFlag.SPANS_GAP),
        (5, 10.0, 160.0, 0),
        (6, 5.0, 165.0, 0),
        (8, 25.0, 190.0, ReadingFlag.SPANS_GAP),
    ]
    assert sum(q for _, q, _, _ in stored(engine, "G1")) == 190.0 - 100.0
    assert rollups(engine, "G1") == [(date(2024, 1, 1), 90.0, 4)]


def test_large_arrays_are_ingested_in_chunks_by_meter(
    engine: Engine, settings: Settings, meters: dict[str, int]
) -> None:
    rows = [("E1", s, 1.0) for s in range(50)] + [("G1", s + 1, 10.0 * s) for s in range(30)]
    rows += [("E1", 3, 2.0)]  # conflicts with slot 3 above: same chunk, so both are rejected
    report = ingest(engine, settings, rows, chunk_rows=20)
    assert (report.accepted, report.duplicates) == (49 + 30, 0)
    assert {r.row for r in report.rejected} == {4, 81}
    assert sum(q for _, q, _, _ in stored(engine, "G1")) == 290.0


def test_files_are_ingested_like_arrays(
    engine: Engine, settings: Settings, meters: dict[str, int], tmp_path: Path
) -> None:
    path = tmp_path / "readings.csv"
    path.write_text(
        "meter,timestamp,quantity\nE1,2024-01-01T00:00,1.5\n"
        "E1,2024-01-01T00:15:00+08:00,0.0025\nE1,yesterday,1\n"
    )
    report = ingest_readings(engine, path, settings, alerts=False)
    assert (report.rows, report.accepted, report.source) == (3, 2, str(path))
    assert [str(r) for r in report.rejected] == [
        "row 4: timestamp: 'yesterday' is not an ISO 8601 date and time"
    ]
    assert stored(engine, "E1") == [(0, 1.5, None, 0), (1, 0.0025, None, 0)]


def test_new_readings_are_handed_to_the_alert_rules(
    engine: Engine, settings: Settings, meters: dict[str, int]
) -> None:
    pytest.importorskip("finance_engine.services.alerts")
    report = ingest_arrays(engine, raw([("E1", s, 1.0) for s in range(4)]), settings)
    assert report.alerts is not None
    replay = ingest_arrays(engine, raw([("E1", s, 1.0) for s in range(4)]), settings)
    assert replay.alerts is None  # nothing new to evaluate
