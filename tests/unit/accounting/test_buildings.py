"""Building accounts (GB/T 51366 operation stage): hand calculations, weather, errors."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from accounting.account import (
    AccountInput,
    Activity,
    EntityRef,
    Period,
    account_to_dict,
    compute_account,
)
from accounting.benchmarks import benchmark_set_from_content, load_benchmark_set
from accounting.buildings import (
    BuildingData,
    annualisation_factor,
    load_building_parameters,
    weather_adjustment,
)
from accounting.calc import CalcInputError, parse_calc_document, run_calc
from accounting.emissions import EnergyTotal
from accounting.energy import EnergyType
from accounting.factors import FactorSet, FactorSetRegistry
from accounting.grading import GradingConfig
from accounting.sector_lines import DEFAULT_SECTOR_DIR, SectorDataError
from accounting.vocab import Sector

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
GRID_2023_T_PER_KWH = 0.5306e-3  # MEE 2023 national average (CN-2023)
GAS_T_PER_M3 = 389.31e-4 * 15.3e-3 * 0.99 * 44 / 12  # GB/T 32150 natural gas
OFFICE_HEAT, OFFICE_COOL = 0.15, 0.25  # buildings-v1.json office shares
REF_HDD, REF_CDD = 1450.0, 240.0  # buildings-v1.json hot-summer-cold-winter reference year


def _example() -> dict[str, Any]:
    return parse_calc_document((EXAMPLES / "building.json").read_text(encoding="utf-8"))


def _office(days: int = 365, **building: Any) -> AccountInput:
    start = date(2023, 1, 1)
    end = date.fromordinal(start.toordinal() + days - 1)
    return AccountInput(
        entity=EntityRef("B1", "Office", Sector.BUILDING, "office", "kecheng"),
        period=Period(start, end),
        energy=(EnergyTotal(EnergyType.ELECTRICITY, 1_000_000.0 * days / 365, "kWh"),),
        activity=Activity(),
        sector_data=replace(BuildingData("office", 10_000.0, "hot_summer_cold_winter"), **building),
    )


def test_example_intensity_is_the_gbt_51366_formula(
    registry: FactorSetRegistry, rules: GradingConfig
) -> None:
    out = account_to_dict(run_calc(_example(), registry, rules))
    electricity = (2_200_000 - 150_000) * GRID_2023_T_PER_KWH  # PV consumed on site deducted
    gas = 60_000 * GAS_T_PER_M3
    weather = (
        1 - OFFICE_HEAT - OFFICE_COOL + OFFICE_HEAT * REF_HDD / 1420 + OFFICE_COOL * REF_CDD / 260
    )
    sink = 3000 * 5.0 / 1000  # dense shrubs, 5 kgCO2/(m2 a)
    assert out["emissions_tco2e"]["total"] == pytest.approx(electricity + gas, rel=1e-9)
    assert out["intensity"]["metric"] == "kgco2_per_m2_year"
    expected = ((electricity + gas) * weather - sink) * 1000 / 20_000
    assert out["intensity"]["value"] == pytest.approx(expected, rel=1e-9)
    assert expected == pytest.approx(59.1453, abs=1e-4)
    unadjusted = next(m for m in out["intensity"]["metrics"] if m["metric"].endswith("unadjusted"))
    assert unadjusted["value"] == pytest.approx(((electricity + gas) - sink) * 1000 / 20_000)
    assert out["emissions_tco2e"]["by_source"]["green_space_sink:dense_shrubs"] == -sink
    assert out["emissions_tco2e"]["net"] == pytest.approx(electricity + gas - sink, rel=1e-9)
    assert out["grade"]["k"] == pytest.approx(expected / 60.0, rel=1e-9)
    assert out["grade"]["carbon_efficiency"] == 3
    assert out["sector"]["details"]["weather"]["factor"] == pytest.approx(weather, rel=1e-12)
    assert "WEATHER_ADJUSTED" in {r["code"] for r in out["grade"]["reasons"]}
    assert json.loads(json.dumps(out)) == out


def test_without_degree_days_the_intensity_is_not_weather_adjusted(
    cn2023: FactorSet, rules: GradingConfig
) -> None:
    account = compute_account(_office(), cn2023, rules)
    assert account.intensity.primary.value == pytest.approx(
        1_000_000 * GRID_2023_T_PER_KWH * 1000 / 10_000
    )
    assert account.grade.reasons[-1].code == "WEATHER_NOT_ADJUSTED"
    assert account.sector is not None
    assert not account.sector.lines


def test_a_shorter_period_is_annualised_and_adjusted_to_its_own_reference(
    cn2023: FactorSet, rules: GradingConfig
) -> None:
    item = _office(days=90, hdd=600.0, reference_hdd=500.0, green_space_m2=1000.0)
    account = compute_account(item, cn2023, rules)
    energy_t = 1_000_000 * 90 / 365 * GRID_2023_T_PER_KWH
    w = 1 - OFFICE_HEAT + OFFICE_HEAT * 500 / 600  # no CDD given: cooling share unscaled
    expected = (energy_t * w * 365 / 90 - 1000 * 5.0 / 1000) * 1000 / 10_000
    assert account.intensity.primary.value == pytest.approx(expected, rel=1e-12)
    assert account.sector is not None
    assert account.sector.sinks_tco2e == pytest.approx(5.0 * 90 / 365)  # sink of the 90 days


def test_annualisation_is_one_for_a_leap_year() -> None:
    assert annualisation_factor(366) == annualisation_factor(365) == 1.0
    assert annualisation_factor(73) == 5.0


def test_weather_factor_hand_calculation() -> None:
    params = load_building_parameters()
    data = BuildingData("hotel", 1.0, "hot_summer_cold_winter", hdd=1300.0, cdd=300.0)
    w = weather_adjustment(data, 365, params)
    assert w.applied
    assert w.factor == pytest.approx(1 - 0.35 + 0.15 * 1450 / 1300 + 0.20 * 240 / 300, rel=1e-12)


def test_a_benchmark_set_is_looked_up_by_type_and_climate_region(
    cn2023: FactorSet, rules: GradingConfig
) -> None:
    design = load_benchmark_set(DEFAULT_SECTOR_DIR / "benchmarks-design-v1.json")
    account = compute_account(_office(), cn2023, rules, benchmark_set=design)
    assert account.benchmark is not None
    assert account.benchmark.value == 60.0
    assert account.benchmark.level == "industry_region"
    value = account.intensity.primary.value
    assert value is not None
    assert account.grade.k == pytest.approx(value / 60.0)


def test_a_school_is_not_graded_against_an_office_benchmark(
    cn2023: FactorSet, rules: GradingConfig
) -> None:
    only_offices = benchmark_set_from_content(
        {
            "version": "T", "method": "t", "percentile": 50.0, "period": "t", "min_n": 1,
            "source": "test",
            "values": [
                {"sector": "building", "industry_code": "office", "region": "*",
                 "metric": "kgco2_per_m2_year", "value": 50.0, "n": None, "source": "test"}
            ],
        }
    )  # fmt: skip
    school = _office(building_type="school")
    assert compute_account(school, cn2023, rules, benchmark_set=only_offices).grade.k is None


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (lambda b: b.pop("floor_area_m2"), "building.floor_area_m2", "required for a building"),
        (lambda b: b.update(floor_area_m2=0), "building.floor_area_m2", "greater than 0"),
        (lambda b: b.update(type="garage"), "building.type", "Must be one of"),
        (lambda b: b.pop("climate_region"), "building.climate_region", "required"),
        (lambda b: b.update(green_space_type="bamboo"), "building.green_space_type", "one of"),
        (lambda b: b.update(cooling_share=0.9, heating_share=0.2), "building.cooling_share", "1"),
        (lambda b: b.update(colour="green"), "building.colour", "Unknown field"),
    ],
)
def test_bad_building_sections_name_the_field(
    registry: FactorSetRegistry, rules: GradingConfig, change: Any, field: str, reason: str
) -> None:
    doc = _example()
    change(doc["building"])
    with pytest.raises(CalcInputError, match=reason) as info:
        run_calc(doc, registry, rules)
    assert info.value.field == field


def test_inconsistent_documents_are_refused(
    registry: FactorSetRegistry, rules: GradingConfig
) -> None:
    cases: list[tuple[Any, str, str]] = [
        (lambda d: d.pop("building"), "building", "required for a building account"),
        (
            lambda d: d.update(
                transport={
                    "service": "freight",
                    "fleet": [{"vehicle_type": "van", "fuel": "electric", "count": 1}],
                    "freight_tkm": 1,
                }
            ),
            "transport",
            "only for the transport sector",
        ),
        (
            lambda d: d["energy"].append(
                {"type": "renewable_self_consumed", "unit": "kWh", "quantity": 1}
            ),
            "building.onsite_renewable_kwh",
            "counted twice",
        ),
        (
            lambda d: d["period"].update(end="2023-03-31"),
            "building.reference_hdd",
            "shorter than a year",
        ),
    ]
    for change, field, reason in cases:
        doc = copy.deepcopy(_example())
        change(doc)
        with pytest.raises(CalcInputError, match=reason) as info:
            run_calc(doc, registry, rules)
        assert info.value.field.startswith(field)


def test_a_section_of_another_sector_is_refused(
    registry: FactorSetRegistry, rules: GradingConfig
) -> None:
    doc = _example()
    doc["agriculture"] = {"livestock": {"pig": 10}}
    with pytest.raises(CalcInputError, match="only for the agriculture sector") as info:
        run_calc(doc, registry, rules)
    assert info.value.field == "agriculture"


def test_a_data_file_missing_a_type_names_the_file(tmp_path: Path) -> None:
    content = json.loads((DEFAULT_SECTOR_DIR / "buildings-v1.json").read_text(encoding="utf-8"))
    del content["types"]["hotel"]
    path = tmp_path / "buildings-bad.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    with pytest.raises(SectorDataError, match=r"buildings-bad\.json: types: missing hotel"):
        load_building_parameters(path)
