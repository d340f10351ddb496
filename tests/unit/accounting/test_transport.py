"""Road transport accounts: fuel and electricity emissions, turnover intensity, new energy."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from accounting.account import account_to_dict
from accounting.calc import CalcInputError, parse_calc_document, run_calc
from accounting.energy import EnergyType
from accounting.factors import FactorSetRegistry
from accounting.grading import GradingConfig
from accounting.transport import TransportData, Vehicle, load_transport_parameters, new_energy_share

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
DIESEL_T_PER_T = 42.652 * 20.2e-3 * 0.98 * 44 / 12  # GB/T 32150 diesel
LNG_T_PER_T = 44.2 * 17.2e-3 * 0.98 * 44 / 12  # LNG row of the guide table (factor sets)
CNG_T_PER_M3 = 389.31e-4 * 15.3e-3 * 0.99 * 44 / 12  # natural gas defaults
GRID_2023_T_PER_KWH = 0.5306e-3


def _example() -> dict[str, Any]:
    return parse_calc_document((EXAMPLES / "transport.json").read_text(encoding="utf-8"))


def _passenger() -> dict[str, Any]:
    doc = _example()
    doc["entity"]["industry_code"] = "G5411"
    doc["energy"] = [
        {"type": "cng", "unit": "10^4 m3", "quantity": 50},
        {"type": "electricity", "unit": "MWh", "quantity": 2000},
    ]
    doc["transport"] = {
        "service": "passenger",
        "fleet": [
            {"vehicle_type": "bus", "fuel": "cng", "count": 40},
            {"vehicle_type": "bus", "fuel": "electric", "count": 60},
        ],
        "passenger_pkm": 40_000_000,
    }
    doc.pop("benchmark")
    return doc


def test_cng_and_lng_factors_are_in_every_factor_set(registry: FactorSetRegistry) -> None:
    for fs in registry:
        assert fs.factor("cng")[0] == pytest.approx(CNG_T_PER_M3, rel=1e-12)
        assert fs.factor("cng", unit="10^4 m3")[0] == pytest.approx(CNG_T_PER_M3 * 1e4, rel=1e-12)
        assert fs.factor("lng")[0] == pytest.approx(LNG_T_PER_T, rel=1e-12)
    assert EnergyType.LNG.unit == "t"
    assert EnergyType.CNG.is_fuel


def test_freight_example_per_100_tkm(registry: FactorSetRegistry, rules: GradingConfig) -> None:
    out = account_to_dict(run_calc(_example(), registry, rules))
    total = 1800 * DIESEL_T_PER_T + 400 * LNG_T_PER_T + 300_000 * GRID_2023_T_PER_KWH
    assert out["emissions_tco2e"]["total"] == pytest.approx(total, rel=1e-9)
    assert out["emissions_tco2e"]["scope1"] == pytest.approx(total - 300_000 * GRID_2023_T_PER_KWH)
    assert out["intensity"]["metric"] == "kgco2_per_100_tkm"
    assert out["intensity"]["value"] == pytest.approx(total * 1000 * 100 / 120e6, rel=1e-9)
    assert out["intensity"]["value"] == pytest.approx(5.6871, abs=1e-4)
    assert out["grade"]["carbon_efficiency"] == 3  # K = 5.69 / 6.0
    assert out["sector"]["details"]["new_energy_share"] == pytest.approx(0.2)
    assert out["sector"]["labels"] == []
    share = next(r for r in out["grade"]["reasons"] if r["code"] == "NEW_ENERGY_SHARE")
    assert share["value"] == pytest.approx(0.2)
    assert "25 of 125" in share["message"]


def test_passenger_firm_per_100_pkm_with_a_new_energy_fleet(
    registry: FactorSetRegistry, rules: GradingConfig
) -> None:
    out = account_to_dict(run_calc(_passenger(), registry, rules))
    total = 500_000 * CNG_T_PER_M3 + 2_000_000 * GRID_2023_T_PER_KWH
    assert out["intensity"]["metric"] == "kgco2_per_100_pkm"
    assert out["intensity"]["value"] == pytest.approx(total * 1e5 / 40e6, rel=1e-9)
    assert out["sector"]["labels"] == ["new_energy_fleet"]  # 60% >= 50%
    assert out["grade"]["carbon_efficiency"] is None  # no benchmark given: none is invented


def test_new_energy_share_counts_battery_and_plug_in_vehicles() -> None:
    params = load_transport_parameters()
    fleet = (
        Vehicle("car", "phev", 3),
        Vehicle("car", "hybrid", 5),
        Vehicle("taxi", "electric", 2),
        Vehicle("bus", "lng", 10),
    )
    assert new_energy_share(fleet, params) == (5, 20, 0.25)
    assert new_energy_share((), params) == (0, 0, None)
    assert TransportData("freight", fleet).declared_new_energy_share is None


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (lambda d: d["transport"].pop("freight_tkm"), "transport.freight_tkm", "freight account"),
        (lambda d: d["transport"].pop("service"), "transport.service", "required for a transport"),
        (lambda d: d["transport"].update(fleet=[]), "transport.fleet", "minimum length"),
        (
            lambda d: d["transport"]["fleet"][0].update(count=0),
            "transport.fleet[0].count",
            "greater than or equal to 1",
        ),
        (
            lambda d: d["transport"]["fleet"][1].update(fuel="hydrogen"),
            "transport.fleet[1].fuel",
            "Must be one of",
        ),
        (
            lambda d: d["transport"]["fleet"].append(
                {"vehicle_type": "van", "fuel": "cng", "count": 2}
            ),
            "transport.fleet[3].fuel",
            "no cng in the energy totals",
        ),
        (
            lambda d: d["transport"]["fleet"].pop(1),
            "transport.fleet",
            "lng is in the energy totals but no vehicle uses it",
        ),
        (
            lambda d: d["transport"].update(new_energy_share=0.5),
            "transport.new_energy_share",
            "does not match the fleet",
        ),
        (lambda d: d.pop("energy"), "energy", "give energy totals"),
    ],
)
def test_bad_transport_documents_name_the_field(
    registry: FactorSetRegistry, rules: GradingConfig, change: Any, field: str, reason: str
) -> None:
    doc = copy.deepcopy(_example())
    change(doc)
    with pytest.raises(CalcInputError, match=reason) as info:
        run_calc(doc, registry, rules)
    assert info.value.field == field
