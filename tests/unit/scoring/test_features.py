"""Feature specs, constraints and the validated feature matrix."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scoring.features import (
    FEATURE_NAMES,
    FEATURE_SPECS,
    FeatureError,
    feature_matrix,
    feature_row,
    feature_spec,
    monotone_constraints,
)


def valid_columns(n: int = 3) -> dict[str, list[float]]:
    return {
        "revenue_10k_yuan": [5000.0, 120.0, 80000.0][:n],
        "leverage": [0.5, 0.82, 0.3][:n],
        "current_ratio": [1.4, 0.7, 2.5][:n],
        "return_on_assets": [0.05, -0.02, 0.12][:n],
        "years_operating": [10, 2, 30][:n],
        "overdue_count_24m": [0, 3, 0][:n],
        "carbon_efficiency_grade": [2, 5, math.nan][:n],
        "k_ratio": [0.7, 2.4, math.nan][:n],
        "carbon_score": [82.0, 20.0, math.nan][:n],
        "intensity_trend_pct": [-6.0, 12.0, math.nan][:n],
        "data_completeness": [0.99, 0.85, math.nan][:n],
        "alert_count_12m": [0, 4, math.nan][:n],
        "colour_rank": [1, 4, math.nan][:n],
    }


def test_financial_features_come_first_in_a_fixed_order() -> None:
    assert FEATURE_NAMES == (
        "revenue_10k_yuan",
        "leverage",
        "current_ratio",
        "return_on_assets",
        "years_operating",
        "overdue_count_24m",
        "carbon_efficiency_grade",
        "k_ratio",
        "carbon_score",
        "intensity_trend_pct",
        "data_completeness",
        "alert_count_12m",
        "colour_rank",
    )


def test_constraints_follow_the_economics() -> None:
    assert dict(zip(FEATURE_NAMES, monotone_constraints(), strict=True)) == {
        "revenue_10k_yuan": -1,
        "leverage": 1,
        "current_ratio": -1,
        "return_on_assets": -1,
        "years_operating": -1,
        "overdue_count_24m": 1,
        "carbon_efficiency_grade": 1,
        "k_ratio": 1,
        "carbon_score": -1,
        "intensity_trend_pct": 1,
        "data_completeness": 0,
        "alert_count_12m": 1,
        "colour_rank": 1,
    }
    assert all(spec.reason and spec.unit and spec.description for spec in FEATURE_SPECS)


def test_matrix_takes_columns_in_feature_order_and_ignores_extras() -> None:
    columns = {"unrelated": [1, 2, 3], **dict(reversed(valid_columns().items()))}
    matrix = feature_matrix(columns)
    assert matrix.shape == (3, len(FEATURE_NAMES))
    assert matrix.dtype == np.float64
    assert matrix.flags.c_contiguous
    assert matrix[1, FEATURE_NAMES.index("leverage")] == 0.82
    assert np.isnan(matrix[2, FEATURE_NAMES.index("carbon_efficiency_grade")])


def test_a_missing_column_is_named() -> None:
    columns = valid_columns()
    del columns["current_ratio"]
    with pytest.raises(FeatureError, match=r"^current_ratio: required feature column"):
        feature_matrix(columns)


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("leverage", -0.1, "below 0"),
        ("leverage", math.nan, "missing"),
        ("carbon_efficiency_grade", 2.5, "not whole"),
        ("carbon_efficiency_grade", 6, "above 5"),
        ("data_completeness", 1.2, "above 1"),
        ("current_ratio", math.inf, "infinite"),
        ("overdue_count_24m", -1, "below 0"),
    ],
)
def test_an_out_of_range_value_is_named_with_its_row(name: str, value: float, reason: str) -> None:
    columns = valid_columns()
    columns[name][1] = value
    with pytest.raises(FeatureError, match=rf"^{name}: 1 value\(s\) {reason}.*row 1"):
        feature_matrix(columns)


def test_non_numeric_and_misshapen_columns_are_named() -> None:
    columns: dict[str, object] = dict(valid_columns())
    columns["leverage"] = ["high", "low", "low"]
    with pytest.raises(FeatureError, match=r"^leverage: values are not numbers"):
        feature_matrix(columns)  # type: ignore[arg-type]
    columns = dict(valid_columns())
    columns["k_ratio"] = [1.0, 2.0]
    with pytest.raises(FeatureError, match=r"^k_ratio: 2 values, expected 3"):
        feature_matrix(columns)  # type: ignore[arg-type]


def test_unknown_and_repeated_feature_names_are_refused() -> None:
    with pytest.raises(FeatureError, match=r"^ebitda: unknown feature"):
        feature_spec("ebitda")
    with pytest.raises(FeatureError, match="leverage: feature named more than once"):
        monotone_constraints(["leverage", "leverage"])


def test_feature_row_turns_none_into_missing() -> None:
    values = {name: column[0] for name, column in valid_columns().items()}
    values["carbon_score"] = None  # type: ignore[assignment]
    row = feature_row(values)
    assert row.shape == (1, len(FEATURE_NAMES))
    assert np.isnan(row[0, FEATURE_NAMES.index("carbon_score")])


def test_reason_texts_in_plain_words() -> None:
    assert feature_spec("leverage").describe(0.82, raises_pd=True) == "high leverage (0.82)"
    grade = feature_spec("carbon_efficiency_grade")
    assert grade.describe(5.0, raises_pd=True) == "carbon grade 5 (low efficiency)"
    assert grade.describe(math.nan, raises_pd=True) == "no carbon-efficiency grade"
    assert feature_spec("return_on_assets").describe(-0.021, raises_pd=True) == (
        "weak return on assets (-2.1%)"
    )
    assert feature_spec("intensity_trend_pct").describe(8.0, raises_pd=True) == (
        "carbon intensity rising (+8.0% a year)"
    )
