"""Accounts of a period from stored rollups and activity, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from accounting.account import Period
from finance_engine.config import Settings
from finance_engine.db import unit_of_work
from finance_engine.models import CarbonAccount, FactorSetRecord
from finance_engine.services.accounts import compute_period_accounts, latest_account, list_accounts
from finance_engine.services.activity import store_activity
from finance_engine.services.reference import ReferenceDataError
from finance_engine.synth.metered_firms import add_metered_firm

YEAR = Period(date(2023, 1, 1), date(2023, 12, 31))
GRID_2023_T_PER_KWH = 0.5306e-3  # MEE 2023 national average, CN-2023
GAS_T_PER_M3 = 389.31e-4 * 15.3e-3 * 0.99 * 44 / 12  # GB/T 32150 defaults


def _firm(session: Session, n: int, kwh_per_day: float, days: int = 365) -> None:
    add_metered_firm(session, f"F{n:02d}", f"Firm {n}", kwh_per_day, days=days)


@pytest.fixture
def city(engine: Engine) -> Engine:
    """Six metered firms with 1..6 MWh a day, 1,000 (10k yuan) value added each."""
    with unit_of_work(engine) as session:
        for n in range(1, 7):
            _firm(session, n, kwh_per_day=1000.0 * n, days=365 if n != 6 else 300)
    records = [
        {
            "entity_id": f"F{n:02d}",
            "period": {"start": "2023-01-01", "end": "2023-12-31"},
            "value_added_10k_yuan": "1000.00",
            "declared_energy": [{"type": "natural_gas", "unit": "m3", "quantity": 10000 * n}],
        }
        for n in range(1, 7)
    ]
    report = store_activity(engine, records)
    assert report.stored == 6
    assert not report.rejected
    return engine


def test_emissions_equal_the_hand_calculation(city: Engine, settings: Settings) -> None:
    run = compute_period_accounts(city, settings, YEAR)
    assert run.stored == 6
    assert run.factor_set_version == "CN-2023"
    account = latest_account(city, "F02")
    assert account is not None
    expected = 2000.0 * 365 * GRID_2023_T_PER_KWH + 20000 * GAS_T_PER_M3
    assert account["emissions_tco2e"]["total"] == pytest.approx(expected, rel=1e-3)
    assert account["intensity"]["value"] == pytest.approx(expected / 1000.0, rel=1e-3)


def test_population_benchmark_is_the_median_and_grades_follow_k(
    city: Engine, settings: Settings
) -> None:
    compute_period_accounts(city, settings, YEAR)
    rows = {r["entity_id"]: r for r in list_accounts(city)}
    intensities = sorted(r["intensity"] for r in rows.values())
    median = (intensities[2] + intensities[3]) / 2
    firm1 = latest_account(city, "F01")
    assert firm1 is not None
    assert firm1["benchmark"]["value"] == pytest.approx(median)
    k1 = rows["F01"]["intensity"] / median
    assert firm1["grade"]["k"] == pytest.approx(k1)
    assert rows["F01"]["carbon_efficiency_grade"] == (1 if k1 <= 0.6 else 2)


def test_incomplete_meter_data_gives_a_provisional_grade(city: Engine, settings: Settings) -> None:
    compute_period_accounts(city, settings, YEAR)
    rows = {r["entity_id"]: r for r in list_accounts(city)}
    assert rows["F06"]["completeness"] == pytest.approx(300 / 365)
    assert rows["F06"]["provisional"] is True
    assert rows["F05"]["provisional"] is False


def test_recomputing_the_same_period_stores_nothing_new(city: Engine, settings: Settings) -> None:
    first = compute_period_accounts(city, settings, YEAR)
    again = compute_period_accounts(city, settings, YEAR)
    assert (again.stored, again.already_stored) == (0, 6)
    assert again.benchmark_version == first.benchmark_version
    with Session(city) as session:
        assert len(session.exec(select(CarbonAccount)).all()) == 6


def test_an_old_factor_set_is_recorded_and_reproduces_its_accounts(
    city: Engine, settings: Settings
) -> None:
    legacy = compute_period_accounts(city, settings, YEAR, factor_set="CN-LEGACY-0.5703")
    assert legacy.stored == 6
    with Session(city) as session:
        record = session.get(FactorSetRecord, "CN-LEGACY-0.5703")
        assert record is not None
    account = latest_account(city, "F01")
    assert account is not None
    assert account["factor_set"] == "CN-LEGACY-0.5703"
    expected = 1000.0 * 365 * 0.5703e-3 + 10000 * GAS_T_PER_M3
    assert account["emissions_tco2e"]["total"] == pytest.approx(expected, rel=1e-3)


def test_a_changed_factor_set_under_a_used_version_is_refused(
    city: Engine, settings: Settings
) -> None:
    compute_period_accounts(city, settings, YEAR)
    with unit_of_work(city) as session:
        record = session.get(FactorSetRecord, "CN-2023")
        assert record is not None
        record.sha256 = "0" * 64
        session.add(record)
    with pytest.raises(ReferenceDataError, match="publish it as a new version"):
        compute_period_accounts(city, settings, YEAR)


def test_entities_without_activity_are_skipped_with_a_reason(
    engine: Engine, settings: Settings
) -> None:
    with unit_of_work(engine) as session:
        _firm(session, 1, kwh_per_day=10.0)
    run = compute_period_accounts(engine, settings, YEAR)
    assert run.stored == 0
    assert run.skipped == [{"entity": "F01", "reason": "no activity data for the period"}]


def test_activity_records_are_validated_one_by_one(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        _firm(session, 1, kwh_per_day=10.0, days=1)
    good = {
        "entity_id": "F01",
        "period": {"start": "2023-01-01", "end": "2023-12-31"},
        "value_added_10k_yuan": "12.50",
    }
    report = store_activity(
        engine,
        [
            good,
            {"entity_id": "F01", "period": {"start": "2023-02-01"}},
            {**good, "entity_id": "NOPE"},
            good,
            {**good, "value_added_10k_yuan": "13"},
        ],
    )
    assert (report.stored, report.duplicates, report.replaced) == (1, 1, 0)
    errors = {r["record"]: r["error"] for r in report.rejected}
    assert "period.end" in errors[2]
    assert "unknown entity 'NOPE'" in errors[3]
    assert "--replace" in errors[5]
    fixed = store_activity(engine, [{**good, "value_added_10k_yuan": "13"}], replace=True)
    assert fixed.replaced == 1
    assert Decimal("13.00") == _stored_va(engine)


def _stored_va(engine: Engine) -> Decimal | None:
    from finance_engine.models import ActivityData

    with Session(engine) as session:
        return session.exec(select(ActivityData.value_added_10k_yuan)).one()
