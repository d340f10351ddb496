"""Monthly emissions from per-meter monthly totals, with the account's own factor set.

The application sums daily rollups per meter and month; :func:`monthly_series` converts them to
accounting units and applies the same vectorised arithmetic as the account
(:func:`accounting.emissions.emissions_batch`: electricity net of self-consumed renewables, times
the grid factor; fuels and purchased heat by their factors), one row per month.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from accounting.emissions import (
    COLUMN_INDEX,
    EMISSION_COLUMNS,
    EnergyTotal,
    emissions_batch,
    factor_vector,
    to_accounting_quantity,
)
from accounting.energy import EnergyType
from accounting.factors import FactorSet
from reports.content import MonthlyEmissions, MonthlySeries


@dataclass(frozen=True)
class MeterMonth:
    """One meter's total over one calendar month, in the meter's unit."""

    month: str
    """``YYYY-MM``."""
    energy_type: EnergyType
    quantity: float
    unit: str
    steam_enthalpy_kj_per_kg: float | None = None


def months_between(start: date, end: date) -> list[str]:
    """Every ``YYYY-MM`` from ``start``'s month to ``end``'s month, inclusive."""
    out: list[str] = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def monthly_series(
    rows: Sequence[MeterMonth],
    factor_set: FactorSet,
    *,
    period_start: date,
    period_end: date,
    grid_region: str = "",
    declared_tco2e: float = 0.0,
) -> MonthlySeries:
    """Emissions per month of the period (months without data are 0), tCO2e.

    Parameters
    ----------
    rows
        Per-meter monthly totals of the entity's meters; empty for declared-only entities, which
        get an unavailable series.
    declared_tco2e
        The account's emissions from declared (unmetered) energy, not split by month.
    """
    if not rows:
        return MonthlySeries(months=(), declared_tco2e=declared_tco2e)
    months = months_between(period_start, period_end)
    index = {m: i for i, m in enumerate(months)}
    kept = [r for r in rows if r.month in index]
    quantities = np.zeros((len(months), len(EMISSION_COLUMNS)))
    np.add.at(
        quantities,
        (
            np.array([index[r.month] for r in kept], dtype=np.int64),
            np.array([COLUMN_INDEX[r.energy_type] for r in kept], dtype=np.int64),
        ),
        np.array([_accounting_quantity(r, factor_set) for r in kept], dtype=np.float64),
    )
    factors, _ = factor_vector(factor_set, grid_region)
    totals = emissions_batch(quantities, factors).total_tco2e
    return MonthlySeries(
        months=tuple(MonthlyEmissions(m, float(t)) for m, t in zip(months, totals, strict=True)),
        declared_tco2e=declared_tco2e,
    )


def _accounting_quantity(row: MeterMonth, factor_set: FactorSet) -> float:
    total = EnergyTotal(
        row.energy_type,
        row.quantity,
        row.unit,
        steam_enthalpy_kj_per_kg=row.steam_enthalpy_kj_per_kg,
    )
    return to_accounting_quantity(total, factor_set)
