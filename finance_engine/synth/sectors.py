"""The synthetic city's buildings, road transport firms and farms (deterministic, synthetic).

``build_sectors(seed, scale, year)`` gives, at ``scale=1.0``, Quzhou's 109 public and commercial
buildings (office, retail, hotel, hospital, school, data centre, residential complex), 55 road
transport firms (freight and passenger) and 845 farms (pig farms, grain growers, tea gardens,
orchards, forestry co-ops), each with an activity record in the ``store_activity`` format; about
half of the buildings are metered at 15 minutes (electricity, and gas where used), with load
shapes that follow a synthetic daily temperature series whose heating and cooling degree days
(HDD18, CDD26) are in the buildings' records. Smaller scales keep at least five entities per
benchmark group, so every carbon-efficiency grade occurs in every sector (see
:mod:`finance_engine.synth.sector_plans`). Everything in it is synthetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from accounting.agriculture_params import load_agriculture_parameters
from accounting.benchmarks import load_benchmark_set
from accounting.buildings import load_building_parameters
from accounting.readings import RawReadings
from accounting.sector_lines import DEFAULT_SECTOR_DIR, load_gwp_sets
from finance_engine.synth.calendar import YearCalendar, year_calendar
from finance_engine.synth.farm_plans import FARM_TYPES, plan_farm
from finance_engine.synth.industries import design_factors
from finance_engine.synth.loadshapes import BLOCK, SLOTS, THREE_SHIFT, MeterModel, generate_block
from finance_engine.synth.meters import MeterSpec
from finance_engine.synth.population import EntitySpec
from finance_engine.synth.sector_plans import (
    BUILDING_SHARES,
    TRANSPORT_SHARES,
    Context,
    SectorPlan,
    allocate_min,
    group_relative,
    group_trends,
    plan_building,
    plan_transport,
)

BUILDINGS_FULL_SCALE = 109
TRANSPORT_FULL_SCALE = 55
FARMS_FULL_SCALE = 845
MIN_PER_GROUP = 5
"""Entities per benchmark group at least (the population benchmark's minimum count)."""
DESIGN_BENCHMARKS = DEFAULT_SECTOR_DIR / "benchmarks-design-v1.json"
_PATTERN = {"office": 0, "school": 0, "retail": 1}
"""Load pattern by building type (one shift, two shifts); the others run around the clock."""
_ABBREV = {"electricity": "EL", "natural_gas": "NG"}


@dataclass(frozen=True, eq=False)
class SectorCity:
    """The sector entities of the synthetic city. Build it with :func:`build_sectors`.

    Attributes
    ----------
    plans:
        One per entity: entity, activity record body, intended intensity and metric.
    meters:
        15-minute meters of the metered buildings (``MeterSpec.index`` = row in the arrays).
    temperature_c:
        ``(days,)`` daily mean temperature, °C.
    hdd, cdd:
        The year's heating (base 18 °C) and cooling (base 26 °C) degree days.
    """

    seed: int
    scale: float
    year: int
    calendar: YearCalendar
    plans: tuple[SectorPlan, ...]
    meters: tuple[MeterSpec, ...]
    model: MeterModel
    temperature_c: NDArray[np.float64]
    hdd: float
    cdd: float

    @property
    def entities(self) -> tuple[EntitySpec, ...]:
        """All sector entities, in plan order."""
        return tuple(p.entity for p in self.plans)

    def activity_records(self) -> list[dict[str, Any]]:
        """The year's activity records (``store_activity`` input), one per entity."""
        period = {"start": f"{self.year}-01-01", "end": f"{self.year}-12-31"}
        return [{"entity_id": p.entity.id, "period": period, **p.record} for p in self.plans]

    def meter_arrays(self, meters: Sequence[int] | NDArray[np.integer]) -> NDArray[np.float32]:
        """Clean interval quantities ``(len(meters), days, 96)`` float32, native units."""
        index = np.asarray(meters, dtype=np.int64)
        out = np.empty((index.size, self.calendar.days, SLOTS), dtype=np.float32)
        no_sun = np.zeros((0, self.calendar.days), dtype=np.float32)
        for block in np.unique(index // BLOCK):  # one generation per 64 meters
            values = generate_block(self.model, int(block), self.calendar, no_sun, self.seed)
            rows = np.nonzero(index // BLOCK == block)[0]
            out[rows] = values[index[rows] - int(block) * BLOCK]
        return out

    def raw_readings(self, meters: Sequence[int] | NDArray[np.integer]) -> RawReadings:
        """The 15-minute readings of ``meters`` as ingest columns (interval starts, all slots)."""
        index = np.asarray(meters, dtype=np.int64)
        values = self.meter_arrays(index).reshape(index.size, -1)
        slots = values.shape[1]
        ref = np.repeat(np.arange(index.size, dtype=np.int32), slots)
        stamps = self.calendar.start_s + 900 * np.tile(np.arange(slots, dtype=np.int64), index.size)
        return RawReadings(
            row=np.arange(1, ref.size + 1, dtype=np.int64),
            meter_ref=ref,
            meter_codes=tuple(self.meters[i].code for i in index),
            timestamp_s=stamps,
            quantity=values.reshape(-1).astype(np.float64),
        )


def _temperature(rng: np.random.Generator, days: int) -> NDArray[np.float64]:
    """Daily mean temperature of a Quzhou-like year: seasonal cosine + AR(1) weather, °C."""
    d = np.arange(days, dtype=np.float64)
    noise = rng.standard_normal(days) * 2.5 * np.sqrt(1 - 0.7**2)
    weather = np.zeros(days)
    for i in range(1, days):  # 365 days, a recursive filter
        weather[i] = 0.7 * weather[i - 1] + noise[i]
    return 17.5 - 11.9 * np.cos(2 * np.pi * (d - 15.0) / 365.0) + weather + rng.normal(0, 0.6)


def _context(year: int, hdd: float, cdd: float) -> Context:
    bench = load_benchmark_set(DESIGN_BENCHMARKS)
    return Context(
        year=year,
        factors=design_factors(year),
        medians={(k[0], k[1]): v.value for k, v in bench.values.items()},
        buildings=load_building_parameters(),
        agriculture=load_agriculture_parameters(),
        gwp=load_gwp_sets().get(None),
        hdd=hdd,
        cdd=cdd,
    )


def _plan_sector(
    rng: np.random.Generator, n: int, shares: dict[str, float], planner: Any, ctx: Context
) -> list[SectorPlan]:
    counts = allocate_min(max(n, MIN_PER_GROUP * len(shares)), list(shares.values()), MIN_PER_GROUP)
    group = np.repeat(np.arange(len(shares)), counts)
    k = group_relative(rng, group)
    trend = group_trends(rng, group, k)
    codes = list(shares)
    return [  # one plan per entity (hundreds), not per reading
        planner(rng, i, codes[group[i]], float(k[i]), float(trend[i]), ctx)
        for i in range(group.size)
    ]


def build_sectors(seed: int, scale: float, year: int = 2024) -> SectorCity:
    """Build the sector entities (deterministic in ``seed``, ``scale`` and ``year``).

    Parameters
    ----------
    seed:
        Random seed.
    scale:
        1.0 for 109 buildings, 55 transport firms and 845 farms; smaller scales keep the shares
        with at least five entities per benchmark group.
    year:
        Calendar year (one with a holiday calendar).
    """
    if not 0 < scale <= 4:
        raise ValueError(f"scale: {scale} must be above 0 and at most 4")
    calendar = year_calendar(year)
    temperature = _temperature(np.random.default_rng([seed, 11]), calendar.days)
    hdd = float(np.maximum(18.0 - temperature, 0.0).sum())
    cdd = float(np.maximum(temperature - 26.0, 0.0).sum())
    ctx = _context(year, hdd, cdd)
    farm_shares = {code: share for code, (_, share) in FARM_TYPES.items()}
    plans = [
        *_plan_sector(
            np.random.default_rng([seed, 12]),
            round(BUILDINGS_FULL_SCALE * scale),
            BUILDING_SHARES,
            plan_building,
            ctx,
        ),
        *_plan_sector(
            np.random.default_rng([seed, 13]),
            round(TRANSPORT_FULL_SCALE * scale),
            TRANSPORT_SHARES,
            plan_transport,
            ctx,
        ),
        *_plan_sector(
            np.random.default_rng([seed, 14]),
            round(FARMS_FULL_SCALE * scale),
            farm_shares,
            plan_farm,
            ctx,
        ),
    ]
    meters, model = _meters(plans, calendar)
    return SectorCity(
        seed,
        scale,
        year,
        _weather_calendar(calendar, temperature),
        tuple(plans),
        meters,
        model,
        temperature,
        hdd,
        cdd,
    )


def _weather_calendar(calendar: YearCalendar, temperature: NDArray[np.float64]) -> YearCalendar:
    """The calendar with seasons from the temperatures (so building loads follow the weather)."""
    heat = np.maximum(18.0 - temperature, 0.0)
    cool = np.maximum(temperature - 24.0, 0.0)
    return replace(
        calendar, summer=cool / max(cool.max(), 1e-9), winter=heat / max(heat.max(), 1e-9)
    )


def _meters(
    plans: Sequence[SectorPlan], calendar: YearCalendar
) -> tuple[tuple[MeterSpec, ...], MeterModel]:
    meters: list[MeterSpec] = []
    params: list[tuple[int, float, float]] = []
    slots = calendar.days * SLOTS
    for plan in plans:  # the metered buildings
        for energy_type, annual, summer, winter in plan.meters:
            code = f"{plan.entity.id}-{_ABBREV[energy_type.value]}1"
            meters.append(
                MeterSpec(
                    len(meters),
                    code,
                    plan.entity.id,
                    energy_type,
                    energy_type.unit,
                    "interval",
                    25.0 * annual / slots,
                    None,
                    annual,
                )
            )
            params.append((_PATTERN.get(plan.entity.industry_code, THREE_SHIFT), summer, winter))
    n = len(meters)
    model = MeterModel(
        pattern=np.array([p[0] for p in params], dtype=np.int8),
        offset=np.zeros(n, dtype=np.int8),
        summer=np.array([p[1] for p in params], dtype=np.float64),
        winter=np.array([p[2] for p in params], dtype=np.float64),
        sigma=np.full(n, 0.04),
        annual=np.array([m.annual_quantity for m in meters], dtype=np.float64),
        weather_row=np.full(n, -1, dtype=np.int64),
    )
    return tuple(meters), model
