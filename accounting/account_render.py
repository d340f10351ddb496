"""Render a :class:`accounting.account.CarbonAccountResult` as JSON-ready data.

Only JSON types come out (str, float, int, bool, None, lists, dicts): dates as ISO strings,
money (Decimal) as strings so no digit is lost, missing numbers as null.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from accounting.emissions import ACCOUNTING_UNIT
from accounting.energy import EnergyType

if TYPE_CHECKING:
    from accounting.account import Activity, CarbonAccountResult, Intensity
    from accounting.grading import Grade
    from accounting.sector_lines import SectorResult


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _num(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def account_to_dict(account: CarbonAccountResult) -> dict[str, Any]:
    """The account as a JSON-ready dict (what ``account calc --json`` prints and the DB stores).

    Sector accounts (buildings, transport, agriculture) add ``emissions_tco2e.by_source`` (energy
    types and non-energy lines, sinks negative), ``emissions_tco2e.net`` and a ``sector`` block;
    it is None for industry and energy producers.
    """
    e = account.entity
    em = account.emissions
    emissions: dict[str, Any] = {
        "total": em.total_tco2e,
        "scope1": em.scope1_tco2e,
        "scope2": em.scope2_tco2e,
        "by_energy": dict(em.by_energy_tco2e),
        "by_meter": dict(account.emissions_by_meter_tco2e),
    }
    if account.sector is not None:
        emissions["by_source"] = _by_source(em.by_energy_tco2e, account.sector)
        emissions["net"] = em.total_tco2e - account.sector.sinks_tco2e
    return {
        "entity": {
            "id": e.id,
            "name": e.name,
            "sector": e.sector.value,
            "industry_code": e.industry_code,
            "region": e.region,
            "grid_region": e.grid_region,
        },
        "period": {
            "start": account.period.start.isoformat(),
            "end": account.period.end.isoformat(),
            "days": account.period.days,
        },
        "activity": _activity(account.activity),
        "energy": {
            "totals": {
                t: {"quantity": q, "unit": ACCOUNTING_UNIT[EnergyType(t)]}
                for t, q in account.energy_quantities.items()
            },
            "inputs": [asdict(line) for line in account.energy_lines],
        },
        "purchased_electricity_kwh": em.purchased_electricity_kwh,
        "emissions_tco2e": emissions,
        "intensity": _intensity(account.intensity),
        "grade": _grade(account.grade),
        "data_quality": asdict(account.data_quality),
        "factor_set": account.factor_set_version,
        "factor_set_sha256": account.factor_set_sha256,
        "factors_used": [asdict(f) for f in em.factors_used],
        "benchmark": None if account.benchmark is None else asdict(account.benchmark),
        "regional_intensity": _num(account.regional_intensity),
        "previous_intensity": _num(account.previous_intensity),
        "grading_version": account.grading_version,
        "sector": None if account.sector is None else _sector(account.sector),
    }


def _by_source(by_energy: Mapping[str, float], sector: SectorResult) -> dict[str, float]:
    out = dict(by_energy)
    for line in sector.lines:
        out[line.key] = out.get(line.key, 0.0) + line.tco2e
    return out


def _sector(sector: SectorResult) -> dict[str, Any]:
    return {
        "sector": sector.sector.value,
        "method_version": sector.method_version,
        "benchmark_group": list(sector.benchmark_group),
        "labels": list(sector.labels),
        "non_energy_tco2e": sector.non_energy_tco2e,
        "sinks_tco2e": sector.sinks_tco2e,
        "lines": [asdict(line) for line in sector.lines],
        "details": json.loads(json.dumps(dict(sector.details))),
    }


def _activity(activity: Activity) -> dict[str, Any]:
    return {
        "value_added_10k_yuan": _money(activity.value_added_10k_yuan),
        "output_value_10k_yuan": _money(activity.output_value_10k_yuan),
        "products": [asdict(p) for p in activity.products],
        "electricity_supplied_mwh": activity.electricity_supplied_mwh,
        "heat_supplied_gj": activity.heat_supplied_gj,
    }


def _intensity(intensity: Intensity) -> dict[str, Any]:
    p = intensity.primary
    return {
        "metric": p.metric,
        "value": _num(p.value),
        "unit": p.unit,
        "metrics": [asdict(m) for m in intensity.metrics],
    }


def _grade(grade: Grade) -> dict[str, Any]:
    return {
        "carbon_efficiency": grade.carbon_efficiency,
        "k": _num(grade.k),
        "carbon_label": None if grade.carbon_label is None else grade.carbon_label.value,
        "colour": None if grade.colour is None else grade.colour.value,
        "colour_zh": None if grade.colour is None else grade.colour.name_zh,
        "score": _num(grade.score),
        "provisional": grade.provisional,
        "reasons": [asdict(r) for r in grade.reasons],
        "dimensions": {name: asdict(d) for name, d in grade.dimensions.items()},
        "grading_version": grade.grading_version,
    }
