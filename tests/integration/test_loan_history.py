"""Synthetic loan histories: the ground truth by hand, outcome consistency, determinism, and an
exact CSV / Parquet round trip of the documented schema."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from finance_engine.synth.loans import (
    CARBON,
    HISTORY_SCHEMA,
    INTERCEPT,
    HistoryFileError,
    LoanHistory,
    generate_loan_history,
    read_history_columns,
    read_loan_history,
    true_pd,
    write_loan_history,
)
from products.lpr import lpr_on
from scoring.features import FEATURE_NAMES


@pytest.fixture(scope="module")
def history() -> LoanHistory:
    return generate_loan_history(9, 20_000, product_codes=("ICBC-QZ-PV", "CIB-QZ-CLL"))


def one_row(**values: float) -> dict[str, np.ndarray]:
    return {name: np.array([value]) for name, value in values.items()}


def test_true_pd_follows_the_documented_formula_by_hand() -> None:
    row = one_row(
        revenue_10k_yuan=5000,
        leverage=0.6,
        current_ratio=1.0,
        return_on_assets=0.05,
        years_operating=9,
        overdue_count_24m=0,
        carbon_efficiency_grade=4,
        k_ratio=1.5,
        carbon_score=50,
        intensity_trend_pct=-10,
        data_completeness=1.0,
        alert_count_12m=0,
        colour_rank=3,
    )
    # a + 3.5*0.05 - 5*0.05 - 0.40 ln(10) + 0.15*(4 - 3) + 0.10*(-10)/10
    z = INTERCEPT + 0.175 - 0.25 - 0.40 * math.log(10) + 0.15 - 0.10
    assert true_pd(row)[0] == pytest.approx(1 / (1 + math.exp(-z)), rel=1e-12)


def test_a_borrower_without_carbon_account_counts_as_grade_3_5_without_penalties() -> None:
    financial = {
        "revenue_10k_yuan": 5000,
        "leverage": 0.55,
        "current_ratio": 1.0,
        "return_on_assets": 0.0,
        "years_operating": 0,
        "overdue_count_24m": 0,
    }
    row = one_row(**financial, **dict.fromkeys(CARBON, math.nan))
    z = INTERCEPT + 0.15 * 0.5
    assert true_pd(row)[0] == pytest.approx(1 / (1 + math.exp(-z)), rel=1e-12)


def test_true_pd_is_clipped() -> None:
    risky = one_row(
        revenue_10k_yuan=10,
        leverage=1.4,
        current_ratio=0.1,
        return_on_assets=-0.5,
        years_operating=1,
        overdue_count_24m=9,
        carbon_efficiency_grade=5,
        k_ratio=4,
        carbon_score=0,
        intensity_trend_pct=50,
        data_completeness=0.4,
        alert_count_12m=9,
        colour_rank=4,
    )
    assert true_pd(risky)[0] == 0.6


def test_defaults_match_the_true_pds_and_every_grade_occurs(history: LoanHistory) -> None:
    y, pd = history["default_12m"], history["true_pd"]
    assert abs(y.mean() - pd.mean()) < 4 * math.sqrt(pd.mean() / y.size)
    assert 0.02 < y.mean() < 0.06
    grades = history["carbon_efficiency_grade"]
    assert set(np.unique(grades[~np.isnan(grades)])) == {1.0, 2.0, 3.0, 4.0, 5.0}
    assert 0.03 < np.isnan(grades).mean() < 0.07
    by_grade = [y[grades == g].mean() for g in (1, 3, 5)]
    assert by_grade == sorted(by_grade)  # worse carbon grades default more, modestly


def test_outcomes_are_consistent(history: LoanHistory) -> None:
    default = history["default_12m"] == 1
    month = history["default_month"]
    assert ((month >= 1) & (month <= 12))[default].all()
    assert (month[~default] == 0).all()
    expected_loss = np.round(history["lgd"] * history["ead_fen"]).astype(np.int64)
    assert np.array_equal(history["loss_fen"], np.where(default, expected_loss, 0))
    assert np.array_equal(history["months_on_book"], np.where(default, month, 12))
    gap = history["default_date"][default] - history["application_date"][default]
    assert np.array_equal(gap.astype(int), np.round(month[default] * 30.4375).astype(int))
    assert np.isnat(history["default_date"][~default]).all()
    assert (history["disbursed_fen"] <= history["base_limit_fen"]).all()
    assert (history["ead_fen"] <= history["disbursed_fen"]).all()
    assert (history["base_limit_fen"] % 1_000_000 == 0).all()  # whole 10k yuan
    assert abs(history["lgd"].mean() - 0.45) < 0.01


def test_dates_ids_products_and_base_rates(history: LoanHistory) -> None:
    dates = history["application_date"]
    assert dates.min() >= np.datetime64("2024-01-01")
    assert dates.max() <= np.datetime64("2025-12-31")
    assert (np.diff(dates.astype(int)) >= 0).all()
    assert np.unique(history["application_id"]).size == len(history)
    assert set(history["product_code"]) == {"ICBC-QZ-PV", "CIB-QZ-CLL"}
    for i in (0, len(history) // 2, len(history) - 1):
        lpr = float(lpr_on(dates[i].astype(object), "1y"))
        assert lpr <= history["base_rate_pct"][i] <= lpr + 3.5


def test_same_seed_same_history_other_seed_another() -> None:
    first, again = generate_loan_history(3, 2000), generate_loan_history(3, 2000)
    for name, column in first.columns.items():
        assert np.array_equal(column, again[name], equal_nan=column.dtype.kind in "fM"), name
    assert not np.array_equal(first["leverage"], generate_loan_history(4, 2000)["leverage"])


def test_firm_features_are_used_per_firm() -> None:
    rng = np.random.default_rng(0)
    firms = {name: rng.uniform(1, 4, 50).round() for name in CARBON}
    firms["data_completeness"] = rng.uniform(0.9, 1.0, 50)
    firms["entity_id"] = np.array([f"E{i:03d}" for i in range(50)])
    history = generate_loan_history(5, 500, firm_features=firms)
    firm = np.array([int(e[1:]) for e in history["entity_id"]])
    for name in CARBON:
        assert np.array_equal(history[name], firms[name][firm])
    assert not np.isnan(history["leverage"]).any()  # financial block sampled


def test_a_partial_feature_block_is_refused() -> None:
    with pytest.raises(ValueError, match="firm_features: current_ratio, return_on_assets"):
        generate_loan_history(
            1,
            10,
            firm_features={
                "leverage": np.ones(3),
                "revenue_10k_yuan": np.ones(3),
                "years_operating": np.ones(3),
                "overdue_count_24m": np.zeros(3),
            },
        )


def test_a_start_before_the_lpr_history_is_refused() -> None:
    with pytest.raises(ValueError, match="start_year: dates before the first LPR fixing"):
        generate_loan_history(1, 10, start_year=2019)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_files_round_trip_exactly(history: LoanHistory, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"history{suffix}"
    write_loan_history(history, path)
    again = read_loan_history(path)
    assert set(again.columns) == set(history.columns)
    for name, column in history.columns.items():
        same = np.array_equal(again[name], column, equal_nan=column.dtype.kind in "fM")
        assert same or np.array_equal(again[name].astype(str), column.astype(str)), name


def test_money_is_decimal_yuan_in_the_file(history: LoanHistory, tmp_path: Path) -> None:
    path = tmp_path / "h.parquet"
    write_loan_history(history, path)
    table = pq.read_table(path)
    assert table.column_names == [column.name for column in HISTORY_SCHEMA]
    assert table.schema.field("base_limit_yuan").type == pa.decimal128(18, 2)
    first = table.column("loss_yuan").to_pylist()
    fen = history["loss_fen"]
    assert [int(v * 100) for v in first[:50]] == fen[:50].tolist()


def test_reading_names_a_missing_column(history: LoanHistory, tmp_path: Path) -> None:
    path = tmp_path / "h.parquet"
    write_loan_history(history, path)
    pq.write_table(pq.read_table(path).drop_columns(["leverage"]), path)
    with pytest.raises(HistoryFileError, match="missing column\\(s\\) leverage"):
        read_history_columns(path, [*FEATURE_NAMES, "default_12m"])


def test_reading_refuses_unknown_suffixes_missing_files_and_fractional_flags(
    tmp_path: Path,
) -> None:
    with pytest.raises(HistoryFileError, match="no such file"):
        read_history_columns(tmp_path / "none.csv", ["leverage"])
    odd = tmp_path / "h.xlsx"
    odd.write_text("x")
    with pytest.raises(HistoryFileError, match="unknown suffix"):
        read_history_columns(odd, ["leverage"])
    flags = tmp_path / "flags.csv"
    flags.write_text("default_12m\n0\n0.5\n")
    with pytest.raises(HistoryFileError, match="column default_12m"):
        read_history_columns(flags, ["default_12m"])
