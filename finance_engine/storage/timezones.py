"""UTC offsets of a time zone for millions of instants, vectorised.

Offsets are looked up once per distinct hour of the data with :mod:`zoneinfo`; only the rows in
an hour that contains a transition (a DST change) are looked up one by one. Fixed-offset zones
such as Asia/Shanghai therefore cost one lookup per hour of the batch's span, and a span asked
for again (every chunk of one ingest covers the same year) costs nothing: the hourly offsets of
dense spans are cached per zone and span.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

DAY_S = 86_400
_EPOCH = datetime(1970, 1, 1)
_DENSE_HOURS = (
    200_000  # spans up to ~23 years are probed hour by hour, sparser data by unique hours
)


@lru_cache(maxsize=16)
def zone(name: str) -> ZoneInfo:
    """The :class:`~zoneinfo.ZoneInfo` named ``name`` (cached)."""
    return ZoneInfo(name)


def _offset(seconds: int, tz: ZoneInfo, wall: bool, fold: int = 0) -> int:
    if wall:
        local = (_EPOCH + timedelta(seconds=seconds)).replace(tzinfo=tz, fold=fold)
        delta = local.utcoffset()
    else:
        delta = datetime.fromtimestamp(seconds, UTC).astimezone(tz).utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


def _probe(points: NDArray[np.int64], tz: ZoneInfo, wall: bool) -> NDArray[np.int64]:
    return np.array([_offset(p, tz, wall) for p in points.tolist()], dtype=np.int64)


@lru_cache(maxsize=64)
def _span_offsets(
    tz: ZoneInfo, first_hour: int, last_hour: int, wall: bool
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Offsets at the first and last second of every hour ``first_hour..last_hour`` (hours
    since the epoch), read-only. Cached: the chunks of one ingest, and its validation, storage
    and rollup steps, ask for the same span again and again."""
    hours = np.arange(first_hour, last_hour + 1, dtype=np.int64) * 3600
    at_start, at_end = _probe(hours, tz, wall), _probe(hours + 3599, tz, wall)
    at_start.flags.writeable = False
    at_end.flags.writeable = False
    return at_start, at_end


def utc_offsets_s(
    seconds: NDArray[np.int64], tz: ZoneInfo, *, wall: bool = False
) -> NDArray[np.int64]:
    """UTC offset of ``tz``, seconds, at each of ``seconds``.

    Parameters
    ----------
    seconds:
        ``(n,)`` int64 epoch seconds UTC, or, with ``wall``, local wall-clock times written as
        seconds since 1970-01-01 00:00 local.
    tz:
        The zone.
    wall:
        Interpret ``seconds`` as local wall-clock times. A wall time that occurs twice (clocks
        set back) takes the first occurrence; one that does not exist (clocks set forward) takes
        the offset before the change.
    """
    seconds = np.asarray(seconds, dtype=np.int64)
    if seconds.size == 0:
        return np.zeros(0, dtype=np.int64)
    hour = seconds // 3600
    lo, hi = int(hour.min()), int(hour.max())
    if hi - lo < max(_DENSE_HOURS, 4 * seconds.size):
        at_start, at_end = _span_offsets(tz, lo, hi, wall)
        inverse = hour - lo
    else:
        hours, inverse = np.unique(hour, return_inverse=True)
        at_start, at_end = _probe(hours * 3600, tz, wall), _probe(hours * 3600 + 3599, tz, wall)
    offsets = at_start[inverse]
    changing = (at_start != at_end)[inverse]
    if changing.any():
        offsets[changing] = _probe(seconds[changing], tz, wall)
    return offsets


def wall_to_utc_s(wall_s: NDArray[np.int64], tz: ZoneInfo) -> NDArray[np.int64]:
    """Epoch seconds UTC of local wall-clock times (see :func:`utc_offsets_s` for DST)."""
    return np.asarray(wall_s, dtype=np.int64) - utc_offsets_s(wall_s, tz, wall=True)


def local_day(utc_s: NDArray[np.int64], tz: ZoneInfo) -> NDArray[np.int64]:
    """The local calendar day of each instant, as days since 1970-01-01."""
    utc_s = np.asarray(utc_s, dtype=np.int64)
    return (utc_s + utc_offsets_s(utc_s, tz)) // DAY_S


def day_span_s(first_day: int, last_day: int, tz: ZoneInfo) -> tuple[int, int]:
    """``[start, end)`` epoch seconds UTC covering local days ``first_day..last_day``.

    Where midnight is skipped or repeated by a DST change the span is widened to cover both
    readings of the wall clock, so it always contains every instant of those days.
    """
    start_wall, end_wall = first_day * DAY_S, (last_day + 1) * DAY_S
    start = min(start_wall - _offset(start_wall, tz, True, f) for f in (0, 1))
    end = max(end_wall - _offset(end_wall, tz, True, f) for f in (0, 1))
    return start, end


def days_to_iso(days: NDArray[np.int64]) -> list[str]:
    """``YYYY-MM-DD`` of each day number (days since 1970-01-01)."""
    dates = np.datetime64("1970-01-01", "D") + np.asarray(days).astype("timedelta64[D]")
    return [str(d) for d in dates.astype(str).tolist()]
