"""Calculator readings: 15-minute interval values -> per-meter totals and completeness.

Rows are the parsed JSON objects of the calculator's ``readings`` list. Field names and types are
checked column by column, timestamps are parsed vectorised, and the grid, period, meter
consistency and duplicate checks run on numpy arrays. Every error names the row and field.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from accounting.account import Period
from accounting.emissions import EnergyTotal
from accounting.energy import ACCEPTED_UNITS, EnergyType
from accounting.quality import INTERVALS_PER_DAY

CALC_TIMEZONE = ZoneInfo("Asia/Shanghai")
"""Time zone of naive reading timestamps and of the period's local dates."""
INTERVAL_S = 900
READING_KEYS = frozenset({"meter", "type", "unit", "interval_start", "quantity"})


class CalcInputError(ValueError):
    """Bad calculator input; ``str()`` is one line naming the field and the reason."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def sum_readings(rows: Sequence[Any], period: Period) -> tuple[list[EnergyTotal], int, int]:
    """Sum 15-minute readings per meter.

    Parameters
    ----------
    rows
        Parsed JSON objects ``{meter, type, unit, interval_start, quantity}``.
    period
        Readings must start inside it (local dates of :data:`CALC_TIMEZONE`).

    Returns
    -------
    totals, received, expected
        One total per meter (in the meter's unit), distinct intervals received, and
        96 × days × meters intervals expected.
    """
    if not rows:
        return [], 0, 0
    meters, types, units, starts_s, qty = _reading_columns(rows)
    _check_interval_starts(starts_s, period)
    codes, meter_idx, first = _index(meters)
    _check_meter_consistency(meter_idx, first, types, units, codes)
    _check_types_and_units(first, types, units)
    keep = _drop_exact_duplicates(meter_idx, starts_s, qty)
    sums = np.bincount(meter_idx[keep], weights=qty[keep], minlength=len(codes))
    received = int(keep.sum())
    totals = [
        EnergyTotal(EnergyType(str(types[j])), float(s), str(units[j]), code)
        for code, j, s in zip(codes, first, sums, strict=True)  # one per meter
    ]
    return totals, received, period.days * INTERVALS_PER_DAY * len(codes)


def _reading_columns(
    rows: Sequence[Any],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Check the parsed JSON rows column by column and return numpy columns."""
    bad = next(
        (i for i, r in enumerate(rows) if type(r) is not dict or r.keys() != READING_KEYS), None
    )
    if bad is not None:
        _raise_row_shape(bad, rows[bad])
    cols = {key: [r[key] for r in rows] for key in READING_KEYS}
    for key in ("meter", "type", "unit", "interval_start"):
        bad = next((i for i, v in enumerate(cols[key]) if type(v) is not str or not v), None)
        if bad is not None:
            raise CalcInputError(f"readings[{bad}].{key}", "must be a non-empty string")
    bad = next(
        (i for i, v in enumerate(cols["quantity"]) if type(v) not in (int, float, Decimal)), None
    )
    if bad is not None:
        raise CalcInputError(f"readings[{bad}].quantity", "Not a valid number.")
    types = np.array(cols["type"], dtype=object)
    units = np.array(cols["unit"], dtype=object)
    starts = _epoch_seconds(cols["interval_start"])
    qty = np.array([float(q) for q in cols["quantity"]], dtype=np.float64)
    bad_q = np.flatnonzero(~np.isfinite(qty) | (qty < 0))
    if len(bad_q):
        raise CalcInputError(f"readings[{bad_q[0]}].quantity", "must be a finite number >= 0")
    return np.array(cols["meter"], dtype=object), types, units, starts, qty


def _raise_row_shape(i: int, row: Any) -> None:
    if not isinstance(row, dict):
        raise CalcInputError(f"readings[{i}]", "must be an object")
    missing, unknown = READING_KEYS - row.keys(), row.keys() - READING_KEYS
    name = sorted(missing or unknown)[0]
    reason = "Missing data for required field." if missing else "Unknown field."
    raise CalcInputError(f"readings[{i}].{name}", reason)


def _index(meters: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Meter codes in order of appearance, each row's meter index, each meter's first row."""
    positions: dict[str, int] = {}
    idx = np.array([positions.setdefault(m, len(positions)) for m in meters], dtype=np.int64)
    first = np.full(len(positions), -1, dtype=np.int64)
    first[idx[::-1]] = np.arange(len(idx) - 1, -1, -1)
    return list(positions), idx, first


def _check_types_and_units(first: np.ndarray, types: np.ndarray, units: np.ndarray) -> None:
    for row in first:  # one row per meter
        etype, unit = str(types[row]), str(units[row])
        if etype not in {t.value for t in EnergyType}:
            raise CalcInputError(f"readings[{row}].type", f"unknown energy type {etype!r}")
        if unit not in ACCEPTED_UNITS[EnergyType(etype)]:
            raise CalcInputError(f"readings[{row}].unit", f"{unit!r} is not a unit of {etype}")


def _epoch_seconds(texts: list[str]) -> np.ndarray:
    """ISO 8601 date-times -> epoch seconds (naive ones in :data:`CALC_TIMEZONE`), vectorised.

    The date-time part is parsed by numpy; the few distinct offset suffixes (``""``, ``Z``,
    ``+08:00``...) once each. Anything unusual falls back to a row-by-row parse that names the bad
    row.
    """
    try:
        heads = np.array([t[:19] for t in texts], dtype="datetime64[s]").astype(np.int64)
        tails, inverse = np.unique(
            np.array([t[19:] for t in texts], dtype=str), return_inverse=True
        )
        offsets = np.array([_offset_s(str(tail)) for tail in tails], dtype=np.int64)
        return heads - offsets[inverse.reshape(-1)]
    except ValueError:
        return np.array([_epoch_s(i, t) for i, t in enumerate(texts)], dtype=np.int64)


def _offset_s(tail: str) -> int:
    moment = datetime.fromisoformat("2000-01-01T00:00:00" + tail)
    if moment.microsecond:
        raise ValueError("fractional seconds")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CALC_TIMEZONE)
    offset = moment.utcoffset()
    return 0 if offset is None else int(offset.total_seconds())


def _epoch_s(i: int, text: str) -> int:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CalcInputError(f"readings[{i}].interval_start", "not an ISO 8601 date-time") from None
    if moment.microsecond:
        raise CalcInputError(f"readings[{i}].interval_start", "not on the 15-minute grid")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CALC_TIMEZONE)
    return int(moment.timestamp())


def _check_interval_starts(starts_s: np.ndarray, period: Period) -> None:
    first = int(datetime.combine(period.start, time(), CALC_TIMEZONE).timestamp())
    after = int(datetime.combine(period.end + timedelta(days=1), time(), CALC_TIMEZONE).timestamp())
    off_grid = np.flatnonzero(starts_s % INTERVAL_S != 0)
    if len(off_grid):
        raise CalcInputError(f"readings[{off_grid[0]}].interval_start", "not on the 15-minute grid")
    outside = np.flatnonzero((starts_s < first) | (starts_s >= after))
    if len(outside):
        raise CalcInputError(f"readings[{outside[0]}].interval_start", "outside the period")


def _check_meter_consistency(
    meter_idx: np.ndarray, first: np.ndarray, types: np.ndarray, units: np.ndarray, codes: list[str]
) -> None:
    for column, name in ((types, "type"), (units, "unit")):
        bad = np.flatnonzero(column != column[first][meter_idx])
        if len(bad):
            meter = codes[meter_idx[bad[0]]]
            raise CalcInputError(f"readings[{bad[0]}].{name}", f"meter {meter} changes {name}")


def _drop_exact_duplicates(
    meter_idx: np.ndarray, starts_s: np.ndarray, qty: np.ndarray
) -> np.ndarray:
    """Mask keeping the first of each (meter, interval); conflicting duplicates are an error."""
    order = np.lexsort((starts_s, meter_idx))
    same = (meter_idx[order][1:] == meter_idx[order][:-1]) & (
        starts_s[order][1:] == starts_s[order][:-1]
    )
    conflict = same & (qty[order][1:] != qty[order][:-1])
    if conflict.any():
        row = int(order[1:][conflict][0])
        raise CalcInputError(
            f"readings[{row}].quantity", "conflicts with an earlier reading of the same interval"
        )
    keep = np.ones(len(qty), dtype=bool)
    keep[order[1:][same]] = False
    return keep
