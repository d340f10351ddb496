"""Vectorised UTC offsets equal zoneinfo's, one instant at a time, across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from finance_engine.storage.timezones import local_day, utc_offsets_s, wall_to_utc_s, zone

ZONES = ("Asia/Shanghai", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe")
T0 = 1_672_531_200  # 2023-01-01T00:00Z
SPAN_S = 3 * 365 * 86_400


def _by_hand(seconds: list[int], name: str) -> list[int]:
    tz = zone(name)
    out = []
    for s in seconds:
        delta = datetime.fromtimestamp(s, UTC).astimezone(tz).utcoffset()
        assert delta is not None
        out.append(int(delta.total_seconds()))
    return out


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(ZONES),
    st.lists(st.integers(min_value=T0, max_value=T0 + SPAN_S), min_size=1, max_size=200),
)
def test_offsets_equal_zoneinfo_instant_by_instant(name: str, instants: list[int]) -> None:
    seconds = np.array(instants, dtype=np.int64)
    assert utc_offsets_s(seconds, zone(name)).tolist() == _by_hand(instants, name)
    again = utc_offsets_s(seconds, zone(name))  # the cached span: the same answer
    assert again.tolist() == _by_hand(instants, name)


def test_cached_spans_are_not_shared_with_callers() -> None:
    tz = zone("Europe/Berlin")
    seconds = np.arange(T0, T0 + 400 * 86_400, 900, dtype=np.int64)
    first = utc_offsets_s(seconds, tz)
    first[:] = -1  # a caller scribbling on its answer must not change the next one
    assert (utc_offsets_s(seconds, tz) != -1).all()


def test_local_days_and_wall_times_around_a_dst_change() -> None:
    tz = zone("Europe/Berlin")
    # 2023-03-26: clocks go from 02:00 to 03:00 local (01:00Z)
    utc = np.array([T0 + 84 * 86_400 + h * 3600 for h in range(-2, 4)], dtype=np.int64)
    expected_days = [
        (
            datetime.fromtimestamp(int(s), UTC).astimezone(tz).date() - datetime(1970, 1, 1).date()
        ).days
        for s in utc
    ]
    assert local_day(utc, tz).tolist() == expected_days
    wall = np.array([(datetime(2023, 3, 26, 1) - datetime(1970, 1, 1)) // timedelta(seconds=1)])
    assert wall_to_utc_s(wall, tz).tolist() == [
        int(datetime(2023, 3, 26, 0, tzinfo=UTC).timestamp())
    ]
