"""The vectorised replay agrees with :func:`scoring.decide.decide_with_credit`, row by row.

The history is synthetic, drawn over every product of the packaged catalog (so sector
mismatches, grade scales, exclusions, adjustments, caps, floors, term and amount limits all
occur), then edited so the rarer rules fire too: PDs exactly on the cut-offs, trends whose
rounding sits on a half, stale accounts, requested amounts above and below the limits.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import pytest
from backtest_builders import CATALOG, account_of, application_of, day, only, synthetic

from products.model import Policy
from scoring.backtest.data import history_data
from scoring.backtest.reasons import BIT, CODES, codes_of
from scoring.backtest.replay import OUTCOMES, replay
from scoring.backtest.rows import round_hundredths, row_inputs
from scoring.backtest.table import VersionPolicy, assign_slots, product_table
from scoring.decide import CreditAssessment, decide_with_credit
from scoring.decision_rules import DecisionRules, default_decision_rules

N = 2500


@pytest.fixture(scope="module")
def columns() -> dict[str, np.ndarray]:
    cols = synthetic(11, N)
    rng = np.random.default_rng(4)
    pd = np.asarray(cols["true_pd"], dtype=np.float64).copy()
    pd[::7] = rng.choice([0.03, 0.0255, 0.034, 0.04, 0.0425, 0.05, 0.06, 0.07], pd[::7].size)
    cols["pd"] = pd
    trend = cols["intensity_trend_pct"].copy()
    trend[3::11] = rng.choice([-4.995, -5.005, -5.0, -4.99, -1.015, 2.5], trend[3::11].size)
    cols["intensity_trend_pct"] = trend
    provisional = cols["provisional"].copy()
    provisional[2::17] = np.where(np.isnan(provisional[2::17]), np.nan, 1.0)
    cols["provisional"] = provisional
    stale = cols["account_period_end"].copy()
    stale[5::13] = np.datetime64("2018-12-31")
    cols["account_period_end"] = stale
    limit = cols["base_limit_fen"].astype(np.float64)
    requested = np.round(limit * rng.uniform(0.1, 2.0, N) / 100) * 100
    requested[rng.random(N) < 0.3] = np.nan
    cols["requested_amount_fen"] = requested
    return cols


def _decide(cols: dict[str, np.ndarray], i: int, product: object, on: date, rules: DecisionRules):
    credit = CreditAssessment(float(cols["pd"][i]), "A", (), "RM", "RB")
    return decide_with_credit(
        application_of(cols, i), account_of(cols, i), product, credit, on=on, rules=rules
    )


def _compare(cols, result, i: int, decision) -> None:
    where = f"row {i} ({cols['product_code'][i]})"
    assert OUTCOMES[result.outcome[i]] == decision.outcome.value, where
    expected = {c for c in decision.codes() if c[0] in "ER"}
    assert set(codes_of(int(result.reasons[i]))) == expected, where
    if decision.terms is None:
        assert result.final_limit_fen[i] == 0, where
        return
    terms = decision.terms
    assert Decimal(int(result.final_limit_fen[i])).scaleb(-2) == terms.final_limit_yuan, where
    assert Decimal(int(result.final_rate_e4[i])).scaleb(-4) == terms.final_rate_pct, where
    assert result.rate_discount_bp[i] == terms.rate_discount_bp, where
    assert Decimal(repr(float(result.multiplier[i]))) == terms.limit_multiplier, where
    assert bool(result.floor_applied[i]) == terms.floor_applied, where
    assert bool(result.limit_capped[i]) == terms.limit_capped, where


RULE_VARIANTS = [
    default_decision_rules(),
    replace(
        default_decision_rules(),
        requested_above_limit=Policy.DECLINE,
        unknown_industry_code=Policy.DECLINE,
        refer_open_warning_alerts=1,
    ),
]


@pytest.mark.parametrize("rules", RULE_VARIANTS, ids=["packaged-rules", "strict-rules"])
def test_the_replay_of_the_latest_versions_equals_decide_on_every_row(
    columns: dict[str, np.ndarray], rules: DecisionRules
) -> None:
    data = history_data(columns)
    assignment = assign_slots(CATALOG, data, VersionPolicy())
    table = product_table(assignment.products, rules)
    excluded = table.exclusions(data.industry.labels)
    result = replay(row_inputs(data, columns["pd"]), table, assignment, rules, excluded)
    for i in range(N):
        product = CATALOG.get(str(columns["product_code"][i]))
        in_force = replace(product, effective_from=date(2019, 8, 20), effective_to=None)
        decision = _decide(columns, i, in_force, day(columns["application_date"][i]), rules)
        _compare(columns, result, i, decision)
    assert set(codes_of(int(np.bitwise_or.reduce(result.reasons)))) >= {
        "E02",
        "E03",
        "E04",
        "E05",
        "E06",
        "E08",
        "E09",
        "E10",
        "E11",
        "E12",
        "R01",
        "R02",
        "R03",
        "R05",
        "R06",
    } | ({"E13", "E14"} if rules.unknown_industry_code is Policy.DECLINE else {"R04", "R07"})


def test_the_replay_of_the_versions_in_force_equals_decide_on_their_dates(
    columns: dict[str, np.ndarray],
) -> None:
    rules = default_decision_rules()
    data = history_data(columns)
    assignment = assign_slots(CATALOG, data, VersionPolicy("application_date"))
    table = product_table(assignment.products, rules)
    result = replay(
        row_inputs(data, columns["pd"]),
        table,
        assignment,
        rules,
        table.exclusions(data.industry.labels),
    )
    in_force = 0
    for i in range(N):
        on = day(columns["application_date"][i])
        code = str(columns["product_code"][i])
        versions = [p for p in CATALOG.versions(code) if p.effective_on(on)]
        if not versions:
            assert codes_of(int(result.reasons[i])) == ("E01",)
            continue
        in_force += 1
        _compare(columns, result, i, _decide(columns, i, versions[0], on, rules))
    assert 0 < in_force < N  # most products start in June 2025, so both cases occur


def test_an_unknown_product_code_is_declined_with_b01() -> None:
    cols = synthetic(3, 50, ("NO-SUCH-PRODUCT", "ICBC-QZ-PV"))
    data = history_data(cols)
    assignment = assign_slots(CATALOG, data, VersionPolicy())
    result = replay(
        row_inputs(data, cols["true_pd"]),
        product_table(assignment.products, default_decision_rules()),
        assignment,
        default_decision_rules(),
    )
    unknown = cols["product_code"] == "NO-SUCH-PRODUCT"
    assert unknown.any()
    assert (result.reasons[unknown] == BIT["B01"]).all()
    assert (result.outcome[unknown] == 2).all()


def test_the_versions_on_a_date_policy_declines_codes_not_yet_in_force() -> None:
    cols = synthetic(3, 40, ("ICBC-QZ-IND-CRL", "CIB-QZ-CLL"))
    data = history_data(cols)
    assignment = assign_slots(CATALOG, data, VersionPolicy("on", date(2025, 1, 1)))
    crl = cols["product_code"] == "ICBC-QZ-IND-CRL"
    assert {p.version_id for p in assignment.products} == {"ICBC-QZ-IND-CRL@v1"}
    assert (assignment.slot[~crl] == -1).all()
    assert (assignment.missing[~crl] == BIT["E01"]).all()


@pytest.mark.parametrize(
    "value", [4.995, -4.995, 5.005, 1.015, 0.125, 2.675, 99.995, -0.005, 12.34, 7.0]
)
def test_rounding_to_hundredths_is_the_decimal_rounding_of_decisions(value: float) -> None:
    expected = Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN) * 100
    assert round_hundredths(np.array([value]))[0] == float(expected)


def test_rounding_keeps_missing_values_missing() -> None:
    assert np.isnan(round_hundredths(np.array([np.nan, 1.0]))[0])


def test_every_reason_code_has_its_own_bit() -> None:
    assert len(set(BIT.values())) == len(CODES) <= 32


def test_a_rule_set_without_any_of_the_products_declines_everything() -> None:
    cols = synthetic(3, 30, ("ICBC-QZ-PV",))
    data = history_data(cols)
    empty = only("NO-SUCH-PRODUCT")
    assignment = assign_slots(empty, data, VersionPolicy())
    rules = default_decision_rules()
    result = replay(row_inputs(data, cols["true_pd"]), product_table((), rules), assignment, rules)
    assert (result.outcome == 2).all()
    assert (result.reasons == BIT["B01"]).all()
    assert not result.booked.any()
