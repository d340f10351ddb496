"""Data quality: completeness, provisional flag, tiers (vectorised)."""

from __future__ import annotations

import numpy as np
import pytest

from accounting.grading import load_grading_config
from accounting.quality import (
    QualityConfig,
    completeness,
    expected_intervals,
    is_provisional,
    quality_tier,
)

CONFIG = load_grading_config().quality


def test_shipped_thresholds_equal_the_documented_defaults() -> None:
    defaults = QualityConfig(source=CONFIG.source)
    assert defaults == CONFIG


def test_completeness_is_received_over_expected() -> None:
    # 2 meters x 365 days x 96 = 70,080 expected; 66,576 received -> 95 %
    expected = expected_intervals(365, 2)
    assert expected == 70_080
    assert completeness(66_576, expected) == pytest.approx(0.95)
    assert completeness(np.array([10, 200, 0]), np.array([100, 100, 0])).tolist() == [0.1, 1.0, 1.0]


@pytest.mark.parametrize(
    ("ratio", "metered", "tier"),
    [
        (1.0, True, 1),
        (0.99, True, 1),
        (0.9899, True, 2),
        (0.95, True, 2),
        (0.9499, True, 3),
        (0.90, True, 3),
        (0.8999, True, 4),  # provisional: base 3, lowered by 1
        (0.75, True, 4),
        (0.7499, True, 5),  # lowered by 2
        (0.0, True, 5),
        (1.0, False, 3),  # declared totals without meters
    ],
)
def test_quality_tier_rule(ratio: float, metered: bool, tier: int) -> None:
    assert quality_tier(ratio, metered, CONFIG).tolist() == [tier]


def test_tiers_and_provisional_are_vectorised() -> None:
    ratios = np.array([1.0, 0.96, 0.91, 0.85, 0.5, 1.0])
    metered = np.array([True, True, True, True, True, False])
    assert quality_tier(ratios, metered, CONFIG).tolist() == [1, 2, 3, 4, 5, 3]
    assert is_provisional(ratios, CONFIG).tolist() == [False, False, False, True, True, False]
