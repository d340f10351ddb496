"""The alert baseline: median and MAD of the same slot over previous weeks (vectorised).

For each meter and evaluated slot, the baseline values are the same slot 1, 2, ..., ``weeks``
weeks earlier (672 slots per week). With a :class:`DayCalendar`, only days of the same kind
(working or rest) count, and a day whose kind differs from its weekday's usual kind (a weekend
day worked in exchange for a holiday, a weekday holiday) is compared with the same slot of the
last Friday (worked) or Sunday (holiday) of each previous week.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

INTERVAL_S = 900
"""Seconds in one interval."""
SLOTS_PER_DAY = 96
"""15-minute intervals in a day."""
SLOTS_PER_WEEK = 672
"""15-minute intervals in a week."""
WORKING_DAY, REST_DAY = 0, 1
"""Day kinds of :class:`DayCalendar` (as :mod:`accounting.alert_calendar`)."""
_CHUNK_VALUES = 4_000_000
"""Baseline values (meters × slots × weeks) processed at once, to bound memory."""

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]


@dataclass(frozen=True)
class DayCalendar:
    """Local days of an interval array, for a calendar-aware baseline.

    Attributes
    ----------
    day_kind:
        ``(days,)`` ``WORKING`` (0) or ``REST`` (1) for every local day the array touches,
        from the day of slot 0 (see :meth:`accounting.alert_calendar.HolidayCalendar.day_kinds`).
    first_slot_of_day:
        Slot of the local day at which slot 0 falls (0 when the array starts at midnight).
    first_weekday:
        Weekday of day 0, Monday = 0.
    """

    day_kind: NDArray[np.int8]
    first_slot_of_day: int = 0
    first_weekday: int = 0

    @classmethod
    def for_grid(cls, day_kind: NDArray[np.int8], start_s: int, utc_offset_s: int) -> DayCalendar:
        """The calendar of an array starting at ``start_s`` in a zone ``utc_offset_s`` east."""
        local_s = start_s + utc_offset_s
        return cls(
            np.asarray(day_kind, dtype=np.int8),
            (local_s % 86_400) // INTERVAL_S,
            (local_s // 86_400 + 3) % 7,
        )


def weekly_baseline(
    quantity: NDArray[np.floating],
    eval_from_slot: int,
    weeks: int,
    min_weeks_present: int,
    calendar: DayCalendar | None = None,
) -> tuple[Floats, Floats]:
    """Median and MAD of the same slot over the previous ``weeks`` weeks.

    Parameters
    ----------
    quantity:
        ``(meters, slots)`` interval quantities, native unit; ``NaN`` = missing.
    eval_from_slot:
        First slot that needs a baseline; history before it is only read.
    weeks:
        Previous weeks looked at (slot − 672·w for w = 1..weeks).
    min_weeks_present:
        Fewest non-missing values for a baseline; otherwise ``NaN``.
    calendar:
        With it, only days of the same kind (working or rest) count, and a day whose kind
        differs from its weekday's usual kind (a weekend day worked, a weekday holiday) is
        compared with the same slot of the last Friday (worked) or Sunday (holiday) of each
        previous week instead.

    Returns
    -------
    (median, mad):
        Each ``(meters, slots − eval_from_slot)`` float64, native unit; ``NaN`` without baseline.
    """
    q = np.asarray(quantity, dtype=np.float64)
    meters, slots = q.shape
    width = slots - eval_from_slot
    sources = _sources(eval_from_slot, slots, weeks, calendar)
    median = np.full((meters, width), np.nan)
    mad = np.full((meters, width), np.nan)
    step = max(1, _CHUNK_VALUES // max(1, width * weeks))
    for lo in range(0, meters, step):  # bounded-memory chunks; vectorised inside
        hist = _history(q[lo : lo + step], sources)
        med = _nanmedian_last(hist, min_weeks_present)
        median[lo : lo + step] = med
        mad[lo : lo + step] = _nanmedian_last(np.abs(hist - med[..., None]), min_weeks_present)
    return median, mad


def _sources(eval_from: int, slots: int, weeks: int, calendar: DayCalendar | None) -> Ints:
    """``(weeks, evaluated slots)``: the slot each baseline value comes from, −1 for none."""
    t = np.arange(eval_from, slots, dtype=np.int64)
    lag = SLOTS_PER_WEEK * np.arange(1, weeks + 1, dtype=np.int64)[:, None]
    if calendar is None:
        src = t[None, :] - lag
        return np.where(src >= 0, src, -1)
    kind = np.asarray(calendar.day_kind, dtype=np.int8)
    days_needed = (calendar.first_slot_of_day + slots - 1) // SLOTS_PER_DAY + 1
    if kind.shape != (days_needed,):
        raise ValueError(f"calendar.day_kind: needs {days_needed} days, got {kind.shape}")
    weekday = (calendar.first_weekday + np.arange(days_needed)) % 7
    usual = (weekday >= 5).astype(np.int8)
    reference = np.where(kind == usual, weekday, np.where(kind == WORKING_DAY, 4, 6))
    shift = (reference - weekday) % 7  # days forward to the reference weekday, then back a week
    day = (calendar.first_slot_of_day + t) // SLOTS_PER_DAY
    src = t[None, :] + SLOTS_PER_DAY * shift[day][None, :] - lag
    src_day = (calendar.first_slot_of_day + np.maximum(src, 0)) // SLOTS_PER_DAY
    valid = (src >= 0) & (kind[src_day] == kind[day][None, :])
    return np.where(valid, src, -1)


def _history(q: Floats, sources: Ints) -> Floats:
    """``(meters, width, weeks)``: the baseline values of each evaluated slot."""
    weeks, width = sources.shape
    hist = np.full((q.shape[0], width, weeks), np.nan)
    for w in range(weeks):  # one gather per week
        ok = sources[w] >= 0
        hist[:, ok, w] = q[:, sources[w][ok]]
    return hist


def _nanmedian_last(values: Floats, min_present: int) -> Floats:
    """Median over the last (short) axis ignoring NaN; NaN where fewer than ``min_present``."""
    ordered = np.sort(values, axis=-1)  # NaN sort last
    present = np.count_nonzero(~np.isnan(values), axis=-1)
    lo = np.maximum(present - 1, 0) // 2
    hi = present // 2
    hi = np.minimum(hi, values.shape[-1] - 1)
    low = np.take_along_axis(ordered, lo[..., None], axis=-1)[..., 0]
    high = np.take_along_axis(ordered, hi[..., None], axis=-1)[..., 0]
    median = 0.5 * (low + high)
    median[present < max(min_present, 1)] = np.nan
    return median


def pooled_relative_mad(median: Floats, mad: Floats) -> Floats:
    """``(meters, 1)`` median over slots of MAD ÷ median: the meter's typical relative noise.

    One slot's MAD comes from only a few weeks and is sometimes near zero by chance; the
    pooled value is a robust per-meter floor for it.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        relative = np.where(median > 0, mad / median, np.nan)
    present = ~np.isnan(relative)
    out = np.full((median.shape[0], 1), np.nan)
    rows = present.any(axis=1)
    out[rows, 0] = np.nanmedian(relative[rows], axis=1)
    return out
