"""Readings <-> meter-day rows: round trips, merges, range selection, packed columns, COPY."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from finance_engine.storage import pgcopy
from finance_engine.storage.daypack import (
    DAY_S,
    NO_BATCH,
    SLOT_S,
    DayRows,
    add_readings,
    encode,
    key_spans,
    pack,
    revise_readings,
    unpack,
    unpack_batch_ids,
    with_neighbours,
    within,
)
from finance_engine.storage.rows import MeterRanges, ReadingRows

T0 = 1_704_038_400  # 2024-01-01T00:00+08:00, 16:00 UTC: local days straddle UTC days


def readings(pairs: list[tuple[int, int]], counter: bool = False) -> ReadingRows:
    """Readings at (meter id, slot after T0), quantity 1 + slot, flags = slot % 7."""
    m = np.array([p[0] for p in pairs], dtype=np.int64)
    slot = np.array([p[1] for p in pairs], dtype=np.int64)
    return ReadingRows(
        m,
        T0 + SLOT_S * slot,
        1.0 + slot,
        100.0 + slot if counter else np.full(len(pairs), np.nan),
        (slot % 7).astype(np.int16),
    )


def as_set(rows: ReadingRows) -> set[tuple[int, int, float, float | None, int]]:
    return set(rows.records())


keys = st.lists(
    st.tuples(st.integers(1, 3), st.integers(-200, 400)), min_size=0, max_size=60, unique=True
)


@given(keys, st.booleans())
@settings(max_examples=50, deadline=None)
def test_packing_and_unpacking_returns_the_readings_in_meter_and_time_order(
    pairs: list[tuple[int, int]], counter: bool
) -> None:
    rows = readings(pairs, counter)
    days = pack(rows, 7)
    back = unpack(days)
    expected = sorted(rows.records())
    assert back.records() == expected
    assert days.readings().sum() == len(pairs)
    assert (unpack_batch_ids(days) == 7).all()
    assert bool(days.has_counter().all()) is counter or not pairs
    assert len(days) == len({(m, (T0 + SLOT_S * s) // DAY_S) for m, s in pairs})


def test_packed_columns_are_little_endian_and_decode_with_null_counters() -> None:
    rows = readings([(1, 0), (1, 1), (2, 0)])
    rows.counter_value[2] = 5.0  # meter 2 has a counter; meter 1's day stores NULL
    days = pack(rows, 3)
    blobs = encode(days.quantity, "quantity")
    assert [len(b) for b in blobs] == [768, 768]
    assert np.frombuffer(blobs[0], dtype="<f8")[(T0 % DAY_S) // SLOT_S] == 1.0
    counters = [None, encode(days.counter_value, "counter_value")[1]]
    result = [
        (int(m), int(d), q, c, f, b)
        for m, d, q, c, f, b in zip(
            days.meter_id,
            days.day,
            blobs,
            counters,
            encode(days.flags, "flags"),
            encode(days.batch_id, "batch_id"),
            strict=True,
        )
    ]
    decoded = DayRows.from_result(result)
    assert unpack(decoded).records() == unpack(days).records()
    assert decoded.has_counter().tolist() == [False, True]


def test_pack_refuses_off_grid_times_nan_quantities_and_repeated_intervals() -> None:
    rows = readings([(1, 0), (1, 1)])
    off = ReadingRows(
        rows.meter_id, rows.interval_start_s + 60, rows.quantity, rows.counter_value, rows.flags
    )
    with pytest.raises(ValueError, match="grid"):
        pack(off, 1)
    nan = ReadingRows(
        rows.meter_id,
        rows.interval_start_s,
        np.array([1.0, np.nan]),
        rows.counter_value,
        rows.flags,
    )
    with pytest.raises(ValueError, match="NaN"):
        pack(nan, 1)
    with pytest.raises(ValueError, match="twice"):
        pack(readings([(1, 0), (1, 0)]), 1)


def test_new_readings_merge_into_stored_day_rows_and_never_overwrite_one() -> None:
    stored = pack(readings([(1, 0), (1, 2)]), 1)
    merged = add_readings(stored, pack(readings([(1, 1)]), 2))
    assert as_set(unpack(merged)) == as_set(readings([(1, 0), (1, 1), (1, 2)]))
    assert sorted(unpack_batch_ids(merged).tolist()) == [1, 1, 2]
    assert as_set(unpack(stored)) == as_set(readings([(1, 0), (1, 2)]))  # a copy was changed
    with pytest.raises(ValueError, match="already stored"):
        add_readings(stored, pack(readings([(1, 2)]), 2))
    with pytest.raises(ValueError, match="not stored"):
        add_readings(stored, pack(readings([(2, 0)]), 2))


def test_revising_sets_quantity_and_flags_of_stored_readings_only() -> None:
    stored = pack(readings([(1, 0), (1, 1)], counter=True), 4)
    change = ReadingRows(
        np.array([1]), np.array([T0 + SLOT_S]), np.array([9.5]), np.array([np.nan]), np.array([16])
    )
    revised = unpack(revise_readings(stored, change))
    assert revised.records() == sorted([(1, T0, 1.0, 100.0, 0), (1, T0 + SLOT_S, 9.5, 101.0, 16)])
    assert (unpack_batch_ids(revise_readings(stored, change)) == 4).all()
    missing = ReadingRows(
        np.array([1]),
        np.array([T0 + 5 * SLOT_S]),
        np.array([1.0]),
        np.array([np.nan]),
        np.array([0]),
    )
    with pytest.raises(ValueError, match="not stored"):
        revise_readings(stored, missing)


ranges = st.lists(
    st.tuples(st.integers(1, 3), st.integers(-250, 450), st.integers(0, 300)), max_size=5
)


def _ranges(spec: list[tuple[int, int, int]]) -> MeterRanges:
    """Ranges from (meter, start in slots after T0, length in slots), off the grid by 7 s."""
    return MeterRanges(
        np.array([m for m, _, _ in spec], dtype=np.int64),
        np.array([T0 + SLOT_S * s + 7 for _, s, _ in spec], dtype=np.int64),
        np.array([T0 + SLOT_S * (s + n) + 7 for _, s, n in spec], dtype=np.int64),
    )


@given(keys, ranges)
@settings(max_examples=80, deadline=None)
def test_range_selection_matches_a_plain_scan(
    pairs: list[tuple[int, int]], spec: list[tuple[int, int, int]]
) -> None:
    rows = unpack(pack(readings(pairs), NO_BATCH))  # sorted by meter and time
    got = rows.records()
    r = _ranges(spec)
    bounds = list(zip(r.meter_id.tolist(), r.start_s.tolist(), r.end_s.tolist(), strict=True))
    in_any = [x for x in got if any(x[0] == m and lo <= x[1] < hi for m, lo, hi in bounds)]
    assert [got[i] for i in np.flatnonzero(within(rows, r, closed=False))] == in_any
    expected = []
    for m, lo, hi in bounds:
        mine = [x for x in got if x[0] == m]
        expected += [x for x in mine if x[1] < lo][-1:]
        expected += [x for x in mine if lo <= x[1] <= hi]
        expected += [x for x in mine if x[1] > hi][:1]
    assert [got[i] for i in with_neighbours(rows, r)] == expected


def test_touched_days_are_read_as_few_spans() -> None:
    days = pack(readings([(1, 0), (1, 96), (1, 96 * 20), (2, 0)]), 1)
    meter, first, last = key_spans(days.keys(), max_gap_days=7)
    assert meter.tolist() == [1, 1, 2]
    assert (last - first).tolist() == [1, 0, 0]


def test_copy_stream_carries_fixed_width_bytea_fields() -> None:
    blob = np.arange(6, dtype="<i2").reshape(2, 3)
    stream = pgcopy.encode([np.array([1, 2]), blob], ["int4", "bytea"])
    body = stream[len(pgcopy.HEADER) : -len(pgcopy.TRAILER)]
    row = b"\x00\x02" + b"\x00\x00\x00\x04" + b"\x00\x00\x00\x01" + b"\x00\x00\x00\x06"
    assert body[: len(row) + 6] == row + blob[0].tobytes()
    assert len(body) == 2 * (len(row) + 6)
