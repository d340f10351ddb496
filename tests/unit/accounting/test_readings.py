"""Validation and cleaning of raw meter readings, rule by rule, on hand-built arrays."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accounting.readings import (
    CounterHistory,
    Gap,
    MeterSpec,
    RawReadings,
    ReadingFlag,
    Rejection,
    ValidatedBatch,
    unit_scale,
    validate_readings,
)

T0 = 1_704_038_400  # 2024-01-01T00:00:00+08:00, on the 15-minute grid
Q = 900

ELEC = MeterSpec("E1", "electricity", "kWh", rated_max_per_interval=500.0)
GAS = MeterSpec(
    "G1", "natural_gas", "m3", "cumulative", rated_max_per_interval=100.0, counter_rollover=10_000.0
)
HEAT = MeterSpec("H1", "heat", "GJ", "cumulative")  # no rollover: a drop is a reset
STEAM = MeterSpec("S1", "steam", "t")
METERS = (ELEC, GAS, HEAT, STEAM)


def run(
    meters: list[str],
    slots: list[float],
    values: list[float],
    *,
    units=None,
    tolerance: int = 60,
    history: CounterHistory | None = None,
) -> ValidatedBatch:
    timestamps = [T0 + round(s * Q) for s in slots]
    raw = RawReadings.from_codes(meters, timestamps, values, unit=units)
    return validate_readings(raw, METERS, tolerance, history=history)


def accepted(batch: ValidatedBatch) -> list[tuple[int, int, float, int]]:
    """(row, interval index from T0, quantity, flags) of each accepted reading."""
    return [
        (int(r), int((t - T0) // Q), float(q), int(f))
        for r, t, q, f in zip(
            batch.row, batch.interval_start_s, batch.quantity, batch.flags, strict=True
        )
    ]


def reasons(batch: ValidatedBatch) -> list[str]:
    return [str(r) for r in batch.rejections]


# --- meters, units, values, timestamps ------------------------------------------------------


def test_readings_on_the_grid_are_accepted_as_they_are() -> None:
    batch = run(["E1", "E1"], [0, 1], [12.5, 13.0])
    assert accepted(batch) == [(1, 0, 12.5, 0), (2, 1, 13.0, 0)]
    assert np.isnan(batch.counter_value).all()
    assert batch.rejections == ()
    assert batch.duplicates == 0


def test_unknown_and_missing_meters_are_rejected_by_name() -> None:
    batch = run(["X9", "", "E1"], [0, 0, 0], [1.0, 1.0, 1.0])
    assert reasons(batch) == ["row 1: meter: unknown meter 'X9'", "row 2: meter: missing"]
    assert batch.accepted == 1


def test_off_grid_within_tolerance_is_snapped_and_flagged() -> None:
    batch = run(["E1", "E1"], [1 + 45 / Q, 3 - 30 / Q], [1.0, 2.0], tolerance=60)
    assert accepted(batch) == [(1, 1, 1.0, ReadingFlag.SNAPPED), (2, 3, 2.0, ReadingFlag.SNAPPED)]


def test_off_grid_beyond_tolerance_is_rejected_with_the_offset() -> None:
    batch = run(["E1", "E1"], [1 + 412 / Q, 2 - 61 / Q], [1.0, 2.0], tolerance=60)
    assert reasons(batch) == [
        "row 1: timestamp: 412 s off the 15-minute grid (tolerance 60 s)",
        "row 2: timestamp: 61 s off the 15-minute grid (tolerance 60 s)",
    ]


def test_zero_tolerance_rejects_any_offset() -> None:
    batch = run(["E1"], [1 + 1 / Q], [1.0], tolerance=0)
    assert reasons(batch) == ["row 1: timestamp: 1 s off the 15-minute grid (tolerance 0 s)"]


def test_timestamps_outside_1970_to_2199_are_rejected() -> None:
    raw = RawReadings.from_codes(["E1", "E1"], [-900, 7_258_118_400], [1.0, 1.0])
    batch = validate_readings(raw, METERS, 60)
    assert [r.reason for r in batch.rejections] == ["outside 1970-2199"] * 2


def test_negative_interval_quantity_is_rejected() -> None:
    batch = run(["E1", "E1"], [0, 1], [-3.0, 0.0])
    assert reasons(batch) == ["row 1: quantity: negative (-3.0)"]
    assert accepted(batch) == [(2, 1, 0.0, 0)]


def test_quantity_above_rated_maximum_is_rejected_and_at_it_accepted() -> None:
    batch = run(["E1", "E1"], [0, 1], [812.0, 500.0])
    assert reasons(batch) == [
        "row 1: quantity: 812.0 kWh above the meter's rated maximum 500.0 per interval"
    ]
    assert accepted(batch) == [(2, 1, 500.0, 0)]


def test_meters_without_rated_maximum_take_any_non_negative_quantity() -> None:
    batch = run(["S1"], [0], [1e9])
    assert accepted(batch) == [(1, 0, 1e9, 0)]


def test_non_finite_quantity_is_rejected() -> None:
    batch = run(["E1", "E1"], [0, 1], [float("nan"), float("inf")])
    assert [r.reason for r in batch.rejections] == ["not a finite number"] * 2


def test_units_convert_to_the_meters_unit() -> None:
    batch = run(["E1", "E1"], [0, 1], [0.25, 7.0], units=["MWh", "kWh"])
    assert accepted(batch) == [(1, 0, 250.0, ReadingFlag.UNIT_CONVERTED), (2, 1, 7.0, 0)]


def test_unconvertible_units_are_rejected_naming_the_unit() -> None:
    batch = run(["E1", "S1"], [0, 0], [1.0, 1.0], units=["m3", "GJ"])
    assert reasons(batch) == [
        "row 1: unit: 'm3' is not valid for electricity; use one of MWh, kWh",
        "row 2: unit: 'GJ' cannot be converted to the meter's 't' "
        "(steam t and GJ convert only with the enthalpy)",
    ]


def test_converted_quantity_is_checked_against_the_rated_maximum() -> None:
    batch = run(["E1"], [0], [0.6], units=["MWh"])
    assert reasons(batch) == [
        "row 1: quantity: 600.0 kWh above the meter's rated maximum 500.0 per interval"
    ]


def test_unit_scale() -> None:
    assert unit_scale(ELEC, "MWh") == 1000.0
    assert unit_scale(MeterSpec("G", "natural_gas", "10^4 m3"), "m3") == pytest.approx(1e-4)
    with pytest.raises(ValueError, match="enthalpy"):
        unit_scale(STEAM, "GJ")


def test_meter_spec_refuses_a_unit_its_energy_type_does_not_use() -> None:
    with pytest.raises(ValueError, match="unit 'kWh' is not valid for natural_gas"):
        MeterSpec("G", "natural_gas", "kWh")
    with pytest.raises(ValueError, match="rated_max_per_interval must be a positive number"):
        MeterSpec("E", "electricity", "kWh", rated_max_per_interval=0.0)
    with pytest.raises(ValueError, match="'sometimes' is not a valid ReadingKind"):
        MeterSpec("E", "electricity", "kWh", "sometimes")  # type: ignore[arg-type]


# --- duplicates -------------------------------------------------------------------------------


def test_exact_duplicates_are_one_reading_and_counted() -> None:
    batch = run(["E1", "E1", "E1", "E1"], [0, 1, 0, 0], [5.0, 6.0, 5.0, 5.0])
    assert accepted(batch) == [(1, 0, 5.0, 0), (2, 1, 6.0, 0)]
    assert batch.duplicates == 2
    assert batch.rejections == ()


def test_a_snapped_duplicate_of_an_on_grid_reading_is_a_duplicate() -> None:
    batch = run(["E1", "E1"], [1, 1 - 20 / Q], [5.0, 5.0])
    assert accepted(batch) == [(1, 1, 5.0, 0)]
    assert batch.duplicates == 1


def test_conflicting_duplicates_reject_every_row_of_the_conflict() -> None:
    batch = run(["E1", "E1", "E1", "E1"], [0, 3, 3, 3], [1.0, 12.5, 13.0, 12.5])
    assert accepted(batch) == [(1, 0, 1.0, 0)]
    assert reasons(batch) == [
        "row 2: duplicate: conflicts with row 3 (12.5 vs 13.0)",
        "row 3: duplicate: conflicts with row 2 (13.0 vs 12.5)",
        "row 4: duplicate: conflicts with row 3 (12.5 vs 13.0)",
    ]
    assert batch.duplicates == 0


def test_same_interval_on_different_meters_is_not_a_duplicate() -> None:
    batch = run(["E1", "S1"], [0, 0], [1.0, 2.0])
    assert batch.accepted == 2
    assert batch.duplicates == 0


def test_a_row_rejected_for_its_value_does_not_make_its_twin_conflict() -> None:
    batch = run(["E1", "E1"], [0, 0], [5.0, -5.0])
    assert accepted(batch) == [(1, 0, 5.0, 0)]
    assert reasons(batch) == ["row 2: quantity: negative (-5.0)"]


# --- cumulative counters ----------------------------------------------------------------------


def test_counters_become_interval_differences_ending_at_the_reading() -> None:
    # a counter read at T0 + 1 slot closes interval 0; the first one is the anchor
    batch = run(["G1"] * 4, [1, 2, 3, 4], [100.0, 112.5, 130.0, 130.0])
    assert accepted(batch) == [
        (1, 0, 0.0, ReadingFlag.ANCHOR),
        (2, 1, 12.5, 0),
        (3, 2, 17.5, 0),
        (4, 3, 0.0, 0),
    ]
    assert batch.counter_value.tolist() == [100.0, 112.5, 130.0, 130.0]


def test_counter_order_in_the_file_does_not_matter() -> None:
    batch = run(["G1"] * 3, [3, 1, 2], [130.0, 100.0, 112.5])
    assert [(t, q) for _, t, q, _ in accepted(batch)] == [(0, 0.0), (1, 12.5), (2, 17.5)]


def test_counter_rollover_wraps_at_the_meters_rollover_value() -> None:
    batch = run(["G1"] * 3, [1, 2, 3], [9_990.0, 9_998.0, 7.0])
    assert accepted(batch)[2] == (3, 2, 9.0, ReadingFlag.COUNTER_ROLLOVER)  # 10000 - 9998 + 7


def test_counter_drop_without_rollover_is_a_reset_from_zero() -> None:
    batch = run(["H1"] * 3, [1, 2, 3], [50.0, 55.0, 2.0])
    assert accepted(batch)[2] == (3, 2, 2.0, ReadingFlag.COUNTER_RESET)


def test_counter_delta_over_a_gap_is_kept_whole_at_the_later_interval() -> None:
    batch = run(["G1"] * 3, [1, 2, 6], [100.0, 110.0, 150.0])
    assert accepted(batch)[2] == (3, 5, 40.0, ReadingFlag.SPANS_GAP)
    assert batch.gaps == (Gap("G1", T0 + 2 * Q, T0 + 5 * Q),)
    assert batch.gaps[0].intervals == 3


def test_implausible_counter_delta_is_rejected_per_interval_spanned() -> None:
    # rated 100 per interval: 250 over 3 intervals is fine, 150 over 1 is not
    batch = run(["G1"] * 4, [1, 4, 5, 6], [0.0, 250.0, 400.0, 420.0])
    assert [(t, q) for _, t, q, _ in accepted(batch)] == [(0, 0.0), (3, 250.0), (5, 20.0)]
    assert reasons(batch) == [
        "row 3: quantity: 150.0 m3 above the meter's rated maximum 100.0 per interval"
    ]


def test_implausible_delta_over_several_intervals_names_them() -> None:
    batch = run(["G1"] * 2, [1, 3], [0.0, 250.0])
    assert reasons(batch) == [
        "row 2: quantity: 250.0 m3 over 2 intervals above the meter's rated maximum 100.0 "
        "per interval"
    ]


def test_negative_counter_and_counter_at_rollover_are_rejected() -> None:
    batch = run(["G1", "G1"], [1, 2], [-1.0, 10_000.0])
    assert reasons(batch) == [
        "row 1: quantity: negative counter (-1.0)",
        "row 2: quantity: counter 10000.0 at or above the meter's rollover value 10000.0",
    ]


def test_conflicting_counter_duplicates_are_rejected_exact_ones_ignored() -> None:
    batch = run(["G1"] * 4, [1, 2, 2, 2], [100.0, 110.0, 110.0, 111.0])
    assert batch.accepted == 1
    assert batch.duplicates == 0
    assert [r.row for r in batch.rejections] == [2, 3, 4]


def test_stored_previous_counter_replaces_the_anchor() -> None:
    history = CounterHistory.from_previous({"G1": (T0 - Q, 95.0)}, METERS)
    batch = run(["G1", "G1"], [1, 2], [100.0, 112.5], history=history)
    assert accepted(batch) == [(1, 0, 5.0, 0), (2, 1, 12.5, 0)]
    assert batch.revisions.meter_index.size == 0


def test_stored_counter_before_a_gap_gives_a_spanning_delta() -> None:
    history = CounterHistory.from_previous({"G1": (T0 - 3 * Q, 80.0)}, METERS)
    batch = run(["G1"], [1], [100.0], history=history)
    assert accepted(batch) == [(1, 0, 20.0, ReadingFlag.SPANS_GAP)]


def _history(points: list[tuple[int, float, float, int]]) -> CounterHistory:
    """Stored G1 readings: (interval index, counter, quantity, flags)."""
    return CounterHistory(
        meter_index=np.full(len(points), METERS.index(GAS), dtype=np.int32),
        interval_start_s=np.array([T0 + s * Q for s, _, _, _ in points], dtype=np.int64),
        counter_value=np.array([c for _, c, _, _ in points]),
        quantity=np.array([q for _, _, q, _ in points]),
        flags=np.array([f for _, _, _, f in points], dtype=np.int16),
    )


def test_counter_equal_to_the_stored_one_is_a_duplicate_different_one_a_conflict() -> None:
    history = _history([(0, 100.0, 0.0, ReadingFlag.ANCHOR), (1, 110.0, 10.0, 0)])
    batch = run(["G1", "G1", "G1"], [1, 2, 3], [100.0, 111.0, 120.0], history=history)
    assert batch.duplicates == 1
    assert reasons(batch) == [
        "row 2: quantity: counter 111.0 conflicts with the stored counter 110.0 for this interval"
    ]
    assert accepted(batch) == [(3, 2, 10.0, 0)]  # from the stored 110.0, not the rejected 111.0


def test_filling_a_gap_revises_the_stored_reading_after_it() -> None:
    # stored: anchor at interval 0 (counter 100) and interval 4 spanning the gap (counter 140)
    history = _history(
        [
            (0, 100.0, 0.0, ReadingFlag.ANCHOR),
            (4, 140.0, 40.0, ReadingFlag.SPANS_GAP | ReadingFlag.SNAPPED),
        ]
    )
    batch = run(["G1", "G1"], [2, 3], [110.0, 125.0], history=history)
    assert accepted(batch) == [(1, 1, 10.0, 0), (2, 2, 15.0, 0)]
    rev = batch.revisions
    assert rev.interval_start_s.tolist() == [T0 + 4 * Q]
    assert rev.quantity.tolist() == [15.0]  # 140 - 125, down from 40: nothing counted twice
    assert rev.flags.tolist() == [
        ReadingFlag.SPANS_GAP | ReadingFlag.SNAPPED
    ]  # interval 3 still missing
    assert sum(q for _, _, q, _ in accepted(batch)) + 15.0 == 40.0  # the stored span's total


def test_readings_before_a_stored_anchor_turn_it_into_a_real_interval() -> None:
    history = _history([(5, 150.0, 0.0, ReadingFlag.ANCHOR)])
    batch = run(["G1"], [5], [140.0], history=history)
    assert accepted(batch) == [(1, 4, 0.0, ReadingFlag.ANCHOR)]
    assert batch.revisions.quantity.tolist() == [10.0]
    assert batch.revisions.flags.tolist() == [0]


def test_an_implausible_predecessor_does_not_revise_the_stored_reading() -> None:
    history = _history([(0, 100.0, 0.0, ReadingFlag.ANCHOR), (4, 140.0, 40.0, 2)])
    batch = run(["G1"], [4], [900.0], history=history)  # 800 over 3 intervals: implausible
    assert batch.accepted == 0
    assert len(batch.rejections) == 1
    assert batch.revisions.meter_index.size == 0


def test_replaying_a_stored_counter_batch_is_all_duplicates() -> None:
    first = run(["G1"] * 3, [1, 2, 3], [100.0, 110.0, 125.0])
    history = CounterHistory(
        meter_index=first.meter_index,
        interval_start_s=first.interval_start_s,
        counter_value=first.counter_value,
        quantity=first.quantity,
        flags=first.flags,
    )
    again = run(["G1"] * 3, [1, 2, 3], [100.0, 110.0, 125.0], history=history)
    assert again.accepted == 0
    assert again.duplicates == 3
    assert again.revisions.meter_index.size == 0


# --- gaps and the report identity -------------------------------------------------------------


def test_gaps_are_runs_of_missing_intervals_per_meter() -> None:
    batch = run(["E1"] * 4 + ["S1"] * 2, [0, 1, 4, 8, 2, 3], [1.0] * 6)
    assert batch.gaps == (
        Gap("E1", T0 + 2 * Q, T0 + 4 * Q),
        Gap("E1", T0 + 5 * Q, T0 + 8 * Q),
    )
    assert [g.intervals for g in batch.gaps] == [2, 3]


def test_a_rejected_reading_leaves_a_gap() -> None:
    batch = run(["E1"] * 3, [0, 1, 2], [1.0, -1.0, 1.0])
    assert batch.gaps == (Gap("E1", T0 + Q, T0 + 2 * Q),)


def test_accepted_readings_come_sorted_by_meter_and_interval() -> None:
    batch = run(["S1", "E1", "E1", "S1"], [5, 3, 1, 0], [1.0, 2.0, 3.0, 4.0])
    keys = list(zip(batch.meter_index.tolist(), batch.interval_start_s.tolist(), strict=True))
    assert keys == sorted(keys)


def test_rejection_renders_and_serialises() -> None:
    r = Rejection(17, "quantity", "negative (-1.0)")
    assert str(r) == "row 17: quantity: negative (-1.0)"
    assert r.to_dict() == {"row": 17, "field": "quantity", "reason": "negative (-1.0)"}


row_strategy = st.tuples(
    st.sampled_from(["E1", "G1", "H1", "X"]),
    st.integers(min_value=0, max_value=12),
    st.sampled_from([0, 0, 0, 20, -40, 300]),
    st.sampled_from([0.0, 1.0, 2.5, 60.0, 99.0, 200.0, 600.0, -1.0]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(row_strategy, max_size=40))
def test_every_row_is_accepted_a_duplicate_or_rejected(rows: list[tuple]) -> None:
    meters = [r[0] for r in rows]
    slots = [r[1] + r[2] / Q for r in rows]
    values = [float(r[1]) * 10 + r[3] if r[0] != "E1" else r[3] for r in rows]
    batch = run(meters, slots, values)
    assert batch.accepted + batch.duplicates + len(batch.rejections) == len(rows)
    assert len({r.row for r in batch.rejections} | set(batch.row.tolist())) == (
        batch.accepted + len(batch.rejections)
    )
    keys = list(zip(batch.meter_index.tolist(), batch.interval_start_s.tolist(), strict=True))
    assert keys == sorted(set(keys))  # one reading per meter and interval
    assert (batch.quantity >= 0).all()
