"""Daily rollups of dense interval arrays, against hand sums."""

from __future__ import annotations

import numpy as np
import pytest

from accounting.rollup import daily_rollup, entity_completeness, entity_energy_totals


def test_full_days_sum_every_interval() -> None:
    values = np.ones((2, 3, 96), dtype=np.float32)
    values[1] *= 2.5
    rollup = daily_rollup(values)
    assert rollup.quantity.tolist() == [[96.0] * 3, [240.0] * 3]
    assert rollup.intervals.tolist() == [[96] * 3, [96] * 3]
    assert rollup.completeness.tolist() == [1.0, 1.0]


def test_missing_intervals_are_skipped_and_counted() -> None:
    values = np.ones((1, 2, 96), dtype=np.float32)
    values[0, 1, :24] = np.nan  # six hours missing on day 2
    rollup = daily_rollup(values)
    assert rollup.quantity.tolist() == [[96.0, 72.0]]
    assert rollup.intervals.tolist() == [[96, 72]]
    assert rollup.completeness[0] == pytest.approx(168 / 192)


def test_a_day_with_nothing_received_is_zero_with_no_intervals() -> None:
    values = np.full((1, 1, 96), np.nan, dtype=np.float32)
    rollup = daily_rollup(values)
    assert rollup.quantity.tolist() == [[0.0]]
    assert rollup.intervals.tolist() == [[0]]


def test_rejects_arrays_not_on_the_96_slot_grid() -> None:
    with pytest.raises(ValueError, match="96"):
        daily_rollup(np.ones((1, 2, 48)))


def test_meter_totals_add_up_by_entity_and_type() -> None:
    totals = np.array([10.0, 5.0, 7.0, 1.0])
    entity = np.array([0, 0, 1, 0])
    etype = np.array([0, 1, 0, 0])
    matrix = entity_energy_totals(totals, entity, etype, n_entities=3, n_types=2)
    assert matrix.tolist() == [[11.0, 5.0], [7.0, 0.0], [0.0, 0.0]]


def test_entity_completeness_weights_meters_by_expected_intervals() -> None:
    received = np.array([96, 48, 96])
    expected = np.array([96, 96, 96])
    entity = np.array([0, 0, 1])
    result = entity_completeness(received, expected, entity, n_entities=3)
    assert result[0] == pytest.approx(0.75)
    assert result[1] == 1.0
    assert np.isnan(result[2])
