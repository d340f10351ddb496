"""Calibrators (PAV isotonic, Platt) by hand, and the versioned risk-band table."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from scoring.calibration import (
    PD_FLOOR,
    CalibrationError,
    IsotonicCalibrator,
    PlattCalibrator,
    calibrator_from_dict,
    default_risk_bands,
    load_risk_bands,
)


def test_pav_pools_a_violating_pair_and_interpolates_between_blocks() -> None:
    # Rates by score 1..4: 0, 1, 0, 1 -> blocks {1}: 0, {2, 3}: 0.5 at mean score 2.5, {4}: 1.
    calibrator = IsotonicCalibrator.fit([1.0, 2.0, 3.0, 4.0], [0, 1, 0, 1])
    assert calibrator.x.tolist() == [1.0, 2.5, 4.0]
    assert calibrator.y.tolist() == [PD_FLOOR, 0.5, 1 - PD_FLOOR]
    assert calibrator([2.5])[0] == 0.5
    assert calibrator([1.75])[0] == pytest.approx(PD_FLOOR + 0.5 * (0.5 - PD_FLOOR))
    assert calibrator([-10.0, 10.0]).tolist() == [PD_FLOOR, 1 - PD_FLOOR]


def test_pav_pools_tied_scores_before_pooling_blocks() -> None:
    # Score 1 twice (one default): rate 0.5; score 2: 0; score 3: 1 -> {1, 2}: 1/3 at 4/3, {3}: 1.
    calibrator = IsotonicCalibrator.fit([1.0, 1.0, 2.0, 3.0], [1, 0, 0, 1])
    assert calibrator.x.tolist() == pytest.approx([4 / 3, 3.0])
    assert calibrator.y.tolist() == pytest.approx([1 / 3, 1 - PD_FLOOR])


def test_platt_recovers_a_known_logistic_map() -> None:
    rng = np.random.default_rng(3)
    score = rng.normal(0.0, 1.5, 200_000)
    y = rng.random(score.size) < 1 / (1 + np.exp(-(2.0 * score - 1.0)))
    calibrator = PlattCalibrator.fit(score, y.astype(int))
    assert calibrator.a == pytest.approx(2.0, abs=0.05)
    assert calibrator.b == pytest.approx(-1.0, abs=0.05)


def test_calibrators_round_trip_through_json_exactly() -> None:
    rng = np.random.default_rng(4)
    score = rng.normal(size=2000)
    y = (rng.random(2000) < 1 / (1 + np.exp(-score))).astype(int)
    for fitted in (IsotonicCalibrator.fit(score, y), PlattCalibrator.fit(score, y)):
        again = calibrator_from_dict(json.loads(json.dumps(fitted.to_dict())))
        assert np.array_equal(again(score), fitted(score))


def test_a_malformed_calibrator_is_refused() -> None:
    with pytest.raises(CalibrationError, match=r"calibration.method"):
        calibrator_from_dict({"method": "magic"})
    with pytest.raises(CalibrationError, match="increasing knots"):
        calibrator_from_dict({"method": "isotonic", "x": [2.0, 1.0], "y": [0.1, 0.2]})


def test_packaged_bands_put_a_pd_on_a_cut_off_in_the_better_band() -> None:
    bands = default_risk_bands()
    assert bands.labels == ("A", "B", "C", "D", "E")
    assert bands.band(0.01) == "A"
    assert bands.band(0.010001) == "B"
    assert bands.band(0.07) == "D"
    assert bands.band(0.5) == "E"
    assert bands.index([0.0, 0.02, 0.03, 0.9]).tolist() == [0, 1, 2, 4]


def test_a_band_file_with_decreasing_cut_offs_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bands.json"
    rows = [
        {"band": "A", "max_pd": "0.05"},
        {"band": "B", "max_pd": "0.02"},
        {"band": "C", "max_pd": None},
    ]
    path.write_text(json.dumps({"version": "x", "bands": rows}), encoding="utf-8")
    with pytest.raises(CalibrationError, match=r"bands.max_pd: cut-offs must increase"):
        load_risk_bands(path)


def test_platt_scalar_path_equals_the_batch_path_even_at_extremes() -> None:
    calibrator = PlattCalibrator(a=1.3, b=-2.0)
    scores = np.r_[np.linspace(-12.0, 8.0, 2001), -1e6, 1e6]
    batch = calibrator(scores)
    assert [calibrator.one(float(s)) for s in scores] == batch.tolist()
    assert batch[-2] == PD_FLOOR
    assert batch[-1] == 1 - PD_FLOOR
