"""Grading: K boundaries, carbon label, colour cut-offs, weights, caps, reasons, batch = scalar."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from accounting.grading import (
    DEFAULT_GRADING_CONFIG,
    GradingConfig,
    GradingConfigError,
    grade_at,
    grade_batch,
    grade_one,
    grading_config_from_content,
    load_grading_config,
)
from accounting.vocab import CarbonLabel, Colour


def _content() -> dict[str, Any]:
    content: dict[str, Any] = json.loads(DEFAULT_GRADING_CONFIG.read_text(encoding="utf-8"))
    return content


@pytest.fixture(scope="module")
def config() -> GradingConfig:
    return load_grading_config()


@pytest.fixture(scope="module")
def identity_config() -> GradingConfig:
    """The shipped rules with the industry curve score = K (0-100) and no caps."""
    content = _content()
    content["dimensions"]["industry_advancement"]["points"] = [[0, 0], [100, 100]]
    content["caps"] = []
    return grading_config_from_content(content)


def _codes(config: GradingConfig, intensity: float, **kwargs: Any) -> list[str]:
    return [r.code for r in grade_one(config, intensity, **kwargs).reasons]


# --------------------------------------------------------------------------- K and label


@pytest.mark.parametrize(
    ("k", "grade"),
    [
        (0.0, 1),
        (0.6, 1),
        (float(np.nextafter(0.6, 1)), 2),
        (0.61, 2),
        (0.8, 2),
        (float(np.nextafter(0.8, 1)), 3),
        (1.0, 3),
        (1.2, 3),
        (float(np.nextafter(1.2, 2)), 4),
        (2.0, 4),
        (float(np.nextafter(2.0, 3)), 5),
        (7.0, 5),
    ],
)
def test_carbon_efficiency_grade_at_each_k_boundary(
    config: GradingConfig, k: float, grade: int
) -> None:
    assert grade_one(config, k, benchmark=1.0).carbon_efficiency == grade


def test_k_is_intensity_over_benchmark(config: GradingConfig) -> None:
    result = grade_one(config, 1.2, benchmark=2.0)  # K = 0.6 exactly
    assert (result.k, result.carbon_efficiency) == (0.6, 1)
    reason = result.reasons[0]
    assert (reason.code, reason.dimension, reason.value) == (
        "CARBON_EFFICIENCY",
        "industry_advancement",
        0.6,
    )
    assert "K <= 0.6" in reason.message
    assert "grade 1" in reason.message
    assert reason.message_zh == "碳效值K=0.600,碳效等级1级"


@pytest.mark.parametrize(
    ("value_added_intensity", "label"),
    [
        (0.0, CarbonLabel.LOW),
        (0.6, CarbonLabel.LOW),
        (float(np.nextafter(0.6, 1)), CarbonLabel.MEDIUM),
        (2.0, CarbonLabel.MEDIUM),
        (float(np.nextafter(2.0, 3)), CarbonLabel.HIGH),
        (7.01, CarbonLabel.HIGH),
    ],
)
def test_absolute_carbon_label_boundaries(
    config: GradingConfig, value_added_intensity: float, label: CarbonLabel
) -> None:
    result = grade_one(config, value_added_intensity, label_intensity=value_added_intensity)
    assert result.carbon_label is label


def test_high_carbon_can_be_grade_3(config: GradingConfig) -> None:
    # Zhejiang example: a chemical-fibre firm at 7.01 t/10k yuan, "high-carbon, grade 3"
    result = grade_one(config, 7.01, benchmark=7.01 / 1.1, label_intensity=7.01)
    assert (result.carbon_label, result.carbon_efficiency) == (CarbonLabel.HIGH, 3)


def test_no_benchmark_no_grade_and_a_reason(config: GradingConfig) -> None:
    result = grade_one(config, 1.0, previous_intensity=1.0)
    assert result.carbon_efficiency is None
    assert result.k is None
    codes = [r.code for r in result.reasons]
    assert codes[0] == "NO_BENCHMARK"
    assert "WEIGHTS_RENORMALISED" in codes
    # only the trend dimension: no change scores 60 -> light green
    assert (result.score, result.colour) == (60.0, Colour.LIGHT_GREEN)


# --------------------------------------------------------------------------- score and colour


@pytest.mark.parametrize(
    ("score", "colour"),
    [
        (100.0, Colour.DARK_GREEN),
        (80.0, Colour.DARK_GREEN),
        (79.99, Colour.LIGHT_GREEN),
        (60.0, Colour.LIGHT_GREEN),
        (59.99, Colour.YELLOW),
        (40.0, Colour.YELLOW),
        (39.99, Colour.RED),
        (0.0, Colour.RED),
    ],
)
def test_colour_cut_offs_on_the_score(
    identity_config: GradingConfig, score: float, colour: Colour
) -> None:
    # the identity curve makes the score equal K
    result = grade_one(identity_config, score, benchmark=1.0)
    assert result.score == score
    assert result.colour is colour


def test_weighted_score_is_the_hand_calculation(config: GradingConfig) -> None:
    # K = 1.0 -> between (0.8, 80) and (1.2, 60): 70
    # regional 1.5 x the region -> between (1.0, 70) and (2.0, 40): 55
    # intensity -5 % year on year -> 80
    # score = 0.5 x 70 + 0.25 x 55 + 0.25 x 80 = 68.75 -> light green
    result = grade_one(
        config, 1.0, benchmark=1.0, regional_intensity=1.0 / 1.5, previous_intensity=1.0 / 0.95
    )
    assert result.dimensions["industry_advancement"].score == pytest.approx(70.0)
    assert result.dimensions["regional_contribution"].score == pytest.approx(55.0)
    assert result.dimensions["historical_decline"].score == pytest.approx(80.0)
    assert result.score == pytest.approx(68.75)
    assert result.colour is Colour.LIGHT_GREEN
    assert "WEIGHTS_RENORMALISED" not in [r.code for r in result.reasons]


def test_missing_dimensions_renormalise_the_weights(config: GradingConfig) -> None:
    # K = 1.0 (70) and trend -5 % (80): weights 0.5 and 0.25 -> 2/3 and 1/3
    result = grade_one(config, 1.0, benchmark=1.0, previous_intensity=1.0 / 0.95)
    assert result.score == pytest.approx(70 * 2 / 3 + 80 / 3)
    assert result.dimensions["regional_contribution"].weight == 0.0
    assert result.dimensions["industry_advancement"].weight == pytest.approx(2 / 3)
    assert (
        _codes(config, 1.0, benchmark=1.0, previous_intensity=1.0 / 0.95).count(
            "NO_REGIONAL_INTENSITY"
        )
        == 1
    )


def test_grade_5_caps_the_colour_at_yellow(config: GradingConfig) -> None:
    # K = 2.5 -> 20; regional 0.25 -> 100; trend -20 % -> 100: score 0.5x20 + 25 + 25 = 60
    result = grade_one(
        config, 2.5, benchmark=1.0, regional_intensity=10.0, previous_intensity=2.5 / 0.8
    )
    assert result.carbon_efficiency == 5
    assert result.score == pytest.approx(60.0)
    assert result.colour is Colour.YELLOW
    capped = [r for r in result.reasons if r.code == "COLOUR_CAPPED"]
    assert len(capped) == 1
    assert "score alone: light_green" in capped[0].message


def test_no_dimension_no_score_no_colour(config: GradingConfig) -> None:
    result = grade_one(config, 1.0)
    assert (result.score, result.colour) == (None, None)
    assert "NO_SCORE" in [r.code for r in result.reasons]


def test_no_intensity_no_grade(config: GradingConfig) -> None:
    result = grade_one(config, None, benchmark=1.0, label_intensity=0.5)
    assert (result.carbon_efficiency, result.colour, result.carbon_label) == (
        None,
        None,
        CarbonLabel.LOW,
    )
    assert result.reasons[0].code == "NO_INTENSITY"


@pytest.mark.parametrize(
    ("completeness", "provisional"), [(1.0, False), (0.9, False), (0.8999, True)]
)
def test_provisional_below_90_percent_completeness(
    config: GradingConfig, completeness: float, provisional: bool
) -> None:
    result = grade_one(config, 1.0, benchmark=1.0, completeness=completeness)
    assert result.provisional is provisional
    assert ("PROVISIONAL" in [r.code for r in result.reasons]) is provisional
    assert result.carbon_efficiency == 3  # provisional flags the grade, it does not change it


# --------------------------------------------------------------------------- batch


def test_batch_equals_scalar(config: GradingConfig) -> None:
    rng = np.random.default_rng(11)
    n = 400

    def column(low: float, high: float) -> np.ndarray:
        values = rng.uniform(low, high, n)
        values[rng.random(n) < 0.2] = np.nan
        return values

    intensity, benchmark = column(0.05, 5), column(0.3, 3)
    regional, previous, label = column(0.3, 3), column(0.2, 5), column(0.05, 5)
    completeness = rng.uniform(0.7, 1.0, n)
    batch = grade_batch(
        config,
        intensity,
        benchmark=benchmark,
        regional_intensity=regional,
        previous_intensity=previous,
        label_intensity=label,
        completeness=completeness,
    )

    def opt(x: float) -> float | None:
        return None if np.isnan(x) else float(x)

    for j in range(n):
        scalar = grade_one(
            config,
            opt(intensity[j]),
            benchmark=opt(benchmark[j]),
            regional_intensity=opt(regional[j]),
            previous_intensity=opt(previous[j]),
            label_intensity=opt(label[j]),
            completeness=float(completeness[j]),
        )
        assert grade_at(batch, j, config) == scalar


def test_batch_of_a_city_has_every_grade_and_colour(config: GradingConfig) -> None:
    rng = np.random.default_rng(3)
    n = 2500
    intensity = rng.lognormal(0, 0.8, n)
    batch = grade_batch(
        config, intensity, benchmark=1.0, previous_intensity=intensity * rng.uniform(0.8, 1.2, n)
    )
    assert set(batch.carbon_efficiency.tolist()) == {1, 2, 3, 4, 5}
    assert set(batch.colour.tolist()) == {0, 1, 2, 3}
    assert batch.score.shape == (n,)
    assert batch.dimension_scores.shape == (n, 3)


# --------------------------------------------------------------------------- configuration


def test_shipped_config_has_a_source_for_every_rule(config: GradingConfig) -> None:
    assert config.version == "ZJ-QZ-v1"
    assert config.k_upper_bounds == (0.6, 0.8, 1.2, 2.0)
    assert (config.label_low_max, config.label_medium_max) == (0.6, 2.0)
    assert all(d.source for d in config.dimensions)
    assert config.weights.tolist() == [0.5, 0.25, 0.25]
    assert config.colour_min_scores == (80, 60, 40)
    assert "yzwku" in config.content["carbon_efficiency"]["source"]


def test_unknown_key_is_refused_naming_file_and_field(tmp_path: Path) -> None:
    content = _content()
    content["colours"]["blue"] = 90
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    with pytest.raises(GradingConfigError, match=r"^rules.json: colours.blue: Unknown field.$"):
        load_grading_config(path)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("carbon_efficiency", "k_upper_bounds"), [0.6, 1.2, 0.8, 2.0], "four strictly increasing"),
        (("dimensions", "historical_decline", "points"), [[0, 50], [0, 60]], "strictly increase"),
        (("colours", "yellow"), 70, "minimum scores must decrease"),
        (("carbon_label", "low_max"), 2.5, "low_max must be below medium_max"),
        (("caps",), [{"min_grade": 6, "best_colour": "red", "source": "x"}], "caps[0].min_grade"),
        (("data_quality", "metered_tiers"), [[0.99, 1], [0.5, 2]], "end at 0"),
    ],
)
def test_invalid_rules_are_refused(path: tuple[str, ...], value: Any, message: str) -> None:
    content = copy.deepcopy(_content())
    node = content
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(GradingConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        grading_config_from_content(content)


def test_all_weights_zero_is_refused() -> None:
    content = _content()
    for dimension in content["dimensions"].values():
        dimension["weight"] = 0
    with pytest.raises(GradingConfigError, match="at least one weight must be positive"):
        grading_config_from_content(content)
