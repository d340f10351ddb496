"""The synthetic city's calendar: local days of a year, Chinese public holidays, seasons.

Public holidays and the weekend days worked in exchange (调休) come from the same versioned
calendar the alert baseline uses (``accounting/data/alerts/cn-holidays-v1.json``). The Spring
Festival closure has a shoulder: 3 days of reduced activity before the official holiday and a
7-day ramp back after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from accounting.alert_calendar import REST, load_holiday_calendar

WORKDAY, SATURDAY, SUNDAY = 0, 1, 2
"""Day types; public holidays count as Sunday."""

_PRE_FESTIVAL_DAYS = 3
_POST_FESTIVAL_DAYS = 7


@dataclass(frozen=True)
class YearCalendar:
    """Per-day attributes of one local year.

    Attributes
    ----------
    year:
        Calendar year.
    start_s:
        Epoch seconds (UTC) of local midnight on 1 January.
    day_type:
        ``(days,)`` int8: ``WORKDAY``, ``SATURDAY`` or ``SUNDAY`` (holidays count as Sunday).
    festival:
        ``(days,)`` float64 in 0-1: depth of the Spring Festival closure (1 = official holiday).
    summer, winter:
        ``(days,)`` float64 in 0-1: how deep into summer (peak late July) and winter (peak mid
        January) each day is.
    """

    year: int
    start_s: int
    day_type: NDArray[np.int8]
    festival: NDArray[np.float64]
    summer: NDArray[np.float64]
    winter: NDArray[np.float64]

    @property
    def days(self) -> int:
        """Days in the year."""
        return int(self.day_type.size)


def year_calendar(year: int, timezone: str = "Asia/Shanghai") -> YearCalendar:
    """The calendar of ``year``; ValueError names the supported years."""
    holidays = load_holiday_calendar()
    if year not in holidays.years:
        known = ", ".join(str(y) for y in sorted(holidays.years))
        raise ValueError(f"year: {year} has no holiday calendar (supported: {known})")
    first = date(year, 1, 1)
    days = (date(year + 1, 1, 1) - first).days
    weekday = (np.arange(days) + first.weekday()) % 7
    rest = holidays.day_kinds(first, days) == REST
    listed = holidays.years[year]
    holiday = np.array([first + timedelta(days=i) in listed.rest_days for i in range(days)])
    saturday = (weekday == 5) & ~holiday
    day_type = np.where(~rest, WORKDAY, np.where(saturday, SATURDAY, SUNDAY))
    festival = listed.spring_festival
    doy = np.arange(days, dtype=np.float64)
    start = datetime(year, 1, 1, tzinfo=ZoneInfo(timezone))
    return YearCalendar(
        year=year,
        start_s=int(start.timestamp()),
        day_type=day_type.astype(np.int8),
        festival=_festival_depth(days, (festival[0] - first).days, (festival[1] - first).days),
        summer=np.exp(-(((doy - 205.0) / 35.0) ** 2)),
        winter=np.exp(-(((doy - 15.0) / 35.0) ** 2)) + np.exp(-(((doy - 380.0) / 35.0) ** 2)),
    )


def _festival_depth(days: int, first: int, last: int) -> NDArray[np.float64]:
    depth = np.zeros(days)
    depth[first : last + 1] = 1.0
    pre = np.arange(max(0, first - _PRE_FESTIVAL_DAYS), first)
    depth[pre] = 0.5
    post = np.arange(last + 1, min(days, last + 1 + _POST_FESTIVAL_DAYS))
    depth[post] = 0.8 * (1.0 - (post - last - 1) / _POST_FESTIVAL_DAYS)
    return depth


def day_dates(year: int) -> list[date]:
    """The local dates of ``year`` in order (for labelling outputs)."""
    first = date(year, 1, 1)
    return [first + timedelta(days=i) for i in range((date(year + 1, 1, 1) - first).days)]
