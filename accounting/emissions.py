"""Emissions from energy totals: scope 1 (fuel combustion) and scope 2 (electricity, heat, steam).

Quantities are in *accounting units*: each type's native unit (:mod:`accounting.energy`), except
steam, which is accounted in GJ (tonnes are converted with the meter's enthalpy, or the factor
set's default, before accounting).

Electricity convention (see :class:`accounting.energy.EnergyType`): ``electricity`` meters
measure site consumption, ``renewable_self_consumed`` is on-site generation used on site, so
purchased electricity = max(electricity − self-consumed, 0) and scope-2 electricity = purchased ×
grid factor. ``renewable_exported`` is reported, never credited.

Two forms with the same arithmetic: :func:`compute_emissions` for one entity (plain floats, with
the factors used) and :func:`emissions_batch` over a ``(entities, EMISSION_COLUMNS)`` matrix for a
city at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from accounting.energy import FUELS, EnergyType, to_native
from accounting.factors import DEFAULT_GRID_REGION, FactorSet, FactorUsed

FloatArray = NDArray[np.float64]

EMISSION_COLUMNS: tuple[EnergyType, ...] = tuple(EnergyType)
"""Column order of quantity and factor matrices."""

COLUMN_INDEX: dict[EnergyType, int] = {t: i for i, t in enumerate(EMISSION_COLUMNS)}

ACCOUNTING_UNIT: dict[EnergyType, str] = {t: t.unit for t in EnergyType} | {EnergyType.STEAM: "GJ"}
"""The unit each column is accounted in (native, steam in GJ)."""

SCOPE2_TYPES: frozenset[EnergyType] = frozenset(
    {EnergyType.ELECTRICITY, EnergyType.HEAT, EnergyType.STEAM}
)
ZERO_CARBON_TYPES: frozenset[EnergyType] = frozenset(
    {EnergyType.RENEWABLE_SELF_CONSUMED, EnergyType.RENEWABLE_EXPORTED}
)

_ELEC = COLUMN_INDEX[EnergyType.ELECTRICITY]
_SELF = COLUMN_INDEX[EnergyType.RENEWABLE_SELF_CONSUMED]
_SCOPE1_COLS = np.array([COLUMN_INDEX[t] for t in EMISSION_COLUMNS if t in FUELS])
_SCOPE2_COLS = np.array([COLUMN_INDEX[t] for t in EMISSION_COLUMNS if t in SCOPE2_TYPES])


@dataclass(frozen=True)
class EnergyTotal:
    """An energy quantity of one type over a period, optionally of one meter."""

    energy_type: EnergyType
    quantity: float
    """In ``unit``."""
    unit: str
    meter: str | None = None
    steam_enthalpy_kj_per_kg: float | None = None
    """For steam in tonnes: the supplier's enthalpy; None uses the factor set's default."""


def to_accounting_quantity(total: EnergyTotal, factor_set: FactorSet) -> float:
    """``total`` converted to its type's accounting unit (steam t -> GJ with the enthalpy)."""
    if total.energy_type is EnergyType.STEAM:
        if total.unit == "GJ":
            return total.quantity
        if total.unit != "t":
            raise ValueError(f"unit {total.unit!r} is not valid for steam; use one of GJ, t")
        return total.quantity * factor_set.steam_gj_per_t(total.steam_enthalpy_kj_per_kg)
    return to_native(total.energy_type, total.quantity, total.unit)


def accounting_quantities(
    totals: Iterable[EnergyTotal], factor_set: FactorSet
) -> dict[EnergyType, float]:
    """Sum ``totals`` per energy type, in accounting units (see :data:`ACCOUNTING_UNIT`)."""
    out: dict[EnergyType, float] = {}
    for total in totals:
        out[total.energy_type] = out.get(total.energy_type, 0.0) + to_accounting_quantity(
            total, factor_set
        )
    return out


def quantity_vector(quantities: Mapping[EnergyType, float]) -> FloatArray:
    """One row of the quantity matrix, shape ``(len(EMISSION_COLUMNS),)``, accounting units."""
    row = np.zeros(len(EMISSION_COLUMNS))
    for etype, qty in quantities.items():
        row[COLUMN_INDEX[etype]] = qty
    return row


def factor_vector(
    factor_set: FactorSet, grid_region: str = DEFAULT_GRID_REGION
) -> tuple[FloatArray, tuple[FactorUsed, ...]]:
    """Factors per accounting unit in column order, shape ``(k,)``, tCO2 per unit; and records."""
    used = [
        factor_set.factor(t, grid_region or DEFAULT_GRID_REGION, ACCOUNTING_UNIT[t])[1]
        for t in EMISSION_COLUMNS
    ]
    return np.array([u.value for u in used]), tuple(used)


def factor_matrix(factor_set: FactorSet, grid_regions: Sequence[str]) -> FloatArray:
    """Per-entity factors, shape ``(n, k)``; one row per entity's grid region (``""``: national)."""
    regions = np.array([r or DEFAULT_GRID_REGION for r in grid_regions], dtype=object)
    unique, inverse = np.unique(regions, return_inverse=True)
    rows = np.stack([factor_vector(factor_set, str(r))[0] for r in unique]) if len(unique) else None
    if rows is None:
        return np.zeros((0, len(EMISSION_COLUMNS)))
    return rows[inverse.reshape(-1)]


@dataclass(frozen=True)
class EmissionsBatch:
    """Emissions of ``n`` entities. All tCO2e; shapes in the field docs."""

    by_type_tco2e: FloatArray
    """``(n, k)`` in :data:`EMISSION_COLUMNS` order (electricity net of self-consumed)."""
    scope1_tco2e: FloatArray
    """``(n,)`` fuel combustion."""
    scope2_tco2e: FloatArray
    """``(n,)`` purchased electricity, heat and steam."""
    total_tco2e: FloatArray
    """``(n,)``."""
    purchased_electricity_kwh: FloatArray
    """``(n,)`` max(electricity − self-consumed renewables, 0)."""


def emissions_batch(quantities: FloatArray, factors: FloatArray) -> EmissionsBatch:
    """Emissions of many entities at once.

    Parameters
    ----------
    quantities
        ``(n, k)`` totals in accounting units, columns in :data:`EMISSION_COLUMNS` order.
    factors
        ``(k,)`` (one factor set and grid region for all) or ``(n, k)``, tCO2 per accounting unit.
    """
    q = np.asarray(quantities, dtype=np.float64)
    if q.ndim != 2 or q.shape[1] != len(EMISSION_COLUMNS):
        raise ValueError(f"quantities must have shape (n, {len(EMISSION_COLUMNS)}), got {q.shape}")
    purchased = np.maximum(q[:, _ELEC] - q[:, _SELF], 0.0)
    effective = q.copy()
    effective[:, _ELEC] = purchased
    by_type = effective * np.asarray(factors, dtype=np.float64)
    scope1 = by_type[:, _SCOPE1_COLS].sum(axis=1)
    scope2 = by_type[:, _SCOPE2_COLS].sum(axis=1)
    return EmissionsBatch(by_type, scope1, scope2, scope1 + scope2, purchased)


@dataclass(frozen=True)
class Emissions:
    """Emissions of one entity for one period, tCO2e."""

    total_tco2e: float
    scope1_tco2e: float
    scope2_tco2e: float
    by_energy_tco2e: Mapping[str, float]
    """Per emitting energy type present (electricity net of self-consumed renewables)."""
    purchased_electricity_kwh: float
    factors_used: tuple[FactorUsed, ...]
    """One per energy type present, per accounting unit."""


def compute_emissions(
    quantities: Mapping[EnergyType, float],
    factor_set: FactorSet,
    grid_region: str = DEFAULT_GRID_REGION,
) -> Emissions:
    """Emissions of one entity from totals per type in accounting units (scalar arithmetic)."""
    elec = quantities.get(EnergyType.ELECTRICITY, 0.0)
    self_used = quantities.get(EnergyType.RENEWABLE_SELF_CONSUMED, 0.0)
    purchased = max(elec - self_used, 0.0)
    by_energy: dict[str, float] = {}
    used: list[FactorUsed] = []
    scope1 = scope2 = 0.0
    for etype in EMISSION_COLUMNS:  # a fixed dozen types, not rows
        if etype not in quantities:
            continue
        value, record = factor_set.factor(
            etype, grid_region or DEFAULT_GRID_REGION, ACCOUNTING_UNIT[etype]
        )
        used.append(record)
        if etype in ZERO_CARBON_TYPES:
            continue
        qty = purchased if etype is EnergyType.ELECTRICITY else quantities[etype]
        tco2e = qty * value
        by_energy[etype.value] = tco2e
        if etype in FUELS:
            scope1 += tco2e
        else:
            scope2 += tco2e
    return Emissions(scope1 + scope2, scope1, scope2, by_energy, purchased, tuple(used))


def factor_records(
    factor_set: FactorSet, grid_region: str = DEFAULT_GRID_REGION
) -> dict[EnergyType, FactorUsed]:
    """The :class:`FactorUsed` of every energy type, per accounting unit, for one grid region."""
    _, used = factor_vector(factor_set, grid_region)
    return dict(zip(EMISSION_COLUMNS, used, strict=True))


def emissions_at(
    batch: EmissionsBatch,
    j: int,
    present: Iterable[EnergyType],
    factors_used: Mapping[EnergyType, FactorUsed],
) -> Emissions:
    """The :class:`Emissions` of entity ``j`` of ``batch`` (``present``: its energy types)."""
    types = [t for t in EMISSION_COLUMNS if t in set(present)]
    by_energy = {
        t.value: float(batch.by_type_tco2e[j, COLUMN_INDEX[t]])
        for t in types
        if t not in ZERO_CARBON_TYPES
    }
    return Emissions(
        float(batch.total_tco2e[j]),
        float(batch.scope1_tco2e[j]),
        float(batch.scope2_tco2e[j]),
        by_energy,
        float(batch.purchased_electricity_kwh[j]),
        tuple(factors_used[t] for t in types),
    )


def line_emissions(
    entity_idx: NDArray[np.int64],
    columns: NDArray[np.int64],
    quantities: FloatArray,
    quantity_matrix: FloatArray,
    factors: FloatArray,
) -> FloatArray:
    """Emissions of individual lines (meters, totals) of many entities, tCO2e, shape ``(m,)``.

    Parameters
    ----------
    entity_idx, columns, quantities
        ``(m,)`` each line's entity row, column in :data:`EMISSION_COLUMNS`, quantity in
        accounting units.
    quantity_matrix
        ``(n, k)`` the entities' totals (for the renewable deduction).
    factors
        ``(k,)`` or ``(n, k)`` tCO2 per accounting unit.

    The self-consumed renewable deduction is shared among an entity's electricity lines in
    proportion to their consumption, so its electricity lines sum to its net electricity
    emissions.
    """
    f = np.broadcast_to(np.asarray(factors, dtype=np.float64), quantity_matrix.shape)
    elec = quantity_matrix[:, _ELEC]
    net = np.maximum(elec - quantity_matrix[:, _SELF], 0.0)
    share = np.where(elec > 0, net / np.where(elec > 0, elec, 1.0), 0.0)
    line_share = np.where(columns == _ELEC, share[entity_idx], 1.0)
    out: FloatArray = quantities * f[entity_idx, columns] * line_share
    return out


def emissions_by_meter(
    totals: Sequence[EnergyTotal],
    factor_set: FactorSet,
    grid_region: str = DEFAULT_GRID_REGION,
) -> dict[str, float]:
    """Emissions per meter code of one entity, tCO2e (totals without a meter are left out).

    The self-consumed renewable deduction is shared among electricity meters in proportion to
    their consumption (see :func:`line_emissions`).
    """
    if not any(t.meter for t in totals):
        return {}
    qty = np.array([to_accounting_quantity(t, factor_set) for t in totals])
    col = np.array([COLUMN_INDEX[t.energy_type] for t in totals], dtype=np.int64)
    matrix = np.bincount(col, weights=qty, minlength=len(EMISSION_COLUMNS)).astype(np.float64)
    matrix = matrix[None, :]
    factors, _ = factor_vector(factor_set, grid_region)
    tco2e = line_emissions(np.zeros(len(totals), dtype=np.int64), col, qty, matrix, factors)
    out: dict[str, float] = {}
    for total, value in zip(totals, tco2e, strict=True):  # a handful of meters
        if total.meter:
            out[total.meter] = out.get(total.meter, 0.0) + float(value)
    return out


def intensity(emissions_tco2e: FloatArray | float, denominator: FloatArray | float) -> FloatArray:
    """Emissions per unit of ``denominator``; NaN where the denominator is missing or not > 0."""
    num = np.asarray(emissions_tco2e, dtype=np.float64)
    den = np.asarray(denominator, dtype=np.float64)
    valid = np.isfinite(den) & (den > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(valid, num / np.where(valid, den, 1.0), np.nan)
