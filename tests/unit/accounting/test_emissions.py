"""Emissions: hand calculations from the factor table, electricity netting, batch = scalar."""

from __future__ import annotations

import numpy as np
import pytest

from accounting.emissions import (
    COLUMN_INDEX,
    EMISSION_COLUMNS,
    EnergyTotal,
    accounting_quantities,
    compute_emissions,
    emissions_batch,
    emissions_by_meter,
    factor_matrix,
    factor_vector,
    intensity,
    quantity_vector,
    to_accounting_quantity,
)
from accounting.energy import EnergyType as E
from accounting.factors import FactorSet

REL = 1e-3  # the acceptance criterion: within 0.1 % of the hand calculation

# Hand calculations under CN-2023 (national grid 0.5306 tCO2/MWh), GB/T 32150 defaults:
COAL_1000_T = 1000 * 20.908 * 26.37e-3 * 0.94 * 44 / 12  # = 1,900.2988 tCO2
GAS_50_10K_M3 = 50 * 389.31 * 15.3e-3 * 0.99 * 44 / 12  # 500,000 m3 = 1,081.0944 tCO2
ELEC_1800_MWH = 1800 * 0.5306  # 2,000 MWh consumed - 200 MWh own PV = 955.08 tCO2
HEAT_1000_GJ = 1000 * 0.11  # = 110 tCO2
STEAM_2000_T = 2000 * (2777 - 83.74) * 1e-3 * 0.11  # 5,386.52 GJ = 592.5172 tCO2


def _firm() -> list[EnergyTotal]:
    return [
        EnergyTotal(E.ELECTRICITY, 2_000_000, "kWh", "E-main"),
        EnergyTotal(E.RENEWABLE_SELF_CONSUMED, 200_000, "kWh", "PV"),
        EnergyTotal(E.RENEWABLE_EXPORTED, 50_000, "kWh", "PV-export"),
        EnergyTotal(E.NATURAL_GAS, 50, "10^4 m3", "G1"),
        EnergyTotal(E.RAW_COAL, 1000, "t"),
        EnergyTotal(E.HEAT, 1000, "GJ", "H1"),
        EnergyTotal(E.STEAM, 2000, "t", "S1"),
    ]


def test_a_firm_gets_the_emissions_of_the_hand_calculation(cn2023: FactorSet) -> None:
    quantities = accounting_quantities(_firm(), cn2023)
    result = compute_emissions(quantities, cn2023)
    assert result.by_energy_tco2e["raw_coal"] == pytest.approx(COAL_1000_T, rel=REL)
    assert result.by_energy_tco2e["raw_coal"] == pytest.approx(1900.30, rel=REL)
    assert result.by_energy_tco2e["natural_gas"] == pytest.approx(1081.09, rel=REL)
    assert result.by_energy_tco2e["electricity"] == pytest.approx(955.08, rel=REL)
    assert result.by_energy_tco2e["heat"] == pytest.approx(HEAT_1000_GJ, rel=REL)
    assert result.by_energy_tco2e["steam"] == pytest.approx(592.52, rel=REL)
    assert result.scope1_tco2e == pytest.approx(COAL_1000_T + GAS_50_10K_M3, rel=REL)
    assert result.scope2_tco2e == pytest.approx(
        ELEC_1800_MWH + HEAT_1000_GJ + STEAM_2000_T, rel=REL
    )
    assert result.total_tco2e == pytest.approx(4638.99, rel=REL)
    assert result.purchased_electricity_kwh == 1_800_000
    assert "renewable_exported" not in result.by_energy_tco2e


def test_factors_used_are_recorded_per_type_present(cn2023: FactorSet) -> None:
    result = compute_emissions(accounting_quantities(_firm(), cn2023), cn2023)
    used = {f.energy_type: f for f in result.factors_used}
    assert set(used) == {
        "electricity",
        "renewable_self_consumed",
        "renewable_exported",
        "natural_gas",
        "raw_coal",
        "heat",
        "steam",
    }
    assert (used["electricity"].value, used["electricity"].unit) == (0.5306e-3, "tCO2/kWh")
    assert used["steam"].unit == "tCO2/GJ"
    assert used["renewable_self_consumed"].value == 0.0
    assert "163.com" in used["electricity"].source


def test_steam_tonnes_use_the_meter_enthalpy_when_given(cn2023: FactorSet) -> None:
    total = EnergyTotal(E.STEAM, 100, "t", "S", steam_enthalpy_kj_per_kg=3000.0)
    # 100 t x (3000 - 83.74) kJ/kg x 1e-3 = 291.626 GJ
    assert to_accounting_quantity(total, cn2023) == pytest.approx(291.626, rel=1e-12)
    assert to_accounting_quantity(EnergyTotal(E.STEAM, 291.626, "GJ"), cn2023) == 291.626
    with pytest.raises(ValueError, match="unit 'kg' is not valid for steam"):
        to_accounting_quantity(EnergyTotal(E.STEAM, 1, "kg"), cn2023)


def test_self_consumed_above_consumption_purchases_nothing(cn2023: FactorSet) -> None:
    result = compute_emissions({E.ELECTRICITY: 1000.0, E.RENEWABLE_SELF_CONSUMED: 1500.0}, cn2023)
    assert (result.purchased_electricity_kwh, result.total_tco2e) == (0.0, 0.0)


def test_grid_region_changes_only_electricity(cn2023: FactorSet) -> None:
    quantities = {E.ELECTRICITY: 1_000_000.0, E.RAW_COAL: 10.0}
    east = compute_emissions(quantities, cn2023, "east_china")
    national = compute_emissions(quantities, cn2023, "")
    assert east.by_energy_tco2e["electricity"] == pytest.approx(1000 * 0.5500, rel=1e-12)
    assert national.by_energy_tco2e["electricity"] == pytest.approx(1000 * 0.5306, rel=1e-12)
    assert east.scope1_tco2e == national.scope1_tco2e


def test_batch_equals_scalar_on_many_entities(cn2023: FactorSet) -> None:
    rng = np.random.default_rng(7)
    n = 300
    quantities = rng.uniform(0, 1e4, size=(n, len(EMISSION_COLUMNS)))
    quantities[rng.random((n, len(EMISSION_COLUMNS))) < 0.3] = 0.0
    regions = rng.choice(["national", "east_china", "fossil_only"], n).tolist()
    batch = emissions_batch(quantities, factor_matrix(cn2023, regions))
    for j in range(n):
        scalar = compute_emissions(
            {t: float(quantities[j, COLUMN_INDEX[t]]) for t in EMISSION_COLUMNS}, cn2023, regions[j]
        )
        assert batch.total_tco2e[j] == pytest.approx(scalar.total_tco2e, rel=1e-12, abs=1e-9)
        assert batch.scope1_tco2e[j] == pytest.approx(scalar.scope1_tco2e, rel=1e-12, abs=1e-9)
        assert batch.scope2_tco2e[j] == pytest.approx(scalar.scope2_tco2e, rel=1e-12, abs=1e-9)
        for name, value in scalar.by_energy_tco2e.items():
            assert batch.by_type_tco2e[j, COLUMN_INDEX[E(name)]] == pytest.approx(value, rel=1e-12)


def test_batch_accepts_one_factor_vector_for_all(cn2023: FactorSet) -> None:
    row = quantity_vector({E.RAW_COAL: 1000.0, E.ELECTRICITY: 1_000_000.0})
    factors, _ = factor_vector(cn2023)
    batch = emissions_batch(np.stack([row, 2 * row]), factors)
    assert batch.total_tco2e == pytest.approx([COAL_1000_T + 530.6, 2 * (COAL_1000_T + 530.6)])
    with pytest.raises(ValueError, match="quantities must have shape"):
        emissions_batch(np.zeros((2, 3)), factors)


def test_meters_share_the_renewable_deduction_and_sum_to_the_entity(cn2023: FactorSet) -> None:
    totals = [
        EnergyTotal(E.ELECTRICITY, 600_000, "kWh", "E-A"),
        EnergyTotal(E.ELECTRICITY, 400_000, "kWh", "E-B"),
        EnergyTotal(E.RENEWABLE_SELF_CONSUMED, 100_000, "kWh", "PV"),
        EnergyTotal(E.RAW_COAL, 1000, "t"),  # declared total: no meter
        EnergyTotal(E.STEAM, 2000, "t", "S1"),
    ]
    by_meter = emissions_by_meter(totals, cn2023)
    # purchased = 900 MWh of 1,000 MWh consumed: each meter keeps 90 % of its consumption
    assert by_meter["E-A"] == pytest.approx(600 * 0.9 * 0.5306, rel=1e-12)
    assert by_meter["E-B"] == pytest.approx(400 * 0.9 * 0.5306, rel=1e-12)
    assert by_meter["PV"] == 0.0
    assert by_meter["S1"] == pytest.approx(STEAM_2000_T, rel=1e-12)
    assert "raw_coal" not in by_meter
    assert len(by_meter) == 4
    entity = compute_emissions(accounting_quantities(totals, cn2023), cn2023)
    metered_total = entity.total_tco2e - entity.by_energy_tco2e["raw_coal"]
    assert sum(by_meter.values()) == pytest.approx(metered_total, rel=1e-12)


def test_intensity_is_nan_without_a_positive_denominator() -> None:
    out = intensity(np.array([10.0, 10.0, 10.0, 10.0]), np.array([4.0, 0.0, -1.0, np.nan]))
    assert out[0] == 2.5
    assert np.isnan(out[1:]).all()
