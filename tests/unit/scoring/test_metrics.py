"""Metrics against hand calculations on tiny arrays, and AUC against brute-force pair counting."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scoring import metrics

# Six loans, three bads; the scores tie three ways at 0.4 (two goods, one bad).
Y = np.array([0, 0, 1, 1, 0, 1])
SCORE = np.array([0.1, 0.4, 0.35, 0.8, 0.4, 0.4])


def test_average_ranks_share_the_ranks_of_a_tie() -> None:
    assert metrics.average_ranks(SCORE).tolist() == [1.0, 4.0, 2.0, 6.0, 4.0, 4.0]


def test_auc_by_rank_sum_counts_a_tie_as_one_half() -> None:
    # bad ranks 2 + 6 + 4 = 12; U = 12 - 3*4/2 = 6; AUC = 6 / (3*3).
    # By pairs: 0.35 beats 1 good, 0.8 beats 3, 0.4 beats 1 and ties 2 -> 1 + 3 + 2 = 6 of 9.
    assert metrics.auc(Y, SCORE) == pytest.approx(6 / 9, abs=1e-15)
    assert metrics.gini(Y, SCORE) == pytest.approx(2 * 6 / 9 - 1, abs=1e-15)


def test_auc_matches_brute_force_pair_counting_with_many_ties() -> None:
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 300)
    score = rng.integers(0, 12, 300).astype(float)  # heavy ties
    bad, good = score[y == 1], score[y == 0]
    wins = (bad[:, None] > good[None, :]).sum() + 0.5 * (bad[:, None] == good[None, :]).sum()
    assert metrics.auc(y, score) == pytest.approx(wins / (bad.size * good.size), abs=1e-12)


def test_ks_is_read_only_at_the_end_of_a_tie() -> None:
    # t=0.1: F_bad 0, F_good 1/3; t=0.35: 1/3, 1/3; t=0.4: 2/3, 1; t=0.8: 1, 1 -> KS = 1/3.
    # (Reading in the middle of the 0.4 tie would wrongly give 2/3.)
    assert metrics.ks(Y, SCORE) == pytest.approx(1 / 3, abs=1e-15)


def test_ks_of_a_perfect_score_is_one() -> None:
    assert metrics.ks([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]) == 1.0


def test_brier_by_hand() -> None:
    assert metrics.brier([0, 1], [0.2, 0.6]) == pytest.approx((0.2**2 + 0.4**2) / 2)


def test_expected_calibration_error_over_two_equal_count_bins() -> None:
    # bin 1: PDs 0.1, 0.2 (mean 0.15), no default -> 0.15; bin 2: 0.3, 0.9 (0.6), 2 defaults -> 0.4
    ece = metrics.expected_calibration_error([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.9], n_bins=2)
    assert ece == pytest.approx(0.5 * 0.15 + 0.5 * 0.4)


def test_calibration_table_puts_a_pd_on_a_cut_off_in_the_better_band() -> None:
    table = metrics.calibration_table(
        [0, 0, 1, 1], [0.005, 0.01, 0.015, 0.5], ("A", "B", "C"), [0.01, 0.02, np.inf]
    )
    assert table.n.tolist() == [2, 1, 1]
    assert table.defaults.tolist() == [0, 1, 1]
    assert table.mean_pd[0] == pytest.approx(0.0075)
    assert table.default_rate.tolist() == [0.0, 1.0, 1.0]
    assert table.rows()[2] == {
        "band": "C",
        "upper_pd": None,
        "n": 1,
        "defaults": 1,
        "mean_pd": 0.5,
        "default_rate": 1.0,
    }


def test_calibration_table_reports_an_empty_band_as_none() -> None:
    table = metrics.calibration_table([0, 1], [0.001, 0.002], ("A", "B"), [0.01, np.inf])
    assert table.rows()[1]["mean_pd"] is None
    assert table.rows()[1]["n"] == 0


def test_psi_from_counts_by_hand() -> None:
    # shares e = .5 .3 .2, a = .4 .3 .3: (.4-.5) ln(.4/.5) + 0 + (.3-.2) ln(.3/.2)
    expected = -0.1 * math.log(0.8) + 0.1 * math.log(1.5)
    assert metrics.psi_from_counts([50, 30, 20], [40, 30, 30]) == pytest.approx(expected)
    assert metrics.psi_from_counts([50, 30, 20], [5, 3, 2]) == 0.0


def test_psi_cuts_bins_at_reference_quantiles_and_keeps_nan_apart() -> None:
    # Reference 1..10, two bins cut at the median 5.5: counts 5, 5 and 0 NaN.
    # Recent [1, 1, 1, 7, NaN]: counts 3, 1, 1 -> shares .6 .2 .2 against .5 .5 (1e-4 floor).
    value = metrics.psi(np.arange(1.0, 11.0), [1, 1, 1, 7, np.nan], n_bins=2)
    floor = metrics.PSI_EMPTY_SHARE
    expected = (
        0.1 * math.log(0.6 / 0.5)
        + (-0.3) * math.log(0.2 / 0.5)
        + (0.2 - floor) * math.log(0.2 / floor)
    )
    assert value == pytest.approx(expected)


def test_metrics_refuse_a_single_class_naming_the_argument() -> None:
    with pytest.raises(metrics.MetricError, match="y: needs both"):
        metrics.auc([0, 0], [0.1, 0.2])
    with pytest.raises(metrics.MetricError, match="y: default flags"):
        metrics.auc([0, 2], [0.1, 0.2])
    with pytest.raises(metrics.MetricError, match="score: contains NaN"):
        metrics.ks([0, 1], [0.1, np.nan])
