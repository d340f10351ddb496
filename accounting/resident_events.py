"""Behaviour events of residents: columns, and their validation (vectorised, no row loop).

An event is ``(event_id, resident_id, occurred_at, behaviour, quantity, unit)``. Ids are positive
64-bit integers (bank transaction serials, card numbers mapped upstream); ``occurred_at`` is epoch
seconds UTC (the parser reads naive timestamps as local time, Asia/Shanghai by default).

Validation rejects, naming the field (the first failing check wins, in this order):

- ``event_id`` / ``resident_id`` not a positive integer;
- ``behaviour`` missing or unknown;
- ``unit`` not accepted for the behaviour (a missing unit means the behaviour's own unit);
- ``occurred_at`` before the first behaviour factor table, in a gap between tables, or in the
  future (later than ``now_s`` plus a tolerance);
- ``quantity`` not finite, not positive, not whole for counted behaviours (trips, payments...),
  or implausible: above the table's ``max_per_event``;
- ``event_id`` repeated within the batch with different content (the later rows are rejected);
  exact repeats are counted as duplicates and dropped.

Repeats of events already stored are the storage layer's business (same rules).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from accounting.readings import Rejection
from accounting.resident_behaviours import (
    BEHAVIOUR_CODES,
    BEHAVIOURS_BY_CODE,
    N_CODES,
    UNIT_ALIASES,
    Behaviour,
)
from accounting.resident_points import ResidentTables

FUTURE_TOLERANCE_S = 300
"""Events up to this many seconds after ``now`` are accepted (clock skew of the source)."""


@dataclass(frozen=True, eq=False)
class RawResidentEvents:
    """Parsed but unvalidated events, as columns.

    ``behaviour_ref`` and ``unit_ref`` index ``behaviour_names`` and ``units`` (-1: missing);
    ``unit_ref`` is None when the input has no unit column. ``row`` numbers rows for rejections.
    """

    row: NDArray[np.int64]
    event_id: NDArray[np.int64]
    resident_id: NDArray[np.int64]
    occurred_at_s: NDArray[np.int64]
    behaviour_ref: NDArray[np.int32]
    behaviour_names: tuple[str, ...]
    quantity: NDArray[np.float64]
    unit_ref: NDArray[np.int32] | None = None
    units: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.row)


@dataclass(frozen=True, eq=False)
class ResidentEvents:
    """Validated events: behaviour as its numeric code (int8), quantity in its canonical unit."""

    row: NDArray[np.int64]
    event_id: NDArray[np.int64]
    resident_id: NDArray[np.int64]
    occurred_at_s: NDArray[np.int64]
    behaviour: NDArray[np.int8]
    quantity: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.row)

    def take(self, index: NDArray[Any]) -> ResidentEvents:
        """The events at ``index`` (an index array or boolean mask)."""
        return ResidentEvents(
            self.row[index],
            self.event_id[index],
            self.resident_id[index],
            self.occurred_at_s[index],
            self.behaviour[index],
            self.quantity[index],
        )


@dataclass(frozen=True, eq=False)
class ValidatedEvents:
    """The accepted events, the rejected rows and the count of exact in-batch repeats."""

    events: ResidentEvents
    rejections: tuple[Rejection, ...]
    duplicates: int


class _Rejects:
    def __init__(self, rows: NDArray[np.int64]) -> None:
        self.rows = rows
        self.mask = np.zeros(len(rows), dtype=bool)
        self.items: list[Rejection] = []

    def add(self, where: NDArray[np.bool_], field: str, reason: Callable[[int], str]) -> None:
        """Reject the rows in ``where`` not rejected yet; ``reason(i)`` words row ``i``'s."""
        index = np.flatnonzero(where & ~self.mask)
        self.items.extend(Rejection(int(self.rows[i]), field, reason(int(i))) for i in index)
        self.mask[index] = True


def _codes(raw: RawResidentEvents) -> NDArray[np.int8]:
    known = {b.value: BEHAVIOUR_CODES[b] for b in Behaviour}
    lookup = np.array([known.get(n, 0) for n in raw.behaviour_names] + [0], dtype=np.int8)
    return lookup[raw.behaviour_ref]


def _unit_multipliers(raw: RawResidentEvents, code: NDArray[np.int8]) -> NDArray[np.float64]:
    """Canonical units per given unit, NaN where the unit does not fit the behaviour."""
    if raw.unit_ref is None:
        return np.ones(len(raw))
    table = np.full((N_CODES, len(raw.units) + 1), np.nan)
    table[:, -1] = 1.0  # missing unit: the behaviour's own
    for c, behaviour in BEHAVIOURS_BY_CODE.items():
        for j, unit in enumerate(raw.units):
            table[c, j] = UNIT_ALIASES[behaviour].get(unit, np.nan)
    return table[code, raw.unit_ref]


def _table_bounds(
    tables: ResidentTables, tz: ZoneInfo
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Start and end (exclusive) epoch seconds of each factor table, and its max per event."""
    starts, ends, maxima = [], [], []
    for t in tables.tables:
        starts.append(int(datetime(*t.effective_from.timetuple()[:3], tzinfo=tz).timestamp()))
        if t.effective_to is None:
            ends.append(np.iinfo(np.int64).max)
        else:
            last = datetime(*t.effective_to.timetuple()[:3], tzinfo=tz).timestamp()
            ends.append(int(last) + 86_400)
        row = np.zeros(N_CODES)
        for b, e in t.entries.items():
            row[b.code] = e.max_per_event
        maxima.append(row)
    return np.array(starts), np.array(ends), np.array(maxima)


def _check_ids_and_codes(
    raw: RawResidentEvents, code: NDArray[np.int8], mult: NDArray[np.float64], rj: _Rejects
) -> None:
    rj.add(raw.event_id <= 0, "event_id", lambda i: "must be a positive integer")
    rj.add(raw.resident_id <= 0, "resident_id", lambda i: "must be a positive integer")
    names = ", ".join(b.value for b in Behaviour)

    def bad_behaviour(i: int) -> str:
        ref = int(raw.behaviour_ref[i])
        if ref < 0 or not raw.behaviour_names[ref]:
            return "missing"
        return f"{raw.behaviour_names[ref]!r} is not a known behaviour ({names})"

    rj.add(code == 0, "behaviour", bad_behaviour)

    def bad_unit(i: int) -> str:
        behaviour = BEHAVIOURS_BY_CODE[int(code[i])]
        given = raw.units[int(raw.unit_ref[i])] if raw.unit_ref is not None else ""
        accepted = ", ".join(UNIT_ALIASES[behaviour])
        return f"{given!r} is not a unit of {behaviour.value} (use {accepted})"

    rj.add(np.isnan(mult), "unit", bad_unit)


def _check_time_and_quantity(
    raw: RawResidentEvents,
    code: NDArray[np.int8],
    quantity: NDArray[np.float64],
    bounds: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]],
    now_s: int,
    first_day: str,
    rj: _Rejects,
) -> None:
    starts, ends, maxima = bounds
    t = raw.occurred_at_s
    table = np.searchsorted(starts, t, side="right") - 1
    covered = (table >= 0) & (t < ends[np.maximum(table, 0)])
    rj.add(
        ~covered, "occurred_at", lambda i: f"no behaviour factor table covers it (from {first_day})"
    )
    rj.add(t > now_s + FUTURE_TOLERANCE_S, "occurred_at", lambda i: "is in the future")
    q = quantity
    rj.add(~np.isfinite(q), "quantity", lambda i: "must be a finite number")
    rj.add(~(q > 0), "quantity", lambda i: "must be positive")
    whole = np.array([b.whole_units for b in Behaviour], dtype=bool)
    is_count = np.zeros(N_CODES, dtype=bool)
    is_count[[b.code for b in Behaviour]] = whole
    rj.add(is_count[code] & (q != np.round(q)), "quantity", lambda i: "must be a whole number")
    most = maxima[np.maximum(table, 0), code]

    def implausible(i: int) -> str:
        unit = BEHAVIOURS_BY_CODE[int(code[i])].unit
        return f"{q[i]:g} {unit} is implausible: above the {most[i]:g} {unit} one event may carry"

    rj.add(q > most, "quantity", implausible)


def _in_batch_repeats(ev: ResidentEvents) -> tuple[NDArray[np.bool_], list[Rejection], int]:
    """Keep-mask after dropping exact repeats and rejecting conflicting repeats of an id."""
    order = np.argsort(ev.event_id, kind="stable")
    ids = ev.event_id[order]
    start = np.r_[True, ids[1:] != ids[:-1]] if len(ids) else np.zeros(0, dtype=bool)
    if start.all():
        return np.ones(len(ev), dtype=bool), [], 0
    head = order[np.maximum.accumulate(np.where(start, np.arange(len(ids)), 0))]
    same = (
        (ev.resident_id[order] == ev.resident_id[head])
        & (ev.occurred_at_s[order] == ev.occurred_at_s[head])
        & (ev.behaviour[order] == ev.behaviour[head])
        & (ev.quantity[order] == ev.quantity[head])
    )
    keep = np.ones(len(ev), dtype=bool)
    keep[order[~start]] = False
    conflict = order[~start & ~same]
    rejections = [
        Rejection(
            int(ev.row[i]),
            "event_id",
            f"{int(ev.event_id[i])} repeats row {int(ev.row[h])} with different content",
        )
        for i, h in zip(conflict.tolist(), head[~start & ~same].tolist(), strict=True)
    ]
    return keep, rejections, int((~start & same).sum())


def validate_events(
    raw: RawResidentEvents, tables: ResidentTables, tz: ZoneInfo, now_s: int
) -> ValidatedEvents:
    """Validate ``raw`` against the vocabulary and the factor tables (see the module docstring).

    Parameters
    ----------
    raw:
        Parsed events.
    tables:
        The factor tables (their effective ranges and per-event maxima apply).
    tz:
        Zone of the tables' effective dates (local days).
    now_s:
        The current time, epoch seconds UTC (events after it are in the future).
    """
    code = _codes(raw)
    mult = _unit_multipliers(raw, code)
    rj = _Rejects(raw.row)
    _check_ids_and_codes(raw, code, mult, rj)
    quantity = raw.quantity * np.nan_to_num(mult, nan=1.0)
    bounds = _table_bounds(tables, tz)
    first_day = tables.first_day.isoformat()
    _check_time_and_quantity(raw, code, quantity, bounds, now_s, first_day, rj)
    good = ~rj.mask
    events = ResidentEvents(
        raw.row[good],
        raw.event_id[good],
        raw.resident_id[good],
        raw.occurred_at_s[good],
        code[good],
        quantity[good],
    )
    keep, conflicts, duplicates = _in_batch_repeats(events)
    rejections = tuple(sorted(rj.items + conflicts, key=lambda r: (r.row, r.field)))
    return ValidatedEvents(events.take(keep), rejections, duplicates)
