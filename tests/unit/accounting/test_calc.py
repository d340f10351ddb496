"""The pure calculator: documents in, graded accounts out; every error names its field."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from accounting.account import account_to_dict
from accounting.calc import CalcInputError, parse_calc_document, run_calc
from accounting.factors import FactorSetRegistry
from accounting.grading import GradingConfig

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
REL = 1e-3


def _doc(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "entity": {
            "id": "F1",
            "name": "Firm",
            "sector": "industry",
            "industry_code": "C30",
            "region": "kecheng",
        },
        "period": {"start": "2023-01-01", "end": "2023-01-02"},
        "energy": [{"type": "raw_coal", "unit": "t", "quantity": 1000}],
        "activity": {"value_added_10k_yuan": Decimal("1000.00")},
    }
    doc.update(overrides)
    return doc


def _calc(doc: dict[str, Any], registry: FactorSetRegistry, rules: GradingConfig) -> dict[str, Any]:
    return account_to_dict(run_calc(doc, registry, rules))


def _readings(
    meter: str, etype: str, unit: str, day: str, slots: range, qty: float
) -> list[dict[str, Any]]:
    start = datetime.fromisoformat(day)
    return [
        {
            "meter": meter,
            "type": etype,
            "unit": unit,
            "interval_start": (start + timedelta(minutes=15 * k)).isoformat(),
            "quantity": qty,
        }
        for k in slots
    ]


def test_industry_example_gives_the_hand_calculation(
    registry: FactorSetRegistry, rules: GradingConfig
) -> None:
    doc = parse_calc_document((EXAMPLES / "industry.json").read_text(encoding="utf-8"))
    out = _calc(doc, registry, rules)
    em = out["emissions_tco2e"]
    # coal 1,900.30 + gas 1,081.09 + electricity 1,800 MWh x 0.5306 + heat 110 + steam 592.52
    assert em["total"] == pytest.approx(1900.2988 + 1081.0944 + 955.08 + 110 + 592.5172, rel=REL)
    assert em["by_energy"]["electricity"] == pytest.approx(955.08, rel=REL)
    assert out["intensity"]["value"] == pytest.approx(4638.9904 / 5000, rel=REL)
    # K = 0.92780 / 1.10 = 0.8435 -> grade 3; regional 0.9278 / 1.35 = 0.687; trend -9.04 %
    assert out["grade"]["carbon_efficiency"] == 3
    assert out["grade"]["k"] == pytest.approx(0.92780 / 1.10, rel=REL)
    assert out["grade"]["carbon_label"] == "medium"
    assert out["factor_set"] == "CN-2023"
    assert out["benchmark"]["version"] == "example"
    assert out["activity"]["value_added_10k_yuan"] == "5000.00"


def test_energy_example_grades_a_chp_plant_per_mwh_equivalent(
    registry: FactorSetRegistry, rules: GradingConfig
) -> None:
    doc = parse_calc_document((EXAMPLES / "energy.json").read_text(encoding="utf-8"))
    out = _calc(doc, registry, rules)
    # 120,000 t coal x 1.90030 + 300 x 21.62189 (10^4 m3 gas) + 40 t diesel x 3.09591
    # + 4,000 MWh x 0.5366 (CN-2022, the set in force on 2022-01-01)
    total = 120_000 * 1.9002988 + 300 * 21.621888 + 40 * 3.0959096 + 4000 * 0.5366
    assert out["emissions_tco2e"]["total"] == pytest.approx(total, rel=REL)
    assert out["factor_set"] == "CN-2022"
    assert out["intensity"]["metric"] == "tco2_per_mwh_equivalent_supplied"
    # 180,000 MWh + 1,080,000 GJ / 3.6 = 480,000 MWh-eq
    assert out["intensity"]["value"] == pytest.approx(total / 480_000, rel=REL)


def test_default_factor_set_is_the_one_in_force_at_the_period_start(
    registry: FactorSetRegistry, rules: GradingConfig
) -> None:
    out = _calc(_doc(period={"start": "2021-12-31", "end": "2022-01-01"}), registry, rules)
    assert out["factor_set"] == "CN-2021"
    legacy = _calc(
        _doc(
            factor_set="CN-LEGACY-0.5703",
            energy=[{"type": "electricity", "unit": "MWh", "quantity": 10}],
        ),
        registry,
        rules,
    )
    assert legacy["emissions_tco2e"]["total"] == pytest.approx(10 * 0.5703, rel=1e-12)


def test_without_benchmark_the_k_grade_is_absent_with_a_reason(
    registry: FactorSetRegistry, rules: GradingConfig
) -> None:
    out = _calc(_doc(), registry, rules)
    assert out["grade"]["carbon_efficiency"] is None
    assert out["grade"]["reasons"][0]["code"] == "NO_BENCHMARK"
    assert out["benchmark"] is None


def test_readings_are_summed_and_completeness_counted(
    registry: FactorSetRegistry, rules: GradingConfig
) -> None:
    # 2 days x 96 x 2 meters = 384 expected; E1 complete (192), E2 misses 20 -> 364 received
    readings = _readings(
        "E1", "electricity", "kWh", "2023-01-01T00:00:00", range(192), 10.0
    ) + _readings("E2", "electricity", "kWh", "2023-01-01T00:00:00+08:00", range(172), 5.0)
    readings.append(dict(readings[3]))  # an exact duplicate is ignored
    out = _calc(_doc(readings=readings), registry, rules)
    # 192 x 10 + 172 x 5 = 2,780 kWh x 0.5306e-3
    assert out["emissions_tco2e"]["by_energy"]["electricity"] == pytest.approx(
        2.780 * 0.5306, rel=1e-12
    )
    assert out["emissions_tco2e"]["by_meter"]["E2"] == pytest.approx(0.860 * 0.5306, rel=1e-12)
    quality = out["data_quality"]
    assert (quality["received_intervals"], quality["expected_intervals"]) == (364, 384)
    assert quality["completeness"] == pytest.approx(364 / 384)
    assert quality["metered"]
    assert quality["tier"] == 3
    assert out["grade"]["provisional"] is False


def test_readings_below_90_percent_make_a_provisional_grade(
    registry: FactorSetRegistry, rules: GradingConfig
) -> None:
    readings = _readings("E1", "electricity", "kWh", "2023-01-01T00:00:00", range(150), 1.0)
    out = _calc(_doc(readings=readings, benchmark={"value": 1.0}), registry, rules)
    assert out["data_quality"]["completeness"] == pytest.approx(150 / 192)
    assert out["grade"]["provisional"] is True
    assert out["data_quality"]["tier"] == 4


def test_utc_and_local_timestamps_are_the_same_interval(
    registry: FactorSetRegistry, rules: GradingConfig
) -> None:
    local = _readings("E1", "electricity", "kWh", "2023-01-01T00:00:00", range(4), 1.0)
    utc = _readings("E1", "electricity", "kWh", "2022-12-31T16:00:00Z", range(4), 1.0)
    out = _calc(_doc(readings=local + utc), registry, rules)  # exact duplicates
    assert out["data_quality"]["received_intervals"] == 4


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["entity"].pop("industry_code"), "entity.industry_code"),
        (lambda d: d["entity"].update(sector="resident"), "entity.sector"),
        (lambda d: d["entity"].update(grid_region="zhejiang"), "entity.grid_region"),
        (lambda d: d.update(colour="green"), "colour"),
        (
            lambda d: d["energy"].append({"type": "coke", "unit": "kg", "quantity": 1}),
            "energy[1].unit",
        ),
        (lambda d: d["energy"][0].update(quantity=-1), "energy[0].quantity"),
        (lambda d: d["energy"][0].update(type="wood"), "energy[0].type"),
        (lambda d: d.update(energy=[]), "energy"),
        (lambda d: d["period"].update(end="2022-12-31"), "period.end"),
        (lambda d: d["period"].update(start="2020-01-01", end="2020-01-02"), "period.start"),
        (lambda d: d.update(factor_set="CN-1999"), "factor_set"),
        (
            lambda d: d.update(benchmark={"value": 1, "industry_average_intensity": 1}),
            "benchmark.value",
        ),
        (lambda d: d.update(previous={}), "previous.intensity"),
        (
            lambda d: d["activity"].update(value_added_10k_yuan="a lot"),
            "activity.value_added_10k_yuan",
        ),
        (lambda d: d.pop("activity"), "activity"),
    ],
)
def test_bad_input_names_the_field(
    registry: FactorSetRegistry, rules: GradingConfig, change: Any, field: str
) -> None:
    doc = copy.deepcopy(_doc())
    change(doc)
    with pytest.raises(CalcInputError) as info:
        run_calc(doc, registry, rules)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (
            lambda r: r[2].update(interval_start="2023-01-01T00:10:00"),
            "readings[2].interval_start",
            "15-minute grid",
        ),
        (
            lambda r: r[2].update(interval_start="2023-01-03T00:00:00"),
            "readings[2].interval_start",
            "outside",
        ),
        (
            lambda r: r[2].update(interval_start="yesterday"),
            "readings[2].interval_start",
            "ISO 8601",
        ),
        (lambda r: r[2].update(quantity="7"), "readings[2].quantity", "Not a valid number"),
        (lambda r: r[2].update(quantity=-7), "readings[2].quantity", ">= 0"),
        (lambda r: r[2].update(unit="MWh"), "readings[2].unit", "meter E1 changes unit"),
        (lambda r: r[2].pop("meter"), "readings[2].meter", "Missing data"),
        (lambda r: r[2].update(flag=1), "readings[2].flag", "Unknown field"),
        (lambda r: r.append(dict(r[2], quantity=99)), "readings[4].quantity", "conflicts"),
        (
            lambda r: r.append(dict(r[2], meter="X", unit="t")),
            "readings[4].unit",
            "'t' is not a unit of electricity",
        ),
    ],
)
def test_bad_readings_name_the_row_and_field(
    registry: FactorSetRegistry, rules: GradingConfig, change: Any, field: str, reason: str
) -> None:
    readings = _readings("E1", "electricity", "kWh", "2023-01-01T00:00:00", range(4), 1.0)
    change(readings)
    with pytest.raises(CalcInputError, match=reason) as info:
        run_calc(_doc(readings=readings), registry, rules)
    assert info.value.field == field


def test_a_type_in_both_readings_and_totals_is_refused(
    registry: FactorSetRegistry, rules: GradingConfig
) -> None:
    readings = _readings("C1", "raw_coal", "t", "2023-01-01T00:00:00", range(4), 1.0)
    with pytest.raises(CalcInputError, match="counted twice") as info:
        run_calc(_doc(readings=readings), registry, rules)
    assert info.value.field == "energy[0].type"


def test_documents_parse_money_as_decimal() -> None:
    doc = parse_calc_document('{"activity": {"value_added_10k_yuan": 1234.10}}')
    assert doc["activity"]["value_added_10k_yuan"] == Decimal("1234.10")
    with pytest.raises(CalcInputError, match=r"^document: not valid JSON \(line 1"):
        parse_calc_document("{")
    with pytest.raises(CalcInputError, match=r"^document: must be a JSON object"):
        parse_calc_document(json.dumps([1, 2]))
