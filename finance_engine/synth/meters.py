"""Meters of the synthetic city, sized from each firm's intended emissions.

A firm's yearly quantity of each energy type is its intended emissions × the type's share of its
mix ÷ the design factor. On-site PV adds self-consumed generation to the electricity meter (the
main distribution meter sees grid import plus self-consumed PV) and two PV meters. A metered firm
gets one meter per energy type and extra sub-meters of its main type up to four consumption meters
(three for producers); 15 % of consumption meters report cumulative counters, half of them with
a rollover value (the counter wraps within the year or so) and half without (a register that never
wraps: as in ingest, a drop on such a meter is a reset, and injected resets go there).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from accounting.energy import EnergyType
from finance_engine.synth.calendar import YearCalendar
from finance_engine.synth.loadshapes import (
    ONE_SHIFT,
    SLOTS,
    SOLAR,
    STATION,
    THREE_SHIFT,
    TWO_SHIFT,
    MeterModel,
)
from finance_engine.synth.population import FirmPlan

E = EnergyType
CUMULATIVE_SHARE = 0.15
"""Share of consumption meters that report cumulative counters."""
_ABBREV = {
    E.ELECTRICITY: "EL",
    E.NATURAL_GAS: "NG",
    E.STEAM: "ST",
    E.HEAT: "HT",
    E.RAW_COAL: "RC",
    E.COKE: "CK",
    E.DIESEL: "DI",
    E.GASOLINE: "GA",
    E.FUEL_OIL: "FO",
    E.LPG: "LP",
    E.RENEWABLE_SELF_CONSUMED: "PVS",
    E.RENEWABLE_EXPORTED: "PVX",
}
_SIGMA = {
    E.ELECTRICITY: 0.04,
    E.NATURAL_GAS: 0.06,
    E.STEAM: 0.05,
    E.HEAT: 0.05,
    E.RAW_COAL: 0.07,
    E.COKE: 0.08,
    E.DIESEL: 0.08,
    E.GASOLINE: 0.08,
    E.FUEL_OIL: 0.08,
    E.LPG: 0.08,
    E.RENEWABLE_SELF_CONSUMED: 0.05,
    E.RENEWABLE_EXPORTED: 0.05,
}
"""Interval noise by energy type (fraction)."""
_THERMAL = frozenset({E.NATURAL_GAS, E.STEAM, E.HEAT})
_PATTERN_OF_SHIFTS = {1: ONE_SHIFT, 2: TWO_SHIFT, 3: THREE_SHIFT}
_SOLAR_FARM = "D4416"


@dataclass(frozen=True)
class MeterSpec:
    """A meter of the city (maps to the ``meter`` table)."""

    index: int
    """Row of this meter in every meter array."""
    code: str
    entity_id: str
    energy_type: EnergyType
    unit: str
    reading_kind: str
    """``interval`` or ``cumulative``."""
    rated_max_per_interval: float
    """Most it can register in 15 minutes, native unit (25 × its mean; PV 12 × its mean)."""
    counter_rollover: float | None
    """Where a cumulative counter wraps to zero; None for a register that never wraps."""
    annual_quantity: float
    """Intended yearly total before faults, native unit."""


@dataclass(frozen=True)
class DeclaredTotal:
    """A yearly energy total declared by a firm that is not metered."""

    entity_id: str
    energy_type: EnergyType
    unit: str
    quantity: float
    """Native unit."""


@dataclass(frozen=True, eq=False)
class MeterLayout:
    """What :func:`plan_meters` returns."""

    meters: tuple[MeterSpec, ...]
    declared: tuple[DeclaredTotal, ...]
    model: MeterModel
    counter_start: NDArray[np.float64]
    weather: NDArray[np.float32]


def firm_quantities(plan: FirmPlan, factors: Mapping[EnergyType, float]) -> dict[EnergyType, float]:
    """Yearly energy of a firm by type, native units, consistent with its intended emissions."""
    emissions = plan.activity.emissions_tco2e
    out = {t: emissions * share / factors[t] for t, share in plan.mix.items()}
    if plan.pv_self_fraction > 0:
        self_used = out[E.ELECTRICITY] * plan.pv_self_fraction / (1.0 - plan.pv_self_fraction)
        out[E.ELECTRICITY] += self_used
        out[E.RENEWABLE_SELF_CONSUMED] = self_used
        out[E.RENEWABLE_EXPORTED] = self_used * plan.pv_export_ratio
    if plan.entity.industry_code == _SOLAR_FARM:
        out[E.RENEWABLE_EXPORTED] = (plan.activity.electricity_supplied_mwh or 0.0) * 1000.0
    return out


def plan_meters(
    rng: np.random.Generator,
    plans: list[FirmPlan],
    factors: Mapping[EnergyType, float],
    calendar: YearCalendar,
) -> MeterLayout:
    """Meters of the metered firms, declared totals of the others, and load-shape parameters."""
    meters: list[MeterSpec] = []
    declared: list[DeclaredTotal] = []
    params: list[tuple[int, int, float, float, float, int]] = []
    pv_firms = 0
    for plan in plans:  # one pass over firms (thousands), not over readings
        quantities = firm_quantities(plan, factors)
        if not plan.entity.metered:
            declared.extend(
                DeclaredTotal(plan.entity.id, t, t.unit, q) for t, q in quantities.items()
            )
            continue
        has_sun = plan.entity.has_pv or plan.entity.industry_code == _SOLAR_FARM
        _firm_meters(rng, plan, quantities, pv_firms if has_sun else -1, calendar, meters, params)
        pv_firms += has_sun
    model = _model(params, [m.annual_quantity for m in meters])
    starts = np.array([rng.uniform(0, m.counter_rollover or m.annual_quantity) for m in meters])
    weather = np.clip(rng.beta(2.5, 1.2, size=(pv_firms, calendar.days)), 0.1, 1.0)
    return MeterLayout(tuple(meters), tuple(declared), model, starts, weather.astype(np.float32))


def _firm_meters(
    rng: np.random.Generator,
    plan: FirmPlan,
    quantities: Mapping[EnergyType, float],
    weather_row: int,
    calendar: YearCalendar,
    meters: list[MeterSpec],
    params: list[tuple[int, int, float, float, float, int]],
) -> None:
    """Append one firm's meters and their load-shape parameters."""
    offset = int(rng.integers(-2, 3))
    numbers: dict[EnergyType, int] = {}
    for energy_type, share in _split(rng, plan, quantities):
        numbers[energy_type] = numbers.get(energy_type, 0) + 1
        pattern = _pattern(plan, energy_type)
        summer, winter = _season(plan, energy_type)
        sun_row = weather_row if pattern == SOLAR else -1
        params.append((pattern, offset, summer, winter, _SIGMA[energy_type], sun_row))
        annual = quantities[energy_type] * share
        slots = calendar.days * SLOTS
        meters.append(
            _meter(rng, plan, energy_type, annual, len(meters), numbers[energy_type], slots)
        )


def _split(
    rng: np.random.Generator, plan: FirmPlan, quantities: Mapping[EnergyType, float]
) -> list[tuple[EnergyType, float]]:
    """(energy type, share of the type's yearly quantity) for each meter of the firm."""
    consumption = [
        t for t in quantities if t not in (E.RENEWABLE_SELF_CONSUMED, E.RENEWABLE_EXPORTED)
    ]
    main = max(plan.mix, key=lambda t: plan.mix[t])
    target = 3 if plan.entity.sector.value == "energy" else 4
    extra = max(0, target - len(consumption))
    out: list[tuple[EnergyType, float]] = []
    for energy_type in consumption:
        n = 1 + extra if energy_type == main else 1
        weights = rng.dirichlet(np.full(n, 2.0)) if n > 1 else np.ones(1)
        out.extend((energy_type, float(w)) for w in weights)
    out.extend(
        (t, 1.0) for t in (E.RENEWABLE_SELF_CONSUMED, E.RENEWABLE_EXPORTED) if t in quantities
    )
    return out


def _pattern(plan: FirmPlan, energy_type: EnergyType) -> int:
    if energy_type in (E.RENEWABLE_SELF_CONSUMED, E.RENEWABLE_EXPORTED):
        return SOLAR
    if plan.entity.industry_code == _SOLAR_FARM:
        return STATION
    return _PATTERN_OF_SHIFTS[plan.shifts]


def _season(plan: FirmPlan, energy_type: EnergyType) -> tuple[float, float]:
    """(summer, winter) amplitudes of one meter."""
    if energy_type in (E.RENEWABLE_SELF_CONSUMED, E.RENEWABLE_EXPORTED):
        return 0.0, 0.0
    if plan.entity.sector.value == "energy":
        return plan.summer, plan.winter
    if energy_type is E.ELECTRICITY:
        return plan.summer, 0.5 * plan.summer
    if energy_type in _THERMAL:
        return 0.0, plan.winter
    return 0.0, 0.03


def _meter(
    rng: np.random.Generator,
    plan: FirmPlan,
    energy_type: EnergyType,
    annual: float,
    index: int,
    number: int,
    slots: int,
) -> MeterSpec:
    generation = energy_type in (E.RENEWABLE_SELF_CONSUMED, E.RENEWABLE_EXPORTED)
    cumulative = not generation and rng.random() < CUMULATIVE_SHARE
    wraps = cumulative and rng.random() < 0.5
    code = f"{plan.entity.id}-{_ABBREV[energy_type]}{number}"
    rollover = 10.0 ** math.ceil(math.log10(max(annual * rng.uniform(0.3, 3.0), 1.0)))
    return MeterSpec(
        index=index,
        code=code,
        entity_id=plan.entity.id,
        energy_type=energy_type,
        unit=energy_type.unit,
        reading_kind="cumulative" if cumulative else "interval",
        rated_max_per_interval=(12.0 if generation else 25.0) * annual / slots,
        counter_rollover=rollover if wraps else None,
        annual_quantity=annual,
    )


def _model(
    params: list[tuple[int, int, float, float, float, int]], annual: list[float]
) -> MeterModel:
    columns = list(zip(*params, strict=True)) if params else [()] * 6
    return MeterModel(
        pattern=np.array(columns[0], dtype=np.int8),
        offset=np.array(columns[1], dtype=np.int8),
        summer=np.array(columns[2], dtype=np.float64),
        winter=np.array(columns[3], dtype=np.float64),
        sigma=np.array(columns[4], dtype=np.float64),
        annual=np.array(annual, dtype=np.float64),
        weather_row=np.array(columns[5], dtype=np.int64),
    )
