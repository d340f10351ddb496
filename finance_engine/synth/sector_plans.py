"""Plans of the synthetic city's buildings, road transport firms and farms (design values).

Each entity gets an intended primary intensity ``K × design median`` of its benchmark group
(``accounting/data/sectors/benchmarks-design-v1.json``), and its inputs (energy, floor area,
fleet, herd, areas...) are sized so that the real accounting code returns exactly that intensity
with the design factors. K is lognormal (σ = 0.65) drawn at mid-stratum quantiles *within each
benchmark group* (a group of five gets K ≈ 0.43, 0.71, 1, 1.41, 2.3: grades 1 to 5), so every
grade occurs in every sector and a group's median is its design median. Everything here is
synthetic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from statistics import NormalDist
from typing import Any

import numpy as np
from numpy.typing import NDArray

from accounting.agriculture_params import AgricultureParameters
from accounting.buildings import BuildingParameters
from accounting.energy import EnergyType
from accounting.sector_lines import GwpSet
from accounting.vocab import Sector
from finance_engine.synth.industries import COUNTIES
from finance_engine.synth.population import EntitySpec

E = EnergyType
K_SIGMA = 0.65
"""Log-space spread of intensity around the group's design median."""
TREND_MEAN, TREND_SIGMA = -0.03, 0.10


@dataclass(frozen=True)
class SectorPlan:
    """One synthetic entity: who it is, its activity record and intended intensity."""

    entity: EntitySpec
    record: dict[str, Any]
    """Activity record body (sector section, declared energy, output value, previous intensity)."""
    intended: float
    """Intended primary intensity, in the metric's unit."""
    metric: str
    meters: tuple[tuple[EnergyType, float, float, float], ...] = field(default=())
    """Metered energy: (type, yearly native quantity, summer amplitude, winter amplitude)."""


@dataclass(frozen=True)
class Context:
    """What every planner needs."""

    year: int
    factors: Mapping[EnergyType, float]
    """tCO2 per native unit."""
    medians: Mapping[tuple[str, str], float]
    """(sector, group code) -> design median intensity."""
    buildings: BuildingParameters
    agriculture: AgricultureParameters
    gwp: GwpSet
    hdd: float
    cdd: float


def group_relative(rng: np.random.Generator, groups: NDArray[np.int64]) -> NDArray[np.float64]:
    """K per entity: lognormal at jittered mid-stratum quantiles within each group."""
    out = np.empty(groups.size)
    inv = NormalDist().inv_cdf
    for g in np.unique(groups):  # a handful of groups
        rows = np.flatnonzero(groups == g)
        n = rows.size
        u = (rng.permutation(n) + 0.5 + 0.2 * (rng.random(n) - 0.5)) / n
        out[rows] = np.exp(K_SIGMA * np.array([inv(x) for x in u]))
    return out


def group_trends(
    rng: np.random.Generator, groups: NDArray[np.int64], relative: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Year-on-year intensity change per entity: normal at jittered mid-stratum quantiles within
    each group, ranked like K (the group's leaders improve most, its laggards slip), so that the
    best and worst colours occur in every group."""
    out = np.empty(groups.size)
    inv = NormalDist().inv_cdf
    for g in np.unique(groups):  # a handful of groups
        rows = np.flatnonzero(groups == g)
        n = rows.size
        u = (np.arange(n) + 0.5 + 0.2 * (rng.random(n) - 0.5)) / n
        out[rows[np.argsort(relative[rows], kind="stable")]] = [inv(x) for x in u]
    return TREND_MEAN + TREND_SIGMA * out


def allocate_min(total: int, shares: list[float], minimum: int) -> NDArray[np.int64]:
    """Split ``total`` by ``shares`` with at least ``minimum`` each (largest remainder)."""
    base = np.full(len(shares), minimum, dtype=np.int64)
    rest = total - int(base.sum())
    raw = np.asarray(shares) * total - minimum
    extra = np.floor(np.clip(raw, 0, None)).astype(np.int64)
    while extra.sum() > rest:
        extra[np.argmax(extra)] -= 1
    order = np.argsort(-(np.clip(raw, 0, None) - extra), kind="stable")
    extra[order[: rest - int(extra.sum())]] += 1
    counts: NDArray[np.int64] = base + extra
    return counts


def county(rng: np.random.Generator) -> str:
    """A county drawn by the city's design shares."""
    return COUNTIES[int(rng.choice(len(COUNTIES), p=[w for _, w in COUNTIES]))][0]


def money(value: float) -> str:
    """10k yuan with 2 decimals, as a string (records carry money exactly)."""
    return str(Decimal(f"{value:.2f}"))


def declared(quantities: Mapping[EnergyType, float]) -> list[dict[str, Any]]:
    """Declared energy totals of a record (native units)."""
    return [
        {"type": t.value, "unit": t.unit, "quantity": q} for t, q in quantities.items() if q > 0
    ]


# --------------------------------------------------------------------------- buildings

BUILDING_SHARES: dict[str, float] = {
    "office": 0.25,
    "retail": 0.12,
    "hotel": 0.10,
    "hospital": 0.10,
    "school": 0.20,
    "data_centre": 0.05,
    "residential": 0.18,
}
_FLOOR_MEDIAN_M2 = {
    "office": 20_000,
    "retail": 30_000,
    "hotel": 25_000,
    "hospital": 40_000,
    "school": 25_000,
    "data_centre": 8_000,
    "residential": 80_000,
}
_GAS_SHARE = {
    "office": 0.05,
    "retail": 0.05,
    "hotel": 0.25,
    "hospital": 0.25,
    "school": 0.10,
    "data_centre": 0.0,
    "residential": 0.30,
}
"""Share of a building's energy emissions from natural gas (the rest is electricity)."""
METERED_BUILDING_SHARE = 0.5
PV_PROBABILITY = 0.3


def plan_building(
    rng: np.random.Generator, i: int, btype: str, k: float, trend: float, ctx: Context
) -> SectorPlan:
    """A building whose weather-normalised intensity is K × its type's design median."""
    intended = k * ctx.medians[(Sector.BUILDING.value, btype)]
    area = round(_FLOOR_MEDIAN_M2[btype] * float(np.exp(0.5 * rng.standard_normal())))
    green_m2 = round(area * rng.uniform(0.03, 0.3))
    green_type = str(rng.choice(["dense_shrubs", "small_trees", "lawn"]))
    rate = ctx.buildings.green_rates[green_type]["kgco2_per_m2_year"]
    params = ctx.buildings.types[btype]
    refs = ctx.buildings.climate_regions["hot_summer_cold_winter"]
    w = 1.0 - params["heating_share"] - params["cooling_share"]
    w += params["heating_share"] * refs["reference_hdd"] / ctx.hdd
    w += params["cooling_share"] * refs["reference_cdd"] / ctx.cdd
    energy_t = (intended * area / 1000.0 + green_m2 * rate / 1000.0) / w
    gas_m3 = energy_t * _GAS_SHARE[btype] / ctx.factors[E.NATURAL_GAS]
    purchased_kwh = energy_t * (1.0 - _GAS_SHARE[btype]) / ctx.factors[E.ELECTRICITY]
    pv_fraction = rng.uniform(0.03, 0.12) if rng.random() < PV_PROBABILITY else 0.0
    pv_kwh = purchased_kwh * pv_fraction / (1.0 - pv_fraction)
    quantities = {E.ELECTRICITY: purchased_kwh + pv_kwh, E.NATURAL_GAS: gas_m3}
    metered = bool(rng.random() < METERED_BUILDING_SHARE)
    entity = EntitySpec(
        f"BLD-{i + 1:03d}",
        f"Quzhou {btype.replace('_', ' ')} building {i + 1:03d}",
        Sector.BUILDING,
        btype,
        county(rng),
        metered,
        pv_kwh > 0,
    )
    section = {
        "type": btype,
        "floor_area_m2": float(area),
        "climate_region": "hot_summer_cold_winter",
        "green_space_m2": float(green_m2),
        "green_space_type": green_type,
        "onsite_renewable_kwh": pv_kwh,
        "hdd": ctx.hdd,
        "cdd": ctx.cdd,
    }
    record = {
        "building": section,
        "declared_energy": [] if metered else declared(quantities),
        "previous_intensity": intended / (1.0 + max(trend, -0.5)),
    }
    meters = tuple(
        (t, q, 0.35 if t is E.ELECTRICITY else 0.0, 0.15 if t is E.ELECTRICITY else 0.6)
        for t, q in quantities.items()
        if metered and q > 0
    )
    return SectorPlan(entity, record, intended, "kgco2_per_m2_year", meters)


# --------------------------------------------------------------------------- transport

TRANSPORT_SHARES: dict[str, float] = {"freight": 0.7, "passenger": 0.3}
TRANSPORT_CODES = {"freight": "G5431", "passenger": "G5411"}
_TRANSPORT_WEIGHT = {
    ("heavy_truck", "diesel"): (1.0, E.DIESEL),
    ("heavy_truck", "lng"): (0.95, E.LNG),
    ("light_truck", "electric"): (0.2, E.ELECTRICITY),
    ("bus", "diesel"): (1.0, E.DIESEL),
    ("bus", "cng"): (0.9, E.CNG),
    ("bus", "electric"): (0.45, E.ELECTRICITY),
}
"""Relative emissions per vehicle and the energy it uses (design values)."""


def plan_transport(
    rng: np.random.Generator, i: int, service: str, k: float, trend: float, ctx: Context
) -> SectorPlan:
    """A freight or passenger firm whose turnover intensity is K × the service's median."""
    intended = k * ctx.medians[(Sector.TRANSPORT.value, service)]
    vehicles = max(8, round(60 * float(np.exp(0.6 * rng.standard_normal()))))
    new_share = rng.uniform(0.0, 0.8)
    gas_share = rng.uniform(0.0, 0.3) * (1.0 - new_share)
    new = round(vehicles * new_share)
    gas = round(vehicles * gas_share)
    kind = "heavy_truck" if service == "freight" else "bus"
    fleet = [
        ("light_truck" if service == "freight" else "bus", "electric", new),
        (kind, "lng" if service == "freight" else "cng", gas),
        (kind, "diesel", max(vehicles - new - gas, 1)),
    ]
    fleet = [f for f in fleet if f[2] > 0]
    turnover = sum(c for _, _, c in fleet) * 1.2e6 * float(np.exp(0.3 * rng.standard_normal()))
    emissions_t = intended * turnover / 100.0 / 1000.0
    weights = {(t, f): _TRANSPORT_WEIGHT[(t, f)][0] * c for t, f, c in fleet}
    total_w = sum(weights.values())
    quantities: dict[EnergyType, float] = {}
    for key, weight in weights.items():
        etype = _TRANSPORT_WEIGHT[key][1]
        quantities[etype] = quantities.get(etype, 0.0) + (
            emissions_t * weight / total_w / ctx.factors[etype]
        )
    entity = EntitySpec(
        f"TRN-{i + 1:03d}",
        f"Quzhou {service} transport firm {i + 1:03d}",
        Sector.TRANSPORT,
        TRANSPORT_CODES[service],
        county(rng),
        False,
        False,
    )
    section: dict[str, Any] = {
        "service": service,
        "fleet": [{"vehicle_type": t, "fuel": f, "count": c} for t, f, c in fleet],
        "freight_tkm" if service == "freight" else "passenger_pkm": turnover,
        "new_energy_share": sum(c for _, f, c in fleet if f == "electric")
        / sum(c for *_, c in fleet),
    }
    record = {
        "transport": section,
        "declared_energy": declared(quantities),
        "previous_intensity": intended / (1.0 + max(trend, -0.5)),
    }
    metric = "kgco2_per_100_tkm" if service == "freight" else "kgco2_per_100_pkm"
    return SectorPlan(entity, record, intended, metric)
