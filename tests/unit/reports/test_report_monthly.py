"""Monthly emissions from per-meter monthly totals, against a hand calculation."""

from __future__ import annotations

from datetime import date

import pytest

from accounting.energy import EnergyType
from accounting.factors import FactorSet
from reports import MeterMonth, monthly_series
from reports.monthly import months_between

GRID_T_PER_KWH = 0.5306e-3  # CN-2023 national grid factor
GAS_T_PER_M3 = 389.31e-4 * 15.3e-3 * 0.99 * 44 / 12  # GB/T 32150 defaults


def test_months_between_spans_year_ends() -> None:
    assert months_between(date(2023, 11, 15), date(2024, 2, 1)) == [
        "2023-11",
        "2023-12",
        "2024-01",
        "2024-02",
    ]


def test_monthly_emissions_net_self_consumption_and_convert_units(cn2023: FactorSet) -> None:
    rows = [
        MeterMonth("2023-01", EnergyType.ELECTRICITY, 1000.0, "kWh"),
        MeterMonth("2023-01", EnergyType.NATURAL_GAS, 100.0, "m3"),
        MeterMonth("2023-02", EnergyType.ELECTRICITY, 2.0, "MWh"),
        MeterMonth("2023-02", EnergyType.RENEWABLE_SELF_CONSUMED, 300.0, "kWh"),
        MeterMonth("2023-05", EnergyType.ELECTRICITY, 50.0, "kWh"),  # outside the period
    ]
    series = monthly_series(
        rows,
        cn2023,
        period_start=date(2023, 1, 1),
        period_end=date(2023, 3, 31),
        declared_tco2e=12.5,
    )
    assert [m.month for m in series.months] == ["2023-01", "2023-02", "2023-03"]
    jan, feb, mar = (m.emissions_tco2e for m in series.months)
    assert jan == pytest.approx(1000 * GRID_T_PER_KWH + 100 * GAS_T_PER_M3, rel=1e-9)
    assert feb == pytest.approx((2000 - 300) * GRID_T_PER_KWH, rel=1e-9)
    assert mar == 0.0
    assert series.declared_tco2e == 12.5
    assert series.available


def test_steam_in_tonnes_uses_the_meter_enthalpy(cn2023: FactorSet) -> None:
    rows = [MeterMonth("2023-01", EnergyType.STEAM, 10.0, "t", steam_enthalpy_kj_per_kg=2800.0)]
    series = monthly_series(
        rows, cn2023, period_start=date(2023, 1, 1), period_end=date(2023, 1, 31)
    )
    # 10 t x (2800 - reference enthalpy) kJ/kg, at the heat factor 0.11 tCO2/GJ
    gj = 10.0 * (2800.0 - cn2023.steam_reference_enthalpy_kj_per_kg) * 1e-3
    assert series.months[0].emissions_tco2e == pytest.approx(gj * 0.11)


def test_no_metered_rows_means_no_monthly_trend(cn2023: FactorSet) -> None:
    series = monthly_series(
        [],
        cn2023,
        period_start=date(2023, 1, 1),
        period_end=date(2023, 12, 31),
        declared_tco2e=4638.99,
    )
    assert not series.available
    assert series.declared_tco2e == 4638.99
