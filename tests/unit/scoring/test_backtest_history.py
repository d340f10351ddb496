"""Backtest inputs: history validation naming the column, the synthetic history's account and
carbon columns, and the LPR fixings back to the 2019 reform (histories from 2020)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pytest
from backtest_builders import CATALOG, SOUND_FIRM, data_of, hand_book, synthetic

from finance_engine.synth.loans import generate_loan_history
from products.lpr import lpr_on
from scoring.backtest import BacktestDataError, Categorical


def test_a_hand_built_history_validates() -> None:
    data = data_of(hand_book([{}, {"product_code": "CIB-QZ-CLL"}]))
    assert len(data) == 2
    assert data.product.labels == ("ABC-QZ-ESR", "CIB-QZ-CLL")
    assert data.feature("leverage").tolist() == [SOUND_FIRM["leverage"]] * 2
    assert not data.has("sector")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"lgd": 1.5}, "lgd: 1 value(s) outside [0, 1] (first at row 1"),
        ({"base_rate_pct": 4.12345}, "base_rate_pct: 1 value(s) with over 4 decimals"),
        ({"base_limit_fen": 0}, "base_limit_yuan: 1 value(s) not in (0, 10bn]"),
        ({"default_12m": 1}, "default_month: 1 value(s) not 1.. on a default and 0 otherwise"),
        ({"term_months": 0}, "term_months: 1 value(s) not 1-360"),
        ({"leverage": -1.0}, "leverage: 1 value(s) below"),
        ({"sector": "mining"}, "sector: unknown value(s) 'mining'"),
        ({"quality_tier": 7.0}, "quality_tier: 1 value(s) outside [1, 5]"),
        ({"equity_plus_debt_fen": -5}, "equity_plus_debt_yuan: 1 value(s) outside"),
    ],
)
def test_a_bad_value_is_refused_naming_the_column_and_row(row: dict, message: str) -> None:
    columns = hand_book([{"sector": "industry"}, {"sector": "industry", **row}])
    with pytest.raises(BacktestDataError) as caught:
        data_of(columns)
    assert message in str(caught.value)


def test_a_missing_column_is_named() -> None:
    columns = hand_book([{}])
    del columns["ead_fen"]
    with pytest.raises(BacktestDataError, match="ead_fen: required column"):
        data_of(columns)


def test_text_columns_are_encoded_with_sorted_labels() -> None:
    encoded = Categorical.from_values(np.array(["b", "a", None, "b"], dtype=object))
    assert encoded.labels == ("", "a", "b")
    assert encoded.values().tolist() == ["b", "a", "", "b"]


def test_the_synthetic_history_carries_account_and_carbon_columns() -> None:
    cols = synthetic(8, 4000)
    account = ~np.isnan(cols["data_completeness"])
    assert set(np.unique(cols["sector"])) == {"industry"}
    provisional = cols["provisional"][account] == 1
    assert np.array_equal(provisional, cols["data_completeness"][account] < 0.9)
    alerts = cols["open_critical_alerts"] + cols["open_warning_alerts"]
    assert np.array_equal(alerts[account], cols["alert_count_12m"][account])
    year_start = cols["application_date"].astype("datetime64[Y]").astype("datetime64[D]")
    assert (cols["account_period_end"][account] == year_start[account] - 1).all()
    assert np.isnat(cols["account_period_end"][~account]).all()
    quality = cols["pcaf_data_quality"]
    assert (quality[~account] == 4).all()
    assert np.array_equal(quality[account], np.where(provisional, 3, 2))
    assert (cols["equity_plus_debt_fen"] > 0).all()
    assert (cols["emissions_tco2e"] > 0).all()
    assert {"B0610", "C2521", ""} <= set(np.unique(cols["industry_code"]))


def test_the_added_columns_leave_the_columns_before_them_as_they_were() -> None:
    """The account and carbon columns come from a random stream of their own: a seed's features,
    terms and outcomes are those of the history generator before the columns were added
    (values recorded from that version)."""
    history = generate_loan_history(202, 500, 2024, 2, product_codes=tuple(CATALOG.codes()))
    assert int(history["default_12m"].sum()) == 31
    assert history["leverage"][:3].tolist() == [0.7459, 0.4017, 0.6521]
    assert history["base_rate_pct"][:3].tolist() == [4.55, 3.7, 4.45]
    assert history["product_code"][:3].tolist() == ["CCB-QZ-PCA", "BOC-QZ-GMORT", "ABC-QZ-AGRI"]


@pytest.mark.parametrize(
    ("on", "one_year", "five_year"),
    [
        (date(2019, 8, 20), "4.25", "4.85"),
        (date(2019, 10, 1), "4.20", "4.85"),
        (date(2020, 3, 1), "4.05", "4.75"),
        (date(2021, 6, 30), "3.85", "4.65"),
        (date(2022, 6, 1), "3.70", "4.45"),
        (date(2023, 7, 1), "3.55", "4.20"),
        (date(2023, 8, 21), "3.45", "4.20"),
    ],
)
def test_lpr_fixings_reach_back_to_the_2019_reform(on: date, one_year: str, five_year: str) -> None:
    assert lpr_on(on, "1y") == Decimal(one_year)
    assert lpr_on(on, "5y") == Decimal(five_year)
