"""Residents' personal carbon accounts: the public API and the one-resident calculator.

The pieces live in :mod:`accounting.resident_behaviours` (vocabulary, factor tables),
:mod:`accounting.resident_points` (points rules, levels, table registry),
:mod:`accounting.resident_events` (event validation) and :mod:`accounting.resident_accounts`
(vectorised monthly accounts). :func:`calc_resident` computes one resident's months from a
self-contained JSON document without a database (``examples/resident.json``)::

    {
      "entity": {"id": "1001", "sector": "resident", "name"?: "..."},
      "period": {"start": "2024-05-01", "end": "2024-06-30"},   # whole months, local dates
      "events": [{"event_id": 1, "occurred_at": "2024-05-02T08:10:00", "behaviour": "bus_ride",
                  "quantity": 1, "unit"?: "trip"}, ...],
      "previous"?: {"cumulative_points": 0, "cumulative_reduction_g": 0},
      "grid_region"?: "national", "factor_set"?: "CN-2023"
    }

Naive timestamps are Asia/Shanghai. Exact repeats of an event are ignored; any invalid event is
an error naming ``events[i].field``. Months without events still appear (zero points).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from accounting.calc_readings import CALC_TIMEZONE, CalcInputError
from accounting.factors import (
    DEFAULT_GRID_REGION,
    FactorSet,
    FactorSetError,
    FactorSetRegistry,
    load_factor_set_dir,
)
from accounting.resident_accounts import (
    MonthEvents,
    MonthlyAccounts,
    MonthParameters,
    compute_month,
    month_parameters,
)
from accounting.resident_behaviours import (
    BEHAVIOURS_BY_CODE,
    Behaviour,
    FactorTableError,
    ResolvedFactors,
    resolve_factors,
)
from accounting.resident_events import (
    RawResidentEvents,
    ResidentEvents,
    ValidatedEvents,
    validate_events,
)
from accounting.resident_points import (
    Level,
    PointsRules,
    ResidentTables,
    levels_of,
    load_resident_tables,
)
from accounting.schema_errors import flatten_messages

__all__ = [
    "Behaviour",
    "FactorTableError",
    "Level",
    "MonthEvents",
    "MonthParameters",
    "MonthlyAccounts",
    "PointsRules",
    "RawResidentEvents",
    "ResidentEvents",
    "ResidentTables",
    "ResolvedFactors",
    "ValidatedEvents",
    "calc_resident",
    "compute_month",
    "levels_of",
    "load_resident_tables",
    "month_parameters",
    "month_starts",
    "resolve_factors",
    "validate_events",
]


class _EntitySchema(Schema):
    id = fields.Str(required=True, validate=validate.Length(min=1, max=64))
    sector = fields.Str(required=True, validate=validate.Equal("resident"))
    name = fields.Str(load_default="", validate=validate.Length(max=200))


class _PeriodSchema(Schema):
    start = fields.Date(required=True)
    end = fields.Date(required=True)

    @validates_schema
    def _whole_months(self, data: dict[str, Any], **_: Any) -> None:
        if data["start"].day != 1:
            raise ValidationError("must be the first day of a month", "start")
        if date.fromordinal(data["end"].toordinal() + 1).day != 1:
            raise ValidationError("must be the last day of a month", "end")
        if data["end"] < data["start"]:
            raise ValidationError("must not be before start", "end")


class _PreviousSchema(Schema):
    cumulative_points = fields.Int(load_default=0, validate=validate.Range(min=0))
    cumulative_reduction_g = fields.Float(load_default=0.0, validate=validate.Range(min=0))


class _EventSchema(Schema):
    event_id = fields.Int(required=True, strict=True)
    occurred_at = fields.Str(required=True)
    behaviour = fields.Str(required=True)
    quantity = fields.Float(required=True, allow_nan=True)
    unit = fields.Str(load_default=None)


class _ResidentDocSchema(Schema):
    entity = fields.Nested(_EntitySchema, required=True)
    period = fields.Nested(_PeriodSchema, required=True)
    events = fields.List(fields.Nested(_EventSchema), required=True)
    previous = fields.Nested(_PreviousSchema, load_default=None)
    grid_region = fields.Str(load_default=DEFAULT_GRID_REGION, validate=validate.Length(min=1))
    factor_set = fields.Str(load_default=None, validate=validate.Length(min=1, max=64))


def month_starts(start: date, end: date) -> list[date]:
    """First days of the months from ``start``'s month to ``end``'s month, inclusive."""
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _epoch_s(i: int, text: str) -> int:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CalcInputError(f"events[{i}].occurred_at", f"{text!r} is not ISO 8601") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CALC_TIMEZONE)
    return int(moment.timestamp())


def _raw(events: Sequence[Mapping[str, Any]]) -> RawResidentEvents:
    names = tuple(sorted({e["behaviour"] for e in events}))
    units = tuple(sorted({e["unit"] for e in events if e["unit"] is not None}))
    return RawResidentEvents(
        row=np.arange(len(events), dtype=np.int64),
        event_id=np.array([e["event_id"] for e in events], dtype=np.int64),
        resident_id=np.ones(len(events), dtype=np.int64),
        occurred_at_s=np.array(
            [_epoch_s(i, e["occurred_at"]) for i, e in enumerate(events)], dtype=np.int64
        ),
        behaviour_ref=np.array([names.index(e["behaviour"]) for e in events], dtype=np.int32),
        behaviour_names=names,
        quantity=np.array([e["quantity"] for e in events], dtype=np.float64),
        unit_ref=np.array(
            [-1 if e["unit"] is None else units.index(e["unit"]) for e in events], dtype=np.int32
        ),
        units=units,
    )


def _local_dates(seconds: np.ndarray[Any, Any]) -> list[date]:
    return [datetime.fromtimestamp(int(s), CALC_TIMEZONE).date() for s in seconds.tolist()]


def _choose_factor_set(version: str | None, month: date, registry: FactorSetRegistry) -> FactorSet:
    try:
        return registry.get(version) if version else registry.effective_on(month)
    except FactorSetError as exc:
        raise CalcInputError("factor_set" if version else "period.start", str(exc)) from None


def _by_behaviour(ev: ResidentEvents, factors: ResolvedFactors) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for code in sorted(set(ev.behaviour.tolist())):
        behaviour, mask = BEHAVIOURS_BY_CODE[code], ev.behaviour == code
        quantity = float(ev.quantity[mask].sum())
        out[behaviour.value] = {
            "events": int(mask.sum()),
            "quantity": quantity,
            "unit": behaviour.unit,
            "g_per_unit": round(factors.factor(behaviour), 4),
            "reduction_g": round(quantity * factors.factor(behaviour), 4),
        }
    return out


def _month_row(acc: MonthlyAccounts, ev: ResidentEvents) -> dict[str, Any]:
    level = acc.params.rules.levels[int(acc.level[0]) - 1]
    return {
        "month": acc.params.month.isoformat()[:7],
        "events": acc.events,
        "reduction_g": round(float(acc.reduction_g[0]), 4),
        "capped_g": round(float(acc.capped_g[0]), 4),
        "points": int(acc.points[0]),
        "cumulative_points": int(acc.cumulative_points[0]),
        "cumulative_reduction_g": round(float(acc.cumulative_reduction_g[0]), 4),
        "level": level.level,
        "level_name": level.name,
        "level_name_zh": level.name_zh,
        "by_behaviour": _by_behaviour(ev, acc.params.factors),
        **acc.params.versions,
    }


def _validated(data: Mapping[str, Any], tables: ResidentTables) -> ResidentEvents:
    raw = _raw(data["events"])
    # no clock in the calculator: the period check below bounds the events instead
    checked = validate_events(raw, tables, CALC_TIMEZONE, now_s=2**62)
    if checked.rejections:
        r = checked.rejections[0]
        raise CalcInputError(f"events[{r.row}].{r.field}", r.reason)
    ev = checked.events
    days = _local_dates(ev.occurred_at_s)
    start, end = data["period"]["start"], data["period"]["end"]
    for i, d in zip(ev.row.tolist(), days, strict=True):
        if not start <= d <= end:
            raise CalcInputError(f"events[{i}].occurred_at", f"{d} is outside the period")
    return ev


def calc_resident(
    doc: Mapping[str, Any],
    *,
    factor_sets: FactorSetRegistry | None = None,
    tables: ResidentTables | None = None,
) -> dict[str, Any]:
    """One resident's monthly accounts from a calculator document (see the module docstring).

    ``factor_sets`` and ``tables`` default to the packaged data files. Raises
    :class:`~accounting.calc_readings.CalcInputError` naming the field on bad input.
    """
    try:
        data = _ResidentDocSchema().load(dict(doc))
    except ValidationError as exc:
        field, reason = flatten_messages(exc.messages)[0]
        raise CalcInputError(field, reason) from None
    factor_sets = factor_sets or load_factor_set_dir()
    tables = tables or load_resident_tables()
    ev = _validated(data, tables)
    months = [date.fromisoformat(d.isoformat()[:8] + "01") for d in _local_dates(ev.occurred_at_s)]
    prev = data["previous"] or {"cumulative_points": 0, "cumulative_reduction_g": 0.0}
    cum_points = np.array([prev["cumulative_points"]], dtype=np.int64)
    cum_g = np.array([prev["cumulative_reduction_g"]], dtype=np.float64)
    rows = []
    for month in month_starts(data["period"]["start"], data["period"]["end"]):
        factor_set = _choose_factor_set(data["factor_set"], month, factor_sets)
        try:
            params = month_parameters(tables, factor_set, month, data["grid_region"])
        except FactorTableError as exc:
            raise CalcInputError("grid_region", str(exc)) from None
        mask = np.array([m == month for m in months], dtype=bool)
        mev = ev.take(mask)
        day = np.array([d.day - 1 for d in _local_dates(mev.occurred_at_s)], dtype=np.int8)
        acc = compute_month(
            MonthEvents(np.zeros(len(mev), dtype=np.int32), day, mev.behaviour, mev.quantity),
            1,
            params,
            cum_points,
            cum_g,
        )
        cum_points, cum_g = acc.cumulative_points, acc.cumulative_reduction_g
        rows.append(_month_row(acc, mev))
    return _result(data, rows, params)


def _result(
    data: Mapping[str, Any], rows: list[dict[str, Any]], params: MonthParameters
) -> dict[str, Any]:
    last, levels = rows[-1], params.rules.levels
    nxt = levels[last["level"]] if last["level"] < len(levels) else None
    f = params.factors
    return {
        "entity": {**data["entity"]},
        "period": {"start": data["period"]["start"], "end": data["period"]["end"]},
        "months": rows,
        "totals": {
            "events": sum(r["events"] for r in rows),
            "reduction_g": round(sum(r["reduction_g"] for r in rows), 4),
            "points": sum(r["points"] for r in rows),
            "cumulative_points": last["cumulative_points"],
            "cumulative_reduction_g": last["cumulative_reduction_g"],
            "level": last["level"],
            "level_name": last["level_name"],
        },
        "next_level": None
        if nxt is None
        else {
            "level": nxt.level,
            "min_points": nxt.min_points,
            "points_to_go": nxt.min_points - last["cumulative_points"],
        },
        "factors": {
            b.value: {
                "g_per_unit": round(f.factor(b), 4),
                "unit": b.unit,
                "basis": f.basis[b],
                "status": f.statuses[b],
                "source": f.sources[b],
            }
            for b in Behaviour
        },
    }
