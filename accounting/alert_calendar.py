"""Working and rest days (public holidays, weekend days worked in exchange) for the alert baseline.

A same-weekday baseline compares a Sunday worked in exchange for a holiday (调休) with ordinary
Sundays, and a holiday Wednesday with ordinary Wednesdays, and fires on both. Given the day kind
of each local day, :func:`accounting.alerts.detect_alerts` compares working days with working days
and rest days with rest days instead. The calendar is a versioned data file
(``accounting/data/alerts/cn-holidays-v1.json``) with its source.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
from marshmallow import Schema, ValidationError, fields, validate
from numpy.typing import NDArray

from accounting.alert_config import AlertConfigError
from accounting.datafile import load_json_object
from accounting.schema_errors import one_line

DEFAULT_HOLIDAY_CALENDAR_PATH: Path = (
    Path(__file__).parent / "data" / "alerts" / "cn-holidays-v1.json"
)
WORKING, REST = 0, 1
"""Day kinds."""


@dataclass(frozen=True)
class HolidayYear:
    """One year of the calendar.

    Attributes
    ----------
    rest_days:
        Public holidays (every day of each listed range).
    working_days:
        Weekend days worked in exchange.
    spring_festival:
        First and last day of the official Spring Festival holiday.
    """

    rest_days: frozenset[date]
    working_days: frozenset[date]
    spring_festival: tuple[date, date]


@dataclass(frozen=True)
class HolidayCalendar:
    """Public holidays and exchanged working days by year."""

    version: str
    years: Mapping[int, HolidayYear]

    def day_kinds(self, first: date, days: int) -> NDArray[np.int8]:
        """``(days,)`` ``WORKING`` or ``REST`` for the local days from ``first``.

        Years the calendar does not list fall back to Monday-Friday working.
        """
        out = np.zeros(days, dtype=np.int8)
        for i in range(days):  # one entry per calendar day
            day = first + timedelta(days=i)
            out[i] = self.kind(day)
        return out

    def kind(self, day: date) -> int:
        """``WORKING`` or ``REST`` for one day."""
        year = self.years.get(day.year)
        if year is not None and day in year.rest_days:
            return REST
        if year is not None and day in year.working_days:
            return WORKING
        return REST if day.weekday() >= 5 else WORKING


class _YearSchema(Schema):
    rest_days = fields.List(
        fields.List(fields.Date(), validate=validate.Length(equal=2)), required=True
    )
    working_days = fields.List(fields.Date(), required=True)
    spring_festival = fields.List(fields.Date(), required=True, validate=validate.Length(equal=2))


class _CalendarSchema(Schema):
    version = fields.Str(required=True, validate=validate.Length(min=1, max=64))
    description = fields.Str(required=True)
    source = fields.Str(required=True, validate=validate.Length(min=1))
    years = fields.Dict(
        keys=fields.Str(validate=validate.Regexp(r"^\d{4}$")),
        values=fields.Nested(_YearSchema),
        required=True,
    )


def _year(data: dict[str, Any]) -> HolidayYear:
    rest = {
        lo + timedelta(days=i) for lo, hi in data["rest_days"] for i in range((hi - lo).days + 1)
    }
    first, last = data["spring_festival"]
    return HolidayYear(frozenset(rest), frozenset(data["working_days"]), (first, last))


def holiday_calendar_from_content(
    content: Mapping[str, Any], source: str = "holiday calendar"
) -> HolidayCalendar:
    """Validate a calendar document (unknown keys rejected); errors name source and field."""
    try:
        data = _CalendarSchema().load(dict(content))
    except ValidationError as exc:
        raise AlertConfigError(one_line(exc.messages, source)) from None
    years = {int(k): _year(v) for k, v in data["years"].items()}
    return HolidayCalendar(data["version"], MappingProxyType(years))


def load_holiday_calendar(path: Path | str = DEFAULT_HOLIDAY_CALENDAR_PATH) -> HolidayCalendar:
    """Load and validate a holiday-calendar file; errors name the file and the field."""
    path = Path(path)
    content = load_json_object(path, AlertConfigError)
    return holiday_calendar_from_content(content, path.name)
