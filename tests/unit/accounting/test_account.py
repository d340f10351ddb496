"""Accounts: industrial and energy-producer accounts end to end, batch = single, reproduction."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal

import numpy as np
import pytest

from accounting.account import (
    AccountInput,
    Activity,
    BenchmarkRef,
    EntityRef,
    Period,
    Product,
    account_to_dict,
    compute_account,
    compute_accounts,
)
from accounting.benchmarks import compute_benchmarks
from accounting.emissions import EnergyTotal
from accounting.energy import EnergyType as E
from accounting.factors import FactorSet, factor_set_from_content, load_factor_set_dir
from accounting.grading import GradingConfig
from accounting.vocab import CarbonLabel, Colour, Sector

REL = 1e-3
YEAR_2023 = Period(date(2023, 1, 1), date(2023, 12, 31))

# Hand calculation under CN-2023 (see test_emissions.py for each line):
#   coal 1000 t: 1000 x 20.908 x 26.37e-3 x 0.94 x 44/12         = 1,900.2988
#   gas 500,000 m3: 50 x 389.31 x 15.3e-3 x 0.99 x 44/12          = 1,081.0944
#   electricity (2,000 - 200 MWh PV): 1,800 x 0.5306               =   955.0800
#   heat 1,000 GJ x 0.11                                           =   110.0000
#   steam 2,000 t x (2777 - 83.74) x 1e-3 GJ/t x 0.11             =   592.5172
TOTAL_TCO2E = 1900.2988 + 1081.0944 + 955.08 + 110.0 + 592.5172  # = 4,638.9904


def _firm(**overrides: object) -> AccountInput:
    values: dict[str, object] = {
        "entity": EntityRef("F001", "Kecheng Cement", Sector.INDUSTRY, "C30", "kecheng"),
        "period": YEAR_2023,
        "energy": (
            EnergyTotal(E.ELECTRICITY, 2_000_000, "kWh", "E1"),
            EnergyTotal(E.RENEWABLE_SELF_CONSUMED, 200_000, "kWh", "PV1"),
            EnergyTotal(E.NATURAL_GAS, 500_000, "m3", "G1"),
            EnergyTotal(E.RAW_COAL, 1000, "t"),
            EnergyTotal(E.HEAT, 1000, "GJ", "H1"),
            EnergyTotal(E.STEAM, 2000, "t", "S1"),
        ),
        "activity": Activity(
            value_added_10k_yuan=Decimal("5000.00"),
            output_value_10k_yuan=Decimal("20000.00"),
            products=(Product("clinker", "t", 100_000),),
        ),
        "benchmark": BenchmarkRef(1.0, "test-bm", "hand-set benchmark"),
    }
    values.update(overrides)
    return AccountInput(**values)  # type: ignore[arg-type]


def test_industrial_account_matches_the_hand_calculation(
    cn2023: FactorSet, rules: GradingConfig
) -> None:
    account = compute_account(_firm(), cn2023, rules)
    assert account.emissions.total_tco2e == pytest.approx(TOTAL_TCO2E, rel=REL)
    assert account.emissions.scope1_tco2e == pytest.approx(1900.2988 + 1081.0944, rel=REL)
    assert account.emissions.scope2_tco2e == pytest.approx(955.08 + 110 + 592.5172, rel=REL)
    intensity = account.intensity
    assert intensity.primary.metric == "tco2_per_10k_yuan_value_added"
    assert intensity.primary.value == pytest.approx(TOTAL_TCO2E / 5000, rel=REL)  # 0.9278
    assert intensity.get("tco2_per_10k_yuan_output_value").value == pytest.approx(  # type: ignore[union-attr]
        TOTAL_TCO2E / 20000, rel=REL
    )
    clinker = intensity.get("tco2_per_product:clinker")
    assert clinker is not None
    assert clinker.unit == "tCO2/t"
    assert clinker.value == pytest.approx(TOTAL_TCO2E / 100_000, rel=REL)
    # K = 0.9278 / 1.0: grade 3; 0.9278 t/10k yuan: medium carbon
    assert account.grade.carbon_efficiency == 3
    assert account.grade.carbon_label is CarbonLabel.MEDIUM
    assert account.factor_set_version == "CN-2023"
    assert account.grading_version == "ZJ-QZ-v1"
    assert account.emissions_by_meter_tco2e["E1"] == pytest.approx(955.08, rel=REL)
    assert account.energy_quantities["steam"] == pytest.approx(5386.52, rel=1e-9)  # GJ


@pytest.mark.parametrize(("k", "grade"), [(0.6, 1), (0.8, 2), (1.2, 3), (2.0, 4), (2.0001, 5)])
def test_account_grade_at_each_k_boundary(
    cn2023: FactorSet, rules: GradingConfig, k: float, grade: int
) -> None:
    firm = _firm(energy=(EnergyTotal(E.RAW_COAL, 1000, "t"),), activity=Activity(Decimal("1000")))
    intensity = compute_account(firm, cn2023, rules).intensity.primary.value
    assert intensity is not None
    assert intensity == pytest.approx(1.9003, rel=1e-4)  # 1,900.30 tCO2 / 1,000 (10k yuan)
    benchmark = intensity / k
    while intensity / benchmark > k:  # land on the boundary, never a rounding step above it
        benchmark = float(np.nextafter(benchmark, np.inf))
    account = compute_account(
        replace(firm, benchmark=BenchmarkRef(benchmark, "test", "K set by the test")), cn2023, rules
    )
    assert account.grade.k == pytest.approx(k, rel=1e-15)
    assert account.grade.carbon_efficiency == grade


def test_without_benchmark_no_carbon_efficiency_grade(
    cn2023: FactorSet, rules: GradingConfig
) -> None:
    account = compute_account(_firm(benchmark=None), cn2023, rules)
    assert account.grade.carbon_efficiency is None
    assert account.benchmark is None
    assert account.grade.reasons[0].code == "NO_BENCHMARK"


@pytest.mark.parametrize(
    ("activity", "metric", "expected"),
    [
        # 100,000 t coal = 190,029.88 tCO2 over 200,000 MWh supplied
        (Activity(electricity_supplied_mwh=200_000), "tco2_per_mwh_supplied", 190_029.88 / 200_000),
        # over 540,000 GJ of heat supplied
        (Activity(heat_supplied_gj=540_000), "tco2_per_gj_heat_supplied", 190_029.88 / 540_000),
        # combined: 150,000 MWh + 360,000 GJ / 3.6 = 250,000 MWh-eq
        (
            Activity(electricity_supplied_mwh=150_000, heat_supplied_gj=360_000),
            "tco2_per_mwh_equivalent_supplied",
            190_029.88 / 250_000,
        ),
    ],
)
def test_energy_producer_intensity_per_energy_supplied(
    cn2023: FactorSet, rules: GradingConfig, activity: Activity, metric: str, expected: float
) -> None:
    plant = AccountInput(
        EntityRef("P001", "Quzhou Thermal Power", Sector.ENERGY, "D4411", "qujiang"),
        YEAR_2023,
        (EnergyTotal(E.RAW_COAL, 100_000, "t", "COAL"),),
        activity,
        benchmark=BenchmarkRef(expected, "test", "equal to the plant", metric),
    )
    account = compute_account(plant, cn2023, rules)
    assert account.intensity.primary.metric == metric
    assert account.intensity.primary.value == pytest.approx(expected, rel=REL)
    assert account.grade.carbon_efficiency == 3  # K = 1
    assert account.grade.carbon_label is None  # no value added


def test_energy_producer_without_supply_gets_no_grade(
    cn2023: FactorSet, rules: GradingConfig
) -> None:
    plant = AccountInput(
        EntityRef("P002", "Idle plant", Sector.ENERGY, "D4411", "qujiang"),
        YEAR_2023,
        (EnergyTotal(E.RAW_COAL, 10, "t"),),
        Activity(),
    )
    account = compute_account(plant, cn2023, rules)
    assert account.intensity.primary.value is None
    assert account.grade.colour is None
    assert account.grade.reasons[0].code == "NO_INTENSITY"


def test_many_accounts_equal_one_at_a_time(cn2023: FactorSet, rules: GradingConfig) -> None:
    inputs = [
        _firm(
            entity=EntityRef(f"F{i}", "f", Sector.INDUSTRY, "C30", "kecheng", grid),
            energy=(
                EnergyTotal(E.ELECTRICITY, 100_000 * (i + 1), "kWh", f"E{i}"),
                EnergyTotal(E.RENEWABLE_SELF_CONSUMED, 5_000 * i, "kWh", f"PV{i}"),
                EnergyTotal(E.STEAM, 10 * i, "t", f"S{i}", steam_enthalpy_kj_per_kg=2900.0),
                EnergyTotal(E.LPG, i, "t"),
            ),
            activity=Activity(Decimal(100 + 37 * i)),
            previous_intensity=None if i % 3 else 0.4,
            regional_intensity=None if i % 2 else 0.5,
            completeness=1.0 - 0.02 * i,
            metered=bool(i % 2),
        )
        for i, grid in enumerate(["", "east_china", "fossil_only"] * 4)
    ]
    together = compute_accounts(inputs, cn2023, rules)
    for item, account in zip(inputs, together, strict=True):
        alone = compute_account(item, cn2023, rules)
        assert account_to_dict(alone) == account_to_dict(account)


def test_benchmark_set_and_regional_aggregate_from_the_population(
    cn2023: FactorSet, rules: GradingConfig
) -> None:
    coal = [100.0, 200.0, 300.0, 400.0, 500.0]
    inputs = [
        _firm(
            entity=EntityRef(f"F{i}", "f", Sector.INDUSTRY, "C30", "kecheng"),
            energy=(EnergyTotal(E.RAW_COAL, t, "t"),),
            activity=Activity(Decimal("100")),
            benchmark=None,
        )
        for i, t in enumerate(coal)
    ]
    ef = 20.908 * 26.37e-3 * 0.94 * 44 / 12
    intensities = [t * ef / 100 for t in coal]
    bm = compute_benchmarks(
        "industry", "C30", "kecheng", "tco2_per_10k_yuan_value_added", intensities, period="2023"
    )
    accounts = compute_accounts(
        inputs, cn2023, rules, benchmark_set=bm, regional_from_population=True
    )
    # median intensity = the 300 t firm's: K = 1/3, 2/3, 1, 4/3, 5/3 -> grades 1, 2, 3, 4, 4
    assert [a.grade.carbon_efficiency for a in accounts] == [1, 2, 3, 4, 4]
    assert accounts[0].benchmark is not None
    assert accounts[0].benchmark.level == "industry_region"
    # region: (100+...+500) t x EF / (5 x 100) = 3 t x EF per 10k yuan = the median firm's
    assert accounts[0].regional_intensity == pytest.approx(3 * ef, rel=1e-12)
    assert accounts[2].grade.dimensions["regional_contribution"].x == pytest.approx(1.0, rel=1e-12)


def test_incomplete_meter_data_makes_the_grade_provisional(
    cn2023: FactorSet, rules: GradingConfig
) -> None:
    account = compute_account(_firm(completeness=0.85, metered=True), cn2023, rules)
    assert account.grade.provisional
    assert (account.data_quality.completeness, account.data_quality.tier) == (0.85, 4)
    assert account.grade.reasons[-1].code == "PROVISIONAL"


def test_unsupported_sector_is_refused(cn2023: FactorSet, rules: GradingConfig) -> None:
    resident = _firm(entity=EntityRef("R1", "A resident", Sector.RESIDENT))
    with pytest.raises(ValueError, match="sector 'resident' is not supported yet"):
        compute_account(resident, cn2023, rules)


def test_account_dict_is_plain_json(cn2023: FactorSet, rules: GradingConfig) -> None:
    data = account_to_dict(compute_account(_firm(previous_intensity=1.0), cn2023, rules))
    assert json.loads(json.dumps(data)) == data  # only JSON types, no default= needed
    assert data["activity"]["value_added_10k_yuan"] == "5000.00"  # money stays exact
    assert data["grade"]["colour"] in {c.value for c in Colour}
    assert data["factor_set"] == "CN-2023"
    assert len(data["factor_set_sha256"]) == 64
    assert {f["energy_type"] for f in data["factors_used"]} >= {"raw_coal", "electricity"}
    assert set(data["emissions_tco2e"]) == {"total", "scope1", "scope2", "by_energy", "by_meter"}


def test_recomputing_under_a_stored_old_set_reproduces_the_account(rules: GradingConfig) -> None:
    registry = load_factor_set_dir()
    old = registry.get("CN-2022")
    firm = _firm(period=Period(date(2022, 1, 1), date(2022, 12, 31)))
    first = account_to_dict(compute_account(firm, old, rules))
    stored_content = json.loads(json.dumps(old.content))  # as the factor_set table keeps it
    stored_account = json.loads(json.dumps(first))
    again = account_to_dict(compute_account(firm, factor_set_from_content(stored_content), rules))
    assert again == stored_account
    assert first["emissions_tco2e"]["by_energy"]["electricity"] == pytest.approx(1800 * 0.5366)
    newer = account_to_dict(compute_account(firm, registry.get("CN-2023"), rules))
    assert newer["emissions_tco2e"]["total"] != first["emissions_tco2e"]["total"]
