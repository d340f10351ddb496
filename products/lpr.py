"""Loan Prime Rate history as dated reference data, and lookups by date and tenor.

The LPR is fixed on the 20th of each month (next business day when that is a holiday). The data
file lists the fixings at which a rate changed (it may also list unchanged ones); a fixing stays in
force until the next listed one. ``confirmed_through`` is the last fixing date checked against a
source: lookups after it return the last known fixing, and callers can compare dates with it to
warn that the file needs updating.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from products.model import LprTenor
from products.schema import flatten_messages

DEFAULT_LPR_PATH = Path(__file__).parent / "data" / "lpr.json"
"""The packaged LPR history."""


class LprError(ValueError):
    """An LPR history file is unreadable or invalid, or a date precedes the first fixing."""


@dataclass(frozen=True)
class LprFixing:
    """One monthly LPR fixing, percent a year."""

    fixing_date: date
    lpr_1y_pct: Decimal
    lpr_5y_pct: Decimal
    source: str
    confidence: str
    """C confirmed in a public source, P partly confirmed, U unconfirmed."""

    def rate_pct(self, tenor: LprTenor) -> Decimal:
        """The fixing for ``tenor``, percent."""
        return self.lpr_1y_pct if tenor is LprTenor.ONE_YEAR else self.lpr_5y_pct


@dataclass(frozen=True)
class LprHistory:
    """Dated LPR fixings, oldest first."""

    version: str
    fixings: tuple[LprFixing, ...]
    confirmed_through: date

    def fixing_on(self, on: date) -> LprFixing:
        """The fixing in force on ``on`` (the latest one dated on or before it).

        Raises
        ------
        LprError
            If ``on`` precedes the first fixing in the history.
        """
        index = bisect_right([fixing.fixing_date for fixing in self.fixings], on)
        if index == 0:
            first = self.fixings[0].fixing_date
            raise LprError(f"no LPR fixing on or before {on.isoformat()} (history starts {first})")
        return self.fixings[index - 1]

    def rate_pct(self, on: date, tenor: LprTenor) -> Decimal:
        """The LPR of ``tenor`` in force on ``on``, percent a year."""
        return self.fixing_on(on).rate_pct(tenor)

    def fixings_in_force(self, start: date, end: date | None) -> tuple[LprFixing, ...]:
        """Every fixing in force on at least one day of ``[start, end]`` (``end`` None: open).

        Raises
        ------
        LprError
            If ``start`` precedes the first fixing in the history.
        """
        first = self.fixing_on(start)
        later = tuple(
            fixing
            for fixing in self.fixings
            if start < fixing.fixing_date and (end is None or fixing.fixing_date <= end)
        )
        return (first, *later)


class _FixingSchema(Schema):
    date = fields.Date(required=True)
    lpr_1y_pct = fields.Decimal(required=True, validate=validate.Range(0, 20, min_inclusive=False))
    lpr_5y_pct = fields.Decimal(required=True, validate=validate.Range(0, 20, min_inclusive=False))
    source = fields.String(required=True, validate=validate.Length(min=1))
    confidence = fields.String(required=True, validate=validate.OneOf(["C", "P", "U"]))


class _HistorySchema(Schema):
    format = fields.String(required=True, validate=validate.Equal("finance-engine/lpr@1"))
    version = fields.String(required=True, validate=validate.Length(min=1))
    description = fields.String(load_default="")
    confirmed_through = fields.Date(required=True)
    fixings = fields.List(fields.Nested(_FixingSchema), required=True, validate=validate.Length(1))

    @validates_schema
    def _dates_increase(self, data: dict[str, Any], **_: Any) -> None:
        dates = [fixing["date"] for fixing in data["fixings"]]
        for index, (before, after) in enumerate(pairwise(dates), start=1):
            if after <= before:
                raise ValidationError(
                    f"dates must strictly increase: {after} follows {before}",
                    f"fixings[{index}].date",
                )
        if data["confirmed_through"] < dates[-1]:
            raise ValidationError("precedes the last fixing date", "confirmed_through")


def load_lpr(path: Path | str = DEFAULT_LPR_PATH) -> LprHistory:
    """Read and validate an LPR history file.

    Raises
    ------
    LprError
        Naming the file and every invalid field.
    """
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
        data = _HistorySchema().load(raw)
    except OSError as exc:
        raise LprError(f"{path}: cannot read: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise LprError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}") from exc
    except ValidationError as exc:
        problems = "; ".join(f"{f}: {m}" for f, m in flatten_messages(exc.messages))
        raise LprError(f"{path}: invalid LPR history: {problems}") from exc
    fixings = tuple(
        LprFixing(
            fixing_date=item["date"],
            lpr_1y_pct=item["lpr_1y_pct"],
            lpr_5y_pct=item["lpr_5y_pct"],
            source=item["source"],
            confidence=item["confidence"],
        )
        for item in data["fixings"]
    )
    return LprHistory(
        version=data["version"], fixings=fixings, confirmed_through=data["confirmed_through"]
    )


@cache
def default_lpr_history() -> LprHistory:
    """The packaged LPR history (read once per process)."""
    return load_lpr(DEFAULT_LPR_PATH)


def lpr_on(on: date, tenor: LprTenor | str, history: LprHistory | None = None) -> Decimal:
    """The LPR of ``tenor`` ("1y" or "5y") in force on ``on``, percent a year.

    Uses the packaged history unless ``history`` is given.
    """
    return (history or default_lpr_history()).rate_pct(on, LprTenor(tenor))
