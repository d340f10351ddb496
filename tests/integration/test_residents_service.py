"""Resident events and monthly accounts on SQLite and PostgreSQL, through the service and CLI."""

from __future__ import annotations

import json
import math
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click
import numpy as np
import pytest
from sqlalchemy import Engine, text

from accounting.factors import load_factor_set_dir
from accounting.residents import (
    calc_resident,
    compute_month,
    load_resident_tables,
    month_parameters,
)
from finance_engine.cli import residents as residents_cli
from finance_engine.cli.common import run_cli
from finance_engine.cli.residents import calc_summary_lines
from finance_engine.config import Settings
from finance_engine.services.residents import (
    ResidentAccountsError,
    compute_resident_months,
    ingest_resident_arrays,
    ingest_resident_file,
)
from finance_engine.services.residents_view import resident_view
from finance_engine.synth.residents import bad_events, build_residents

NOW = datetime(2025, 1, 1, tzinfo=UTC)
HEADER = "event_id,resident_id,occurred_at,behaviour,quantity,unit\n"


def stored(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def test_ingest_is_idempotent_and_conflicts_are_rejected(
    engine: Engine, settings: Settings
) -> None:
    month = build_residents(seed=3, scale=0.0002, year=2024).month_events(1)
    first = ingest_resident_arrays(engine, month.to_raw(), settings, now=NOW, chunk_rows=3000)
    assert (first.rows, first.accepted, first.duplicates, first.rejected) == (
        len(month),
        len(month),
        0,
        (),
    )
    assert first.months == {202401: len(month)}
    replay = ingest_resident_arrays(engine, month.to_raw(), settings, now=NOW)
    assert (replay.accepted, replay.duplicates, replay.rejected, replay.months) == (
        0,
        len(month),
        (),
        {},
    )
    bad = ingest_resident_arrays(engine, bad_events(month, int(NOW.timestamp())), settings, now=NOW)
    assert (bad.accepted, bad.duplicates) == (0, 1)
    assert [(r.row, r.field) for r in bad.rejected] == [
        (1, "behaviour"),
        (2, "quantity"),
        (3, "quantity"),
        (4, "occurred_at"),
        (6, "event_id"),
    ]
    conflict = month.to_raw()
    conflict.quantity[:1] += 1  # stored event 1 with a different quantity
    again = ingest_resident_arrays(engine, conflict, settings, now=NOW)
    assert again.duplicates == len(month) - 1
    assert [(r.row, r.field) for r in again.rejected] == [(1, "event_id")]
    assert "is stored with different content" in again.rejected[0].reason
    assert stored(engine, "SELECT count(*) FROM resident_event") == [(len(month),)]


def test_file_rows_are_rejected_with_line_numbers(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        HEADER
        + "1,10,2024-05-02T08:00:00,bus_ride,1,trip\n"
        + "x,10,2024-05-02T08:00:00,bus_ride,1,trip\n"
        + "3,10,2024-05-40T08:00:00,bus_ride,1,trip\n"
        + "4,10,2024-05-02T08:00:00,bus_ride,lots,trip\n"
        + "5,10,2024-05-02T09:00:00+08:00,metro_ride,2,\n"
        + "6,11,2024-05-31 23:00,electricity_saved,0.05,MWh\n"
    )
    report = ingest_resident_file(engine, path, settings, now=NOW)
    assert (report.rows, report.accepted) == (6, 3)
    assert [(r.row, r.field) for r in report.rejected] == [
        (3, "event_id"),
        (4, "occurred_at"),
        (5, "quantity"),
    ]
    assert stored(
        engine, "SELECT event_id, behaviour, quantity FROM resident_event ORDER BY event_id"
    ) == [(1, 1, 1.0), (5, 2, 2.0), (6, 8, 50.0)]
    doc = {
        "events": [
            {
                "event_id": 7,
                "resident_id": 12,
                "occurred_at": "2024-05-03T10:00:00",
                "behaviour": "e_statement",
                "quantity": 1,
            },
            {
                "event_id": 1,
                "resident_id": 10,
                "occurred_at": "2024-05-02T08:00:00",
                "behaviour": "bus_ride",
                "quantity": 1,
            },
        ]
    }
    (tmp_path / "events.json").write_text(json.dumps(doc))
    report = ingest_resident_file(engine, tmp_path / "events.json", settings, now=NOW)
    assert (report.accepted, report.duplicates, report.rejected) == (1, 1, ())


def test_month_rows_equal_the_sums_of_stored_events(engine: Engine, settings: Settings) -> None:
    residents = build_residents(seed=5, scale=0.0005, year=2024)
    months = [residents.month_events(m) for m in (1, 2)]
    for month in months:
        ingest_resident_arrays(engine, month.to_raw(), settings, now=NOW)
    runs = compute_resident_months(engine, settings, [202401, 202402], now=NOW)
    assert [r.month for r in runs] == [202401, 202402]
    tables, sets = load_resident_tables(), load_factor_set_dir()
    n = residents.n_residents
    points, grams = np.zeros(n, np.int64), np.zeros(n)
    for key, month in zip((202401, 202402), months, strict=True):
        first = date(2024, key % 100, 1)
        acc = compute_month(
            month.events,
            n,
            month_parameters(tables, sets.effective_on(first), first),
            points,
            grams,
        )
        points, grams = acc.cumulative_points, acc.cumulative_reduction_g
        rows = stored(
            engine,
            f"SELECT resident_id, reduction_g, points, cumulative_points, "
            f"level FROM resident_month WHERE month = {key} ORDER BY resident_id",
        )
        ids = np.array([r[0] for r in rows]) - 1
        assert np.allclose([r[1] for r in rows], acc.reduction_g[ids])
        assert [r[2] for r in rows] == acc.points[ids].tolist()
        assert [r[3] for r in rows] == acc.cumulative_points[ids].tolist()
        assert [r[4] for r in rows] == acc.level[ids].tolist()
        assert math.isclose(
            sum(r[1] for r in rows),
            float((month.events.quantity * acc.params.g_per_unit[month.events.behaviour]).sum()),
        )


def test_months_are_computed_in_order_and_late_events_cascade(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "e.csv"
    path.write_text(
        HEADER
        + "1,10,2024-01-05T08:00:00,bus_ride,1,trip\n"
        + "2,10,2024-02-05T08:00:00,bus_ride,1,trip\n"
    )
    ingest_resident_file(engine, path, settings, now=NOW)
    with pytest.raises(ResidentAccountsError, match="compute 2024-01 first"):
        compute_resident_months(engine, settings, [202402], now=NOW)
    compute_resident_months(engine, settings, [202401, 202402, 202403], now=NOW)
    path.write_text(HEADER + "3,10,2024-01-06T08:00:00,e_statement,1,statement\n")
    report = ingest_resident_file(engine, path, settings, now=NOW)
    assert report.months == {202401: 1}
    runs = compute_resident_months(engine, settings, [202401], now=NOW)
    assert [r.month for r in runs] == [202401, 202402, 202403]  # later months recomputed
    view = resident_view(engine, settings, 10)
    bus = 368.557
    assert [m["points"] for m in view.months] == [math.floor(bus + 67), math.floor(bus), 0]
    assert view.cumulative_points == sum(m["points"] for m in view.months)
    assert (view.level, view.events, view.events_not_accounted) == (1, 3, 0)
    assert view.next_level == {
        "level": 2,
        "name": "seedling",
        "min_points": 2000,
        "points_to_go": 2000 - view.cumulative_points,
    }
    with pytest.raises(LookupError):
        resident_view(engine, settings, 99)


@pytest.fixture
def cli(
    engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> click.Group:
    monkeypatch.setenv("FINANCE_ENGINE_DATABASE_URL", db_url)
    monkeypatch.setenv("FINANCE_ENGINE_INSTANCE_PATH", str(tmp_path / "instance"))
    group = click.Group("finance-engine")
    residents_cli.register(group)
    return group


def test_cli_ingest_compute_show(
    cli: click.Group, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "e.csv"
    path.write_text(
        HEADER
        + "1,10,2024-05-02T08:00:00,bus_ride,1,trip\n"
        + "2,10,2024-05-02T09:00:00,bus_ride,-1,trip\n"
    )
    assert run_cli(cli, ["residents", "ingest", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["accepted"], report["rejected"]) == (
        1,
        [{"row": 3, "field": "quantity", "reason": "must be positive"}],
    )
    assert run_cli(cli, ["residents", "ingest", str(path)]) == 0
    assert "duplicates             1" in capsys.readouterr().out
    assert run_cli(cli, ["residents", "compute", "--year", "2024", "--json"]) == 0
    months = json.loads(capsys.readouterr().out)["months"]
    assert [m["month"] for m in months][:5] == [202401, 202402, 202403, 202404, 202405]
    assert months[4]["points"] == 368
    assert run_cli(cli, ["residents", "show", "10"]) == 0
    assert "level 1 sprout" in capsys.readouterr().out
    assert run_cli(cli, ["residents", "show", "10", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["cumulative_points"] == 368
    assert run_cli(cli, ["residents", "compute", "--month", "2024-13"]) == 2
    assert "--month: '2024-13' is not a month" in capsys.readouterr().err
    assert run_cli(cli, ["residents", "show", "77"]) == 2
    assert "resident 77: no events and no accounts" in capsys.readouterr().err


def test_calc_summary_renders_the_example() -> None:
    example = Path(__file__).parents[2] / "examples" / "resident.json"
    lines = calc_summary_lines(calc_resident(json.loads(example.read_text(encoding="utf-8"))))
    assert lines[1].startswith("level 3 sapling, 42,188 points cumulative")
    assert lines[4].split() == ["2024-06", "2", "2,579.9", "2,211", "42,188", "3"]


def test_concurrent_ingests_of_the_same_events_store_each_once(
    engine: Engine, settings: Settings
) -> None:
    month = build_residents(seed=4, scale=0.0002, year=2024).month_events(6)
    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(
            pool.map(
                lambda _: ingest_resident_arrays(
                    engine, month.to_raw(), settings, now=NOW, chunk_rows=1000
                ),
                range(2),
            )
        )
    assert sum(r.accepted for r in reports) == len(month)
    assert sum(r.duplicates for r in reports) == len(month)
    assert all(r.rejected == () for r in reports)
    assert stored(engine, "SELECT count(*) FROM resident_event") == [(len(month),)]
