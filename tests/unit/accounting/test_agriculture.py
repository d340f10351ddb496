"""Agriculture and forestry accounts: IPCC Tier 1 hand calculations, GWP sets, sinks, errors."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from accounting.account import (
    AccountInput,
    Activity,
    CarbonAccountResult,
    EntityRef,
    Period,
    account_to_dict,
    compute_account,
)
from accounting.agriculture import AgricultureData, ManureEntry, RiceSeason
from accounting.calc import CalcInputError, parse_calc_document, run_calc
from accounting.emissions import EnergyTotal
from accounting.energy import EnergyType
from accounting.factors import FactorSet, FactorSetRegistry
from accounting.grading import GradingConfig
from accounting.vocab import Sector

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
N2O_N = 44 / 28
GRID_2023_T_PER_KWH = 0.5306e-3
DIESEL_T_PER_T = 42.652 * 20.2e-3 * 0.98 * 44 / 12
PIG_SLURRY_KG = 0.3 * 365 * 0.29 * 0.67 * 0.32  # VS x 365 x Bo x 0.67 x MCF (liquid slurry, 17 C)


def _farm(
    data: AgricultureData,
    *,
    energy: tuple[EnergyTotal, ...] = (),
    output: str | None = None,
    end: date = date(2023, 12, 31),
) -> AccountInput:
    return AccountInput(
        entity=EntityRef("A1", "Farm", Sector.AGRICULTURE, "A0313", "longyou"),
        period=Period(date(2023, 1, 1), end),
        energy=energy,
        activity=Activity(output_value_10k_yuan=None if output is None else Decimal(output)),
        sector_data=data,
    )


def _lines(account: CarbonAccountResult) -> dict[str, float]:
    assert account.sector is not None
    return {line.key: line.tco2e for line in account.sector.lines}


def test_100_pigs_emit_2_7_tco2e_enteric_under_ar6(cn2023: FactorSet, rules: GradingConfig) -> None:
    account = compute_account(_farm(AgricultureData({"pig": 100})), cn2023, rules)
    assert _lines(account) == {"enteric_ch4:pig": pytest.approx(2.7, rel=1e-12)}  # 100 x 1.0 x 27
    assert account.emissions.total_tco2e == pytest.approx(2.7)
    assert account.emissions.scope1_tco2e == pytest.approx(2.7)
    assert account.intensity.primary.metric == "tco2e_per_head"
    assert account.intensity.primary.value == pytest.approx(0.027)


def test_gwp_set_is_configurable(cn2023: FactorSet, rules: GradingConfig) -> None:
    data = AgricultureData({"pig": 100}, fertiliser_n_kg=1000.0, gwp_set="AR5")
    lines = _lines(compute_account(_farm(data), cn2023, rules))
    assert lines["enteric_ch4:pig"] == pytest.approx(100 * 1.0 * 28 / 1000)
    assert lines["fertiliser_n2o:upland"] == pytest.approx(1000 * 0.01 * N2O_N * 265 / 1000)


def test_rice_10_ha_113_days_is_1344_7_kg_ch4(cn2023: FactorSet, rules: GradingConfig) -> None:
    data = AgricultureData({}, rice=(RiceSeason(10.0, 113),))
    account = compute_account(_farm(data), cn2023, rules)
    assert account.sector is not None
    (line,) = account.sector.lines
    assert line.gas_t * 1000 == pytest.approx(1344.7, rel=1e-12)  # 10 x 1.19 x 113
    assert line.tco2e == pytest.approx(1.3447 * 27, rel=1e-12)
    assert account.intensity.primary.metric == "tco2e_per_ha"  # cropland = the rice area
    assert account.intensity.primary.value == pytest.approx(1.3447 * 27 / 10, rel=1e-12)


def test_water_regime_and_scaling_factor(cn2023: FactorSet, rules: GradingConfig) -> None:
    seasons = (
        RiceSeason(10.0, 100, "multiple_drainage"),
        RiceSeason(10.0, 100, scaling_factor=0.5),
    )
    lines = _lines(compute_account(_farm(AgricultureData({}, rice=seasons)), cn2023, rules))
    values = sorted(lines.values())
    assert values[0] == pytest.approx(10 * 1.19 * 100 * 0.5 * 27 / 1000, rel=1e-12)
    assert values[1] == pytest.approx(10 * 1.19 * 100 * 0.55 * 27 / 1000, rel=1e-12)


def test_fertiliser_n2o_uses_ef1fr_on_flooded_rice(cn2023: FactorSet, rules: GradingConfig) -> None:
    data = AgricultureData(
        {}, rice=(RiceSeason(20.0, 120),), fertiliser_n_kg=4000.0, flooded_rice_n_share=0.25
    )
    lines = _lines(compute_account(_farm(data), cn2023, rules))
    assert lines["fertiliser_n2o:upland"] == pytest.approx(3000 * 0.01 * N2O_N * 273 / 1000)
    assert lines["fertiliser_n2o:flooded_rice"] == pytest.approx(1000 * 0.004 * N2O_N * 273 / 1000)


def test_manure_management_where_given(cn2023: FactorSet, rules: GradingConfig) -> None:
    manure = (
        ManureEntry("pig", "liquid_slurry", 0.6),
        ManureEntry("pig", "solid_storage", 0.4, n_excretion_kg_per_head_year=11.0),
    )
    lines = _lines(compute_account(_farm(AgricultureData({"pig": 1000}, manure)), cn2023, rules))
    assert lines["manure_ch4:pig/liquid_slurry"] == pytest.approx(
        600 * PIG_SLURRY_KG * 27 / 1000, rel=1e-12
    )
    assert lines["manure_ch4:pig/solid_storage"] == pytest.approx(
        400 * PIG_SLURRY_KG / 0.32 * 0.04 * 27 / 1000, rel=1e-12
    )
    assert lines["manure_n2o:pig/solid_storage"] == pytest.approx(
        400 * 11 * 0.005 * N2O_N * 273 / 1000, rel=1e-12
    )
    assert "manure_n2o:pig/liquid_slurry" not in lines  # no N excretion given there


def test_sinks_net_and_carbon_neutral_label(cn2023: FactorSet, rules: GradingConfig) -> None:
    data = AgricultureData({}, forest_ha=100.0, orchard_ha=10.0, organic_fertiliser_t=50.0)
    energy = (EnergyTotal(EnergyType.DIESEL, 100.0, "t"),)
    account = compute_account(_farm(data, energy=energy), cn2023, rules)
    assert account.sector is not None
    sinks = 100 * 4.0 + 10 * 7.7 + 50 * 0.27
    assert account.sector.sinks_tco2e == pytest.approx(sinks)
    assert account.emissions.total_tco2e == pytest.approx(100 * DIESEL_T_PER_T)  # sinks not in it
    assert account.sector.labels == ("carbon_neutral_farm",)
    out = account_to_dict(account)
    assert out["emissions_tco2e"]["net"] == pytest.approx(100 * DIESEL_T_PER_T - sinks)
    assert out["emissions_tco2e"]["by_source"]["forest_sink"] == pytest.approx(-400.0)
    assert account.grade.reasons[-1].code == "CARBON_NEUTRAL_FARM"
    assert account.intensity.primary.value == pytest.approx(100 * DIESEL_T_PER_T / 110)


def test_shorter_period_scales_herd_and_sinks_and_annualises(
    cn2023: FactorSet, rules: GradingConfig
) -> None:
    data = AgricultureData({"dairy_cattle": 10}, forest_ha=10.0)
    account = compute_account(_farm(data, end=date(2023, 3, 1)), cn2023, rules)  # 60 days
    assert account.sector is not None
    enteric = 10 * 68 * 60 / 365 * 27 / 1000
    assert _lines(account)["enteric_ch4:dairy_cattle"] == pytest.approx(enteric, rel=1e-12)
    assert account.sector.sinks_tco2e == pytest.approx(10 * 4.0 * 60 / 365)
    assert account.intensity.primary.value == pytest.approx(enteric * 365 / 60 / 10, rel=1e-12)


def test_per_output_when_there_is_neither_herd_nor_area(
    cn2023: FactorSet, rules: GradingConfig
) -> None:
    energy = (EnergyTotal(EnergyType.ELECTRICITY, 100_000.0, "kWh"),)
    account = compute_account(
        _farm(AgricultureData({}), energy=energy, output="200.00"), cn2023, rules
    )
    assert account.intensity.primary.metric == "tco2e_per_10k_yuan_output"
    assert account.intensity.primary.value == pytest.approx(100_000 * GRID_2023_T_PER_KWH / 200)


def test_pig_farm_example(registry: FactorSetRegistry, rules: GradingConfig) -> None:
    doc = parse_calc_document((EXAMPLES / "agriculture.json").read_text(encoding="utf-8"))
    out = account_to_dict(run_calc(doc, registry, rules))
    energy = 600_000 * GRID_2023_T_PER_KWH + 20 * DIESEL_T_PER_T
    enteric = 5000 * 1.0 * 27 / 1000
    digester = 3500 * PIG_SLURRY_KG / 0.32 * 0.10 * 27 / 1000
    solid = 1500 * PIG_SLURRY_KG / 0.32 * 0.04 * 27 / 1000
    n2o = 1500 * 11 * 0.005 * N2O_N * 273 / 1000
    gross = energy + enteric + digester + solid + n2o
    sinks = 30 * 7.7 + 1200 * 0.27
    assert out["emissions_tco2e"]["total"] == pytest.approx(gross, rel=1e-9)
    assert out["emissions_tco2e"]["net"] == pytest.approx(gross - sinks, rel=1e-9)
    assert out["intensity"]["value"] == pytest.approx(gross / 5000, rel=1e-9)
    per_output = next(m for m in out["intensity"]["metrics"] if m["metric"].endswith("output"))
    assert per_output["value"] == pytest.approx(gross / 3500, rel=1e-9)
    assert out["sector"]["details"]["carbon_neutral"] is False
    assert out["sector"]["method_version"] == "AGRI-v1; GWP-v1:AR6"
    assert out["grade"]["carbon_efficiency"] == 2  # K = 0.157 / 0.25


def test_a_farm_without_energy_is_accounted(
    registry: FactorSetRegistry, rules: GradingConfig
) -> None:
    doc = parse_calc_document((EXAMPLES / "agriculture.json").read_text(encoding="utf-8"))
    doc["energy"] = []
    out = account_to_dict(run_calc(doc, registry, rules))
    assert out["emissions_tco2e"]["scope2"] == 0.0
    assert out["emissions_tco2e"]["total"] > 0


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (
            lambda a: a["manure"][0].update(species="dairy_cattle"),
            "agriculture.manure[0].species",
            "no dairy_cattle in livestock",
        ),
        (
            lambda a: a["manure"][1].update(share=0.5),
            "agriculture.manure[1].share",
            "more than 1",
        ),
        (
            lambda a: a.update(flooded_rice_n_share=0.5),
            "agriculture.flooded_rice_n_share",
            "no rice season",
        ),
        (
            lambda a: a.update(rice=[{"area_ha": 12, "season_days": 110}], cropland_ha=10),
            "agriculture.cropland_ha",
            "smaller than the rice area",
        ),
        (
            lambda a: a.update(rice=[{"area_ha": 12, "season_days": 400}]),
            "agriculture.rice[0].season_days",
            "less than or equal to 366",
        ),
        (lambda a: a.update(gwp_set="AR4"), "agriculture.gwp_set", "unknown GWP set 'AR4'"),
        (lambda a: a["livestock"].update(yak=3), "agriculture.livestock", "Must be one of"),
        (lambda a: a.update(forest_ha=-1), "agriculture.forest_ha", "greater than or equal to 0"),
    ],
)
def test_bad_agriculture_sections_name_the_field(
    registry: FactorSetRegistry, rules: GradingConfig, change: Any, field: str, reason: str
) -> None:
    doc = parse_calc_document((EXAMPLES / "agriculture.json").read_text(encoding="utf-8"))
    doc = copy.deepcopy(doc)
    change(doc["agriculture"])
    with pytest.raises(CalcInputError, match=reason) as info:
        run_calc(doc, registry, rules)
    assert info.value.field.startswith(field)
