"""Known answers: a hand-built book measured by hand, metrics against independent formulas,
the red-grade swap set, and byte-identical summaries."""

from __future__ import annotations

import itertools
import math
from datetime import date
from decimal import Decimal

import numpy as np
import pytest
from backtest_builders import CATALOG, COLOUR_CODES, data_of, hand_book, only, synthetic

from scoring.backtest import (
    BacktestOptions,
    Period,
    RuleSet,
    apply_patch,
    patch_from_dict,
    run_backtest,
    summary_json,
)
from scoring.backtest.vintage import cumulative_default_rates

ACCOUNT = {
    "sector": "industry",
    "industry_code": "C2614",
    "quality_tier": 1.0,
    "provisional": 0.0,
    "open_critical_alerts": 0.0,
    "open_warning_alerts": 0.0,
    "account_period_end": np.datetime64("2023-12-31"),
}
NO_ACCOUNT = dict.fromkeys(
    (
        "carbon_efficiency_grade",
        "k_ratio",
        "carbon_score",
        "intensity_trend_pct",
        "data_completeness",
        "alert_count_12m",
        "colour_rank",
        "quality_tier",
        "provisional",
        "open_critical_alerts",
        "open_warning_alerts",
    ),
    math.nan,
)
# ABC-QZ-ESR: colour grades down to red (1.40/50 bp, 1.25/35, 1.10/20, 1.00/0), +10 bp for a
# 5% intensity cut, floor 3.00%, max PD 5%, 0.5m-30m yuan, provisional grades referred.
BOOK = [
    {  # A: dark green, 6% cut: 1.40 x 1m, 4.50% - 60 bp = 3.90%
        **ACCOUNT, "colour_rank": 1.0, "carbon_efficiency_grade": 1.0, "intensity_trend_pct": -6.0,
        "application_date": np.datetime64("2023-03-01"), "base_rate_pct": 4.5,
        "disbursed_fen": 80_000_000, "ead_fen": 76_000_000, "pd": 0.01,
    },
    {  # B: red, defaults in month 3: 1.00 x 2m at 4.20%
        **ACCOUNT, "colour_rank": 4.0, "carbon_efficiency_grade": 4.0, "intensity_trend_pct": 2.0,
        "application_date": np.datetime64("2023-09-01"), "base_limit_fen": 200_000_000,
        "base_rate_pct": 4.2, "disbursed_fen": 190_000_000, "ead_fen": 180_000_000, "lgd": 0.4,
        "default_12m": 1, "default_month": 3, "months_on_book": 3, "loss_fen": 72_000_000,
        "pd": 0.02,
    },
    {  # C: yellow, PD 6% > 5%: declined (E09); defaults in month 5
        **ACCOUNT, "colour_rank": 3.0, "application_date": np.datetime64("2024-02-01"),
        "default_12m": 1, "default_month": 5, "months_on_book": 5, "loss_fen": 50_000_000,
        "pd": 0.06,
    },
    {  # D: light green, provisional (R01) and PD 4.5% > 0.85 x 5% (R03): 1.25 x 0.5m; 3.20%
        # - 35 bp = 2.85% is held at the 3.00% floor
        **ACCOUNT, "colour_rank": 2.0, "provisional": 1.0,
        "application_date": np.datetime64("2024-05-01"), "base_limit_fen": 50_000_000,
        "base_rate_pct": 3.2, "disbursed_fen": 50_000_000, "ead_fen": 45_000_000, "pd": 0.045,
    },
    {  # E: no carbon account: declined (E03)
        **ACCOUNT, **NO_ACCOUNT, "application_date": np.datetime64("2024-08-01"), "pd": 0.03,
    },
]  # fmt: skip

DECLINE_RED = patch_from_dict(
    {
        "format": "finance-engine/rule-patch@1",
        "name": "decline-red",
        "changes": [{"products": "*", "decline_grades": ["red"]}],
    }
)

SERVE_RED = patch_from_dict(
    {
        "format": "finance-engine/rule-patch@1",
        "name": "serve-red",
        "changes": [
            {
                "products": "*",
                "grade_basis": "colour",
                "minimum_grade": "red",
                "grade_table": {
                    "yellow": {"limit_multiplier": "1.00", "rate_discount_bp": 0},
                    "red": {"limit_multiplier": "1.00", "rate_discount_bp": 0},
                },
            }
        ],
    }
)


def _run(columns, champion=None, challenger=None, **options):
    champion = champion or only("ABC-QZ-ESR")
    rule_sets = (
        RuleSet(champion, "champion"),
        RuleSet(challenger or apply_patch(champion, DECLINE_RED), "challenger", DECLINE_RED),
    )
    return run_backtest(data_of(columns), columns["pd"], *rule_sets, BacktestOptions(**options))


@pytest.fixture(scope="module")
def book():
    return _run(hand_book(BOOK))


def test_the_hand_built_book_is_measured_by_hand(book) -> None:
    m = book.summary["rule_sets"]["champion"]
    assert (m["approved"], m["referred"], m["declined"], m["booked"]) == (2, 1, 2, 3)
    assert m["booked_volume_yuan"] == Decimal("4025000.00")  # 1.4m + 2m + 0.625m
    assert m["volume_without_multipliers_yuan"] == Decimal("3500000.00")
    assert m["limit_uplift_yuan"] == Decimal("525000.00")
    assert m["limit_uplift_pct"] == pytest.approx(15.0)
    assert m["drawn_yuan"] == Decimal("3645000.00")  # 0.8m x 1.4 + 1.9m + 0.5m x 1.25
    # 1.12m x 0.60% + 0 + 0.625m x (3.20% - 3.00%) over 12 of 12 months
    assert m["interest_forgone_yuan"] == Decimal("7970.00")
    assert m["exposure_at_default_yuan"] == Decimal("3426500.00")
    # 0.01 x 0.5 x 1.064m + 0.02 x 0.4 x 1.8m + 0.045 x 0.5 x 0.5625m
    assert m["expected_loss_yuan"] == Decimal("32376.25")
    assert m["realised_loss_yuan"] == Decimal("720000.00")
    assert m["average_rate_pct"] == pytest.approx((1.4 * 3.90 + 2 * 4.20 + 0.625 * 3.00) / 4.025)
    assert m["average_discount_bp"] == pytest.approx((1.4 * 60 + 0.625 * 35) / 4.025)
    assert m["bad_rate"] == pytest.approx(1 / 3)
    assert (m["floor_applied"], m["limit_capped"]) == (1, 0)
    assert m["reasons"] == {"E03": 1, "E09": 1, "R01": 1, "R03": 1}
    red = next(row for row in m["by_colour"] if row["group"] == "red")
    assert (red["applications"], red["booked"], red["defaults"], red["bad_rate"]) == (1, 1, 1, 1.0)


def test_declining_red_swaps_out_the_red_loan_with_its_losses(book) -> None:
    swaps = book.summary["swap_sets"]
    assert swaps["swap_out"]["applications"] == 1
    assert swaps["swap_out"]["by_colour"]["red"] == 1
    assert swaps["swap_out"]["bad_rate"] == 1.0
    assert swaps["swap_out"]["booked_volume_yuan"] == Decimal("2000000.00")
    assert swaps["swap_out"]["realised_loss_yuan"] == Decimal("720000.00")
    assert swaps["swap_in"]["applications"] == 0
    delta = book.summary["rule_sets"]["delta"]
    assert delta["booked"] == -1
    assert delta["booked_volume_yuan"] == Decimal("-2000000.00")
    assert delta["reasons"]["E04"] == 1


def test_auc_ks_and_gini_match_pair_counting_and_empirical_cdfs(book) -> None:
    performance = book.summary["model_performance"]["all"]
    y = np.array([0, 1, 1, 0, 0])
    pd = np.array([row["pd"] for row in BOOK])
    pairs = [
        1.0 if b > g else 0.5 if b == g else 0.0
        for b, g in itertools.product(pd[y == 1], pd[y == 0])
    ]
    assert performance["auc"] == pytest.approx(sum(pairs) / len(pairs))  # 4 of 6 pairs
    cdf_gap = max(abs((pd[y == 1] <= t).mean() - (pd[y == 0] <= t).mean()) for t in np.unique(pd))
    assert performance["ks"] == pytest.approx(cdf_gap)
    assert performance["gini"] == pytest.approx(2 * sum(pairs) / len(pairs) - 1)


def test_vintage_curves_of_the_hand_built_book(book) -> None:
    curves = book.summary["vintage"]["by_colour"]["all_applications"]
    assert curves["all"]["cumulative_default_rate"] == pytest.approx(
        [0, 0, 0.2, 0.2, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4]
    )
    assert curves["red"]["cumulative_default_rate"][:4] == [0.0, 0.0, 1.0, 1.0]
    assert curves["dark_green"]["cumulative_default_rate"] == [0.0] * 12


def test_vintage_curves_leave_censored_months_out_of_the_denominator() -> None:
    # group 0: defaults in months 2 and 5, one loan performing 12 months, one seen 3 months
    rates, counts = cumulative_default_rates(
        group=np.array([0, 0, 0, 0]),
        n_groups=2,
        default_month=np.array([2, 5, 0, 0]),
        months_on_book=np.array([2, 5, 12, 3]),
        mask=np.ones(4, dtype=bool),
        max_months=6,
    )
    assert rates[0] == pytest.approx([0, 1 / 4, 1 / 4, 1 / 3, 2 / 3, 2 / 3])
    assert np.isnan(rates[1]).all()
    assert counts.tolist() == [4, 0]


def test_psi_of_the_score_by_hand_on_a_small_table() -> None:
    # reference PDs: five at 1%, five at 2%; recent: two at 1%, eight at 2%. Decile edges of
    # the reference are 1%, 1.5% and 2%, so the shares are 0.5 / 0.5 against 0.2 / 0.8.
    rows = [
        {"application_date": np.datetime64("2023-06-01"), "pd": 0.01 if i < 5 else 0.02}
        for i in range(10)
    ] + [
        {"application_date": np.datetime64("2024-06-01"), "pd": 0.01 if i < 2 else 0.02}
        for i in range(10)
    ]
    result = _run(
        hand_book([{**ACCOUNT, **row} for row in rows]),
        reference=Period(date(2023, 1, 1), date(2023, 12, 31)),
        recent=Period(date(2024, 1, 1), date(2024, 12, 31)),
    )
    expected = (0.2 - 0.5) * math.log(0.2 / 0.5) + (0.8 - 0.5) * math.log(0.8 / 0.5)
    score = result.summary["stability"]["score"]
    assert score["psi"] == pytest.approx(expected)
    assert score["assessment"] == "significant shift"
    leverage = result.summary["stability"]["features"]["leverage"]
    assert leverage["psi"] == pytest.approx(0.0)


def test_a_challenger_declining_every_red_grade_swaps_out_exactly_the_red_approvals() -> None:
    # the champion serves red on every colour product (a patch lowering the minimum grade)
    champion = apply_patch(CATALOG, SERVE_RED)
    columns = synthetic(21, 6000, COLOUR_CODES)
    result = _run(columns, champion, apply_patch(champion, DECLINE_RED))
    red = columns["colour_rank"] == 4
    assert np.array_equal(result.swaps.swap_out, result.champion.booked & red)
    assert result.swaps.swap_out.sum() > 20
    assert not result.swaps.swap_in.any()
    assert not (result.challenger.booked & red).any()


def test_the_same_inputs_give_byte_identical_summaries() -> None:
    first = summary_json(_run(synthetic(5, 3000), CATALOG).summary)
    again = summary_json(_run(synthetic(5, 3000), CATALOG).summary)
    assert first == again
    assert first != summary_json(_run(synthetic(6, 3000), CATALOG).summary)
