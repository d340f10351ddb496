"""Farms of the synthetic city: pig farms, grain growers, tea gardens, orchards, forestry co-ops.

Each farm's inputs are sized so that its gross intensity (tCO2e per head for pig farms, per
hectare otherwise) equals ``K × design median`` (see :mod:`finance_engine.synth.sector_plans`):

- pig farm: the manure system is the most emitting of liquid slurry, anaerobic digester, solid
  storage and daily spread whose enteric + manure CH4 stays within 80 % of the target; energy
  (electricity, diesel) makes up the rest;
- grain grower: the paddy share of the cropland (single or double rice, a water regime) is solved
  from the target, with 220 kg N/ha (less for very low targets) and at least 0.2 tCO2/ha of
  energy;
- tea garden / orchard: 350 / 250 kg N/ha (less for very low targets), the rest energy;
- forestry co-op: energy only (machinery fuel, electricity); its forest is a large sink.

Everything here is synthetic.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from accounting.energy import EnergyType
from accounting.sector_lines import N2O_PER_N2O_N
from accounting.vocab import Sector
from finance_engine.synth.population import EntitySpec
from finance_engine.synth.sector_plans import Context, SectorPlan, county, declared, money

E = EnergyType
FARM_TYPES: dict[str, tuple[str, float]] = {
    "A0313": ("pig farm", 0.22),
    "A0111": ("grain grower", 0.38),
    "A0164": ("tea garden", 0.15),
    "A0151": ("orchard", 0.12),
    "A0231": ("forestry co-op", 0.13),
}
"""GB/T 4754-2017 class (as recalled) -> (kind, share of the city's farms)."""
_PIG_SYSTEMS = ("liquid_slurry", "anaerobic_digester", "solid_storage", "daily_spread")
_ENERGY_MIX: dict[str, dict[EnergyType, float]] = {
    "A0313": {E.ELECTRICITY: 0.8, E.DIESEL: 0.2},
    "A0111": {E.DIESEL: 0.6, E.ELECTRICITY: 0.4},
    "A0164": {E.ELECTRICITY: 0.6, E.LPG: 0.2, E.DIESEL: 0.2},
    "A0151": {E.ELECTRICITY: 0.5, E.DIESEL: 0.5},
    "A0231": {E.DIESEL: 0.5, E.GASOLINE: 0.3, E.ELECTRICITY: 0.2},
}
_N_RATE = {"A0111": 220.0, "A0164": 350.0, "A0151": 250.0}
"""Synthetic nitrogen applied, kg N/ha."""
_OUTPUT_PER_UNIT = {"A0313": 0.35, "A0111": 0.3, "A0164": 1.2, "A0151": 0.8, "A0231": 0.15}
"""Output value, 10k yuan per head or per ha."""


def _energy(ctx: Context, code: str, tco2: float) -> dict[EnergyType, float]:
    return {t: tco2 * s / ctx.factors[t] for t, s in _ENERGY_MIX[code].items()}


def plan_farm(
    rng: np.random.Generator, i: int, code: str, k: float, trend: float, ctx: Context
) -> SectorPlan:
    """A farm of industry ``code`` whose primary intensity is K × its design median."""
    target = k * ctx.medians[(Sector.AGRICULTURE.value, code)]
    if code == "A0313":
        section, units, energy_t, intended = _pig(rng, target, ctx)
        metric = "tco2e_per_head"
    elif code == "A0111":
        section, units, energy_t, intended = _grain(rng, target, ctx)
        metric = "tco2e_per_ha"
    elif code == "A0231":
        units = round(800 * float(np.exp(0.8 * rng.standard_normal())), 1) + 50
        section, energy_t, intended = {"forest_ha": units}, target * units, target
        metric = "tco2e_per_ha"
    else:
        section, units, energy_t, intended = _plantation(rng, code, target, ctx)
        metric = "tco2e_per_ha"
    kind = FARM_TYPES[code][0]
    entity = EntitySpec(
        f"AGR-{i + 1:04d}",
        f"Quzhou {kind} {i + 1:04d}",
        Sector.AGRICULTURE,
        code,
        county(rng),
        False,
        False,
    )
    output = units * _OUTPUT_PER_UNIT[code] * float(np.exp(0.2 * rng.standard_normal()))
    record = {
        "agriculture": section,
        "declared_energy": declared(_energy(ctx, code, energy_t)),
        "output_value_10k_yuan": money(output),
        "previous_intensity": intended / (1.0 + max(trend, -0.5)),
    }
    return SectorPlan(entity, record, intended, metric)


def _pig(
    rng: np.random.Generator, target: float, ctx: Context
) -> tuple[dict[str, Any], float, float, float]:
    heads = float(max(200, round(3000 * float(np.exp(0.8 * rng.standard_normal())))))
    enteric = ctx.agriculture.species["pig"]["enteric_ch4_kg_per_head_year"]
    per_head = {
        s: (enteric + ctx.agriculture.manure_ch4_kg_per_head_year("pig", s))
        * ctx.gwp.ch4_non_fossil
        / 1000.0
        for s in _PIG_SYSTEMS
    }
    system = next((s for s in _PIG_SYSTEMS if per_head[s] <= 0.8 * target), _PIG_SYSTEMS[-1])
    intended = max(target, per_head[system] / 0.8)
    section: dict[str, Any] = {
        "livestock": {"pig": heads},
        "manure": [{"species": "pig", "system": system, "share": 1.0}],
    }
    if rng.random() < 0.35:
        section["organic_fertiliser_t"] = round(heads * 0.4, 1)
    if rng.random() < 0.3:
        section["orchard_ha"] = round(float(rng.uniform(5, 40)), 1)
    return section, heads, (intended - per_head[system]) * heads, intended


def _n2o_per_kg_n(ef: float, ctx: Context) -> float:
    """tCO2e per kg N at emission factor ``ef`` (kg N2O-N/kg N)."""
    return ef * N2O_PER_N2O_N * ctx.gwp.n2o / 1000.0


def _grain(
    rng: np.random.Generator, target: float, ctx: Context
) -> tuple[dict[str, Any], float, float, float]:
    cropland = round(max(5.0, 60 * float(np.exp(0.7 * rng.standard_normal()))), 1)
    days = [105, 115] if rng.random() < 0.5 else [125]
    regime = str(rng.choice(list(ctx.agriculture.water_regimes)))
    sf = ctx.agriculture.water_regimes[regime]["scaling_factor"]
    rice = ctx.agriculture.rice_kg_ch4_per_ha_day * sf * sum(days) * ctx.gwp.ch4_non_fossil / 1e3
    n_rate = _N_RATE["A0111"]
    upland = n_rate * _n2o_per_kg_n(ctx.agriculture.ef1, ctx)
    flooded = n_rate * _n2o_per_kg_n(ctx.agriculture.ef1fr, ctx)
    e_min = 0.2
    share = float(np.clip((target - e_min - upland) / (rice + flooded - upland), 0.0, 1.0))
    if share * cropland < 0.5:
        share = 0.0
    n_scale = 1.0
    if share == 0.0 and target - e_min < upland:
        n_scale = max(target - e_min, 0.0) / upland
    emitted = share * (rice + flooded * n_scale) + (1 - share) * upland * n_scale
    intended = max(target, emitted + 0.05)
    section: dict[str, Any] = {
        "cropland_ha": cropland,
        "fertiliser_n_kg": n_rate * n_scale * cropland,
        "flooded_rice_n_share": share,
        "rice": [
            {"area_ha": share * cropland, "season_days": d, "water_regime": regime} for d in days
        ]
        if share > 0
        else [],
    }
    return section, cropland, (intended - emitted) * cropland, intended


def _plantation(
    rng: np.random.Generator, code: str, target: float, ctx: Context
) -> tuple[dict[str, Any], float, float, float]:
    area = round(max(2.0, 20 * float(np.exp(0.7 * rng.standard_normal()))), 1)
    n_rate = _N_RATE[code]
    per_ha = n_rate * _n2o_per_kg_n(ctx.agriculture.ef1, ctx)
    n_scale = min(1.0, max(target - 0.15, 0.0) / per_ha)
    emitted = per_ha * n_scale
    intended = max(target, emitted + 0.05)
    section = {"orchard_ha": area, "fertiliser_n_kg": n_rate * n_scale * area}
    return section, area, (intended - emitted) * area, intended
