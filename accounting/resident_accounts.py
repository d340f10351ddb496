"""Monthly personal carbon accounts of all residents at once (numpy, no loop over residents).

Input: one month's events as columns (resident index, local day of month, behaviour code,
quantity). Per resident the month gives:

- ``reduction_g``: sum of quantity x g/unit over the resident's events (uncapped);
- ``capped_g``: the same after the daily caps: per (resident, day, behaviour) group, quantity
  above the rules' daily cap earns nothing;
- ``points``: ``floor(capped_g / g_co2_per_point + 1e-6)``;
- cumulative points and reduction (previous month's plus this month's) and the level reached.

Grouping is sort-based. Events in *canonical order* (sorted by resident, day, behaviour; the
synthetic city and :meth:`MonthEvents.in_canonical_order` produce it) need no sort: the group
key is checked to be non-decreasing (one pass) and only the events that share a group with a
neighbour are grouped, because a single event never exceeds a daily cap (the rules refuse caps
below the table's ``max_per_event``). Unordered input is sorted first (``np.argsort``, stable).
Work is a few passes over the event arrays; memory is about 40 bytes per event plus 40 per
resident.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from accounting.factors import DEFAULT_GRID_REGION, FactorSet
from accounting.resident_behaviours import (
    BEHAVIOURS_BY_CODE,
    N_CODES,
    FactorTableError,
    ResolvedFactors,
    resolve_factors,
)
from accounting.resident_points import PointsRules, ResidentTables, levels_of

DAYS_IN_KEY: Final = 32
"""Day-of-month slots in a group key (days 0..30)."""
POINT_TOLERANCE: Final = 1e-6
"""Added before flooring points, so float summation error never loses a whole point."""


@dataclass(frozen=True, eq=False)
class MonthEvents:
    """One month's events as columns, all ``(n_events,)``.

    Attributes
    ----------
    resident_index:
        int32, the resident's position ``0 .. n_residents-1`` in the account arrays.
    day:
        int8, local day of the month, 0-based (0 = the 1st).
    behaviour:
        int8, :attr:`~accounting.resident_behaviours.Behaviour.code`.
    quantity:
        float64, in the behaviour's canonical unit.
    """

    resident_index: NDArray[np.int32]
    day: NDArray[np.int8]
    behaviour: NDArray[np.int8]
    quantity: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.quantity)

    def take(self, index: NDArray[Any]) -> MonthEvents:
        """The events at ``index`` (index array or boolean mask)."""
        return MonthEvents(
            self.resident_index[index], self.day[index], self.behaviour[index], self.quantity[index]
        )

    def group_keys(self) -> NDArray[np.int64] | NDArray[np.int32]:
        """``(resident x 32 + day) x 16 + behaviour``: one key per (resident, day, behaviour).

        int32 while resident indices stay below 2**22 (4.19 million), else int64.
        """
        wide = len(self) > 0 and int(self.resident_index.max()) >= 1 << 22
        dtype = np.int64 if wide else np.int32
        key = np.multiply(self.resident_index, DAYS_IN_KEY * N_CODES, dtype=dtype)
        key += np.multiply(self.day, N_CODES, dtype=dtype)
        key += self.behaviour
        return key

    def in_canonical_order(self) -> MonthEvents:
        """The same events sorted by (resident, day, behaviour), stable."""
        return self.take(stable_order(self.group_keys()))


@dataclass(frozen=True, eq=False)
class MonthParameters:
    """Everything a month's accounting applies, resolved (arrays indexed by behaviour code)."""

    month: date
    """First day of the month."""
    factors: ResolvedFactors
    rules: PointsRules
    daily_cap: NDArray[np.float64]
    level_min_points: NDArray[np.int64]

    @property
    def g_per_unit(self) -> NDArray[np.float64]:
        """``(N_CODES,)`` grams CO2 avoided per canonical unit."""
        return self.factors.g_per_unit

    @property
    def versions(self) -> dict[str, str]:
        """Factor table, points rules, factor set and grid region used."""
        return {
            "factor_table": self.factors.table_version,
            "points_rules": self.rules.version,
            "factor_set": self.factors.factor_set_version,
            "grid_region": self.factors.grid_region,
        }


def month_parameters(
    tables: ResidentTables,
    factor_set: FactorSet,
    month: date,
    grid_region: str = DEFAULT_GRID_REGION,
) -> MonthParameters:
    """The factor table and points rules effective on the month's first day, resolved.

    Raises
    ------
    FactorTableError
        No table or rules cover the month, the grid region is unknown, or a daily cap is
        below the table's per-event maximum.
    """
    first = month.replace(day=1)
    factors = resolve_factors(tables.table_on(first), factor_set, grid_region)
    rules = tables.rules_on(first)
    caps = rules.daily_cap_by_code
    for code, behaviour in BEHAVIOURS_BY_CODE.items():
        if caps[code] < factors.max_per_event[code]:
            raise FactorTableError(
                f"points rules {rules.version}: daily cap of {behaviour.value} "
                f"({caps[code]:g}) is below the factor table {factors.table_version} maximum "
                f"per event ({factors.max_per_event[code]:g})"
            )
    return MonthParameters(first, factors, rules, caps, rules.level_min_points)


@dataclass(frozen=True, eq=False)
class MonthlyAccounts:
    """One month's accounts of ``n`` residents, arrays ``(n,)`` by resident index."""

    params: MonthParameters
    reduction_g: NDArray[np.float64]
    """CO2 avoided this month, g (uncapped)."""
    capped_g: NDArray[np.float64]
    """CO2 avoided that earns points after the daily caps, g."""
    points: NDArray[np.int64]
    cumulative_points: NDArray[np.int64]
    cumulative_reduction_g: NDArray[np.float64]
    level: NDArray[np.int8]
    """Level reached with the cumulative points, 1 = lowest."""
    events: int
    sorted_input: bool
    """True when the events came in canonical order (no sort was needed)."""

    def __len__(self) -> int:
        return len(self.points)

    def level_counts(self) -> dict[int, int]:
        """Residents per level (every level of the rules, zero included)."""
        counts = np.bincount(self.level, minlength=len(self.params.level_min_points) + 1)
        return {lv: int(counts[lv]) for lv in range(1, len(counts))}

    def summary(self) -> Mapping[str, Any]:
        """Totals for reports: residents, events, kg avoided, points, level counts, versions."""
        return {
            "month": self.params.month.isoformat()[:7],
            "residents": len(self),
            "events": self.events,
            "reduction_kg": float(self.reduction_g.sum()) / 1000,
            "points": int(self.points.sum()),
            "levels": self.level_counts(),
            **self.params.versions,
        }


def _check_bounds(events: MonthEvents) -> None:
    """Day and behaviour ranges (resident indices are checked by the bincount itself)."""
    if not len(events):
        return
    if int(events.day.min()) < 0 or int(events.day.max()) >= DAYS_IN_KEY - 1:
        raise ValueError("day: must lie in 0 .. 30 (0-based day of the month)")
    if int(events.behaviour.min()) < 1 or int(events.behaviour.max()) >= N_CODES:
        raise ValueError(f"behaviour: must be a behaviour code 1 .. {N_CODES - 1}")


def stable_order(key: NDArray[np.int64] | NDArray[np.int32]) -> NDArray[np.intp]:
    """Indices that sort ``key`` stably (non-negative keys).

    Keys and positions are packed into one int64 and sorted by value, which is about twice
    as fast as ``np.argsort(kind="stable")``; falls back to that when they do not fit.
    """
    pos_bits = max(1, (len(key) - 1).bit_length())
    if not len(key) or int(key.max()) >= 1 << (62 - pos_bits):
        return np.argsort(key, kind="stable")
    packed = key.astype(np.int64) << pos_bits
    packed |= np.arange(len(key), dtype=np.int64)
    packed.sort()
    packed &= (1 << pos_bits) - 1
    return packed.astype(np.intp, copy=False)


def _excess_g(
    events: MonthEvents,
    key: NDArray[np.int64] | NDArray[np.int32],
    same: NDArray[np.bool_],
    params: MonthParameters,
) -> tuple[NDArray[np.int32], NDArray[np.float64]]:
    """Residents and grams above the daily caps, from the groups of more than one event."""
    shared = np.zeros(len(key), dtype=bool)
    shared[1:] = same
    shared[:-1] |= same
    idx = np.flatnonzero(shared)
    sub = key[idx]
    starts = np.flatnonzero(np.r_[True, sub[1:] != sub[:-1]])
    total = np.add.reduceat(events.quantity[idx], starts)
    first = idx[starts]
    code = events.behaviour[first]
    over = total - params.daily_cap[code]
    hit = over > 0
    return events.resident_index[first][hit], over[hit] * params.g_per_unit[code][hit]


def compute_month(
    events: MonthEvents,
    n_residents: int,
    params: MonthParameters,
    previous_points: NDArray[np.int64] | None = None,
    previous_reduction_g: NDArray[np.float64] | None = None,
) -> MonthlyAccounts:
    """Monthly accounts of ``n_residents`` residents from their events.

    Parameters
    ----------
    events:
        The month's events (any order; canonical order is fastest).
    n_residents:
        Number of residents (length of the result arrays).
    params:
        From :func:`month_parameters`.
    previous_points, previous_reduction_g:
        ``(n_residents,)`` cumulative points and grams before this month (zeros if None).
    """
    _check_bounds(events)
    key = events.group_keys()
    sorted_input = bool(np.all(key[1:] >= key[:-1]))
    if not sorted_input:
        order = stable_order(key)
        events, key = events.take(order), key[order]
    g = events.quantity * params.g_per_unit[events.behaviour]
    if len(events) and int(events.resident_index.min()) < 0:
        raise ValueError(f"resident_index: must lie in 0 .. {n_residents - 1}")
    reduction: NDArray[np.float64] = np.bincount(
        events.resident_index, weights=g, minlength=n_residents
    ).astype(np.float64, copy=False)
    if len(reduction) != n_residents:
        raise ValueError(f"resident_index: must lie in 0 .. {n_residents - 1}")
    capped = reduction.copy()
    same = key[1:] == key[:-1]
    if same.any():
        who, excess = _excess_g(events, key, same, params)
        np.subtract.at(capped, who, excess)
    points = np.floor(capped / params.rules.g_co2_per_point + POINT_TOLERANCE).astype(np.int64)
    cum_points = points if previous_points is None else previous_points + points
    cum_g: NDArray[np.float64] = (
        reduction if previous_reduction_g is None else previous_reduction_g + reduction
    )
    return MonthlyAccounts(
        params=params,
        reduction_g=reduction,
        capped_g=capped,
        points=points,
        cumulative_points=cum_points,
        cumulative_reduction_g=cum_g,
        level=levels_of(cum_points, params.level_min_points),
        events=len(events),
        sorted_input=sorted_input,
    )
