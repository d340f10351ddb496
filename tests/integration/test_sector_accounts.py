"""Building, transport and farm accounts computed, graded and stored from stored data, on SQLite
and PostgreSQL: hand calculations, benchmark files and population fill-in, skipped records, and
the demo's synthetic sectors end to end."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from accounting.account import Period
from accounting.sector_lines import DEFAULT_SECTOR_DIR
from finance_engine.config import Settings
from finance_engine.db import unit_of_work
from finance_engine.models import CarbonAccount, DailyRollup, Entity, Meter
from finance_engine.services.accounts import compute_period_accounts, latest_account
from finance_engine.services.activity import store_activity
from finance_engine.services.demo_sectors import add_sector_accounts
from finance_engine.synth import sector_plans

YEAR = Period(date(2023, 1, 1), date(2023, 12, 31))
PERIOD = {"start": "2023-01-01", "end": "2023-12-31"}
GRID_2023_T_PER_KWH = 0.5306e-3
DIESEL_T_PER_T = 42.652 * 20.2e-3 * 0.98 * 44 / 12
DESIGN = str(DEFAULT_SECTOR_DIR / "benchmarks-design-v1.json")


def _entity(session: Session, eid: str, sector: str, code: str, region: str = "Kecheng") -> None:
    session.add(Entity(id=eid, name=eid, sector=sector, industry_code=code, region=region))
    session.flush()


def _metered_building(session: Session, kwh_per_day: float) -> None:
    _entity(session, "B1", "building", "office")
    meter = Meter(code="B1-EL1", entity_id="B1", energy_type="electricity", unit="kWh")
    session.add(meter)
    session.flush()
    assert meter.id is not None
    session.add_all(
        DailyRollup(meter_id=meter.id, day=YEAR.start + timedelta(days=d), quantity=kwh_per_day,
                    intervals=96)
        for d in range(365)
    )  # fmt: skip


def _freight(n: int) -> dict[str, Any]:
    return {
        "entity_id": f"T{n}",
        "period": PERIOD,
        "declared_energy": [{"type": "diesel", "unit": "t", "quantity": 100.0 * n}],
        "transport": {
            "service": "freight",
            "fleet": [{"vehicle_type": "heavy_truck", "fuel": "diesel", "count": 10}],
            "freight_tkm": 5_000_000.0,
        },
    }


@pytest.fixture
def stored(engine: Engine) -> Engine:
    """A metered office, five freight firms and a pig farm with their activity records."""
    with unit_of_work(engine) as session:
        _metered_building(session, kwh_per_day=2000.0)
        for n in range(1, 6):
            _entity(session, f"T{n}", "transport", "G5431")
        _entity(session, "P1", "agriculture", "A0313", "Longyou")
    records = [
        {
            "entity_id": "B1",
            "period": PERIOD,
            "building": {
                "type": "office",
                "floor_area_m2": 10_000,
                "climate_region": "hot_summer_cold_winter",
                "hdd": 1500.0,
                "cdd": 200.0,
            },
        },
        *(_freight(n) for n in range(1, 6)),
        {
            "entity_id": "P1",
            "period": PERIOD,
            "output_value_10k_yuan": "800.00",
            "declared_energy": [{"type": "electricity", "unit": "kWh", "quantity": 100_000}],
            "agriculture": {"livestock": {"pig": 2000}, "forest_ha": 20.0},
        },
    ]
    report = store_activity(engine, records)
    assert report.rejected == []
    assert report.stored == 7
    return engine


def test_sector_accounts_are_hand_calculated_and_graded_against_a_file(
    stored: Engine, settings: Settings
) -> None:
    run = compute_period_accounts(stored, settings, YEAR, benchmark=DESIGN)
    assert run.stored == 7
    assert run.skipped == []
    building = latest_account(stored, "B1")
    assert building is not None
    energy = 2000 * 365 * GRID_2023_T_PER_KWH
    w = 1 - 0.15 - 0.25 + 0.15 * 1450 / 1500 + 0.25 * 240 / 200  # office shares, reference year
    assert building["intensity"]["value"] == pytest.approx(energy * w * 1000 / 10_000, rel=1e-9)
    assert building["grade"]["k"] == pytest.approx(building["intensity"]["value"] / 60.0)
    assert building["data_quality"]["metered"] is True
    freight = latest_account(stored, "T3")
    assert freight is not None
    per_100_tkm = 300 * DIESEL_T_PER_T * 1e5 / 5e6
    assert freight["intensity"]["value"] == pytest.approx(per_100_tkm, rel=1e-9)
    assert freight["grade"]["k"] == pytest.approx(per_100_tkm / 8.0)
    farm = latest_account(stored, "P1")
    assert farm is not None
    gross = 2000 * 27 / 1000 + 100_000 * GRID_2023_T_PER_KWH
    assert farm["emissions_tco2e"]["total"] == pytest.approx(gross, rel=1e-9)
    assert farm["emissions_tco2e"]["net"] == pytest.approx(gross - 20 * 4.0, rel=1e-9)
    assert farm["sector"]["labels"] == []
    assert farm["intensity"]["value"] == pytest.approx(gross / 2000)
    assert run.labels == {}
    assert set(run.grades) == {"agriculture", "building", "transport"}


def test_sectors_missing_from_a_benchmark_file_use_the_population(
    stored: Engine, settings: Settings, tmp_path: Path
) -> None:
    industry_only = tmp_path / "industry.json"
    industry_only.write_text(
        json.dumps(
            {
                "version": "IND-ONLY", "method": "published", "percentile": 50.0,
                "period": "2023", "min_n": 1, "source": "test",
                "values": [
                    {"sector": "industry", "industry_code": "C3011", "region": "*",
                     "metric": "tco2_per_10k_yuan_value_added", "value": 5.0, "n": None,
                     "source": "test"}
                ],
            }
        ),
        encoding="utf-8",
    )  # fmt: skip
    run = compute_period_accounts(stored, settings, YEAR, benchmark=str(industry_only))
    assert run.benchmark_version.startswith("IND-ONLY+POP-")
    median = 300 * DIESEL_T_PER_T * 1e5 / 5e6  # the middle of five freight firms
    for n in range(1, 6):
        account = latest_account(stored, f"T{n}")
        assert account is not None
        assert account["benchmark"]["value"] == pytest.approx(median, rel=1e-9)
        assert account["grade"]["k"] == pytest.approx(n / 3, rel=1e-9)
    assert run.grades["transport"] == {"1": 1, "2": 1, "3": 1, "4": 2}  # K = 1/3 ... 5/3
    # fewer than five buildings and farms: no population benchmark, so no grade is invented
    assert run.grades["building"] == {"none": 1}
    again = compute_period_accounts(stored, settings, YEAR, benchmark=str(industry_only))
    assert (again.stored, again.already_stored) == (0, 7)
    assert again.benchmark_version == run.benchmark_version


def test_records_without_a_usable_section_are_skipped_with_the_reason(
    engine: Engine, settings: Settings
) -> None:
    with unit_of_work(engine) as session:
        _entity(session, "B2", "building", "hotel")
        _entity(session, "T9", "transport", "G5431")
    records = [
        {"entity_id": "B2", "period": PERIOD,
         "declared_energy": [{"type": "electricity", "unit": "kWh", "quantity": 1000}]},
        {**_freight(9), "declared_energy": [{"type": "lng", "unit": "t", "quantity": 1.0}]},
    ]  # fmt: skip
    assert store_activity(engine, records).rejected == []
    run = compute_period_accounts(engine, settings, YEAR)
    reasons = {s["entity"]: s["reason"] for s in run.skipped}
    assert reasons["B2"] == "no building section in the activity data"
    assert "transport.fleet[0].fuel: diesel vehicles but no diesel" in reasons["T9"]
    assert run.stored == 0


def test_an_activity_record_with_a_bad_section_is_rejected_naming_the_field(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        _entity(session, "B3", "building", "school")
    record = {"entity_id": "B3", "period": PERIOD, "building": {"type": "school"}}
    report = store_activity(engine, [record])
    assert report.stored == 0
    assert "building.floor_area_m2: required for a building account" in report.rejected[0]["error"]


def test_demo_sectors_end_to_end(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sector_plans, "METERED_BUILDING_SHARE", 0.1)  # keep the ingest small
    summary = add_sector_accounts(engine, settings, seed=7, scale=0.02, year=2024)
    assert {k: v["entities"] for k, v in summary.items()} == {
        "agriculture": 25, "building": 35, "transport": 10,
    }  # fmt: skip
    meters = summary["building"]["meters"]
    assert meters > 0
    assert summary["building"]["accepted"] == summary["building"]["readings"] == meters * 366 * 96
    year = Period(date(2024, 1, 1), date(2024, 12, 31))
    run = compute_period_accounts(engine, settings, year)
    assert run.skipped == []
    for sector in ("building", "transport", "agriculture"):
        assert set(run.grades[sector]) == {"1", "2", "3", "4", "5"}, sector
        assert set(run.colours[sector]) == {"dark_green", "light_green", "yellow", "red"}, sector
    with Session(engine) as session:
        metered = session.exec(
            select(CarbonAccount).where(col(CarbonAccount.entity_id).startswith("BLD-"))
        ).all()
    assert sum(a.result["data_quality"]["metered"] for a in metered) > 0
    again = add_sector_accounts(engine, settings, seed=7, scale=0.02, year=2024)
    assert again["building"]["accepted"] == 0
    assert all(v["activity_stored"] == 0 for v in again.values())
