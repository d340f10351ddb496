"""Golden decisions for hand-built borrowers against packaged products, computed by hand.

The credit assessment is given (a fixed PD) so each expectation follows from the product file
and the decision rules alone; the model path has its own tests (test_decide_model.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from decision_builders import ON, account, application, credit

from accounting.vocab import Colour, Sector
from products import Catalog, Policy, Product, load_catalog
from scoring.carbon_features import OpenAlerts, trend_pct_of
from scoring.decide import DecisionError, Outcome, decide_with_credit
from scoring.decision_rules import default_decision_rules
from scoring.reasons import REASON_CODES

D = Decimal


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def product(catalog: Catalog, code: str, on: date = ON) -> Product:
    return catalog.get(code, on=on)


def test_dark_green_firm_earns_the_products_best_multiplier_and_capped_discount(
    catalog: Catalog,
) -> None:
    # CIB-QZ-CLL: dark_green x1.50 / 140 bp, YOY-CUT-5 +10 bp, total cap 150 bp, floor 3.40%.
    cll = product(catalog, "CIB-QZ-CLL")
    app = application(base_rate_pct=D("5.30"))
    decision = decide_with_credit(app, account(), cll, credit(0.01), on=ON)
    assert decision.outcome is Outcome.APPROVE
    assert decision.eligible
    assert decision.grade == "dark_green"
    terms = decision.terms
    assert terms is not None
    assert terms.limit_multiplier == D("1.50")
    assert (terms.grade_discount_bp, terms.adjustment_discount_bp) == (140, 10)
    assert terms.rate_discount_bp == 150
    assert terms.adjustments_applied == ("YOY-CUT-5",)
    assert terms.final_limit_yuan == D("3000000.00")  # 2,000,000 x 1.50
    assert terms.final_rate_pct == D("3.80")  # 5.30 - 1.50
    assert not terms.floor_applied
    assert decision.codes() == ("C02", "C04", "C06", "P03")


def test_grade_one_firm_on_a_carbon_efficiency_product(catalog: Catalog) -> None:
    # BOC-QZ-CEL: grade "1" x1.50 / 60 bp, YOY-CUT-5 +10 bp, floor 3.00%.
    decision = decide_with_credit(
        application(base_rate_pct=D("4.00")),
        account(),
        product(catalog, "BOC-QZ-CEL"),
        credit(0.01),
        on=ON,
    )
    assert decision.grade_basis == "carbon_efficiency"
    assert decision.grade == "1"
    assert decision.terms is not None
    assert decision.terms.final_rate_pct == D("3.30")  # 4.00 - 0.70
    assert decision.codes()[0] == "C01"


def test_base_rate_near_the_floor_is_held_at_the_floor(catalog: Catalog) -> None:
    decision = decide_with_credit(
        application(base_rate_pct=D("3.45")),
        account(),
        product(catalog, "CIB-QZ-CLL"),
        credit(0.01),
        on=ON,
    )
    assert decision.terms is not None
    assert decision.terms.final_rate_pct == D("3.40")  # 3.45 - 1.50 = 1.95 < floor 3.40
    assert decision.terms.floor_applied
    assert "P01" in decision.codes()


def test_a_base_rate_below_the_floor_is_raised_to_it(catalog: Catalog) -> None:
    decision = decide_with_credit(
        application(base_rate_pct=D("3.00")),
        account(colour=Colour.YELLOW),
        product(catalog, "CIB-QZ-CLL"),
        credit(0.01),
        on=ON,
    )
    assert decision.terms is not None
    assert decision.terms.final_rate_pct == D("3.40")


def test_red_firm_is_declined_where_the_minimum_is_yellow(catalog: Catalog) -> None:
    red = account(colour=Colour.RED, carbon_efficiency=5, score=35.0, trend_pct=4.0)
    decision = decide_with_credit(
        application(), red, product(catalog, "CIB-QZ-CLL"), credit(0.01), on=ON
    )
    assert decision.outcome is Outcome.DECLINE
    assert not decision.eligible
    assert decision.terms is None
    assert [r.code for r in decision.ineligible_reasons] == ["E04"]
    assert "grade red is worse than the minimum yellow" in decision.reasons[0].text
    assert "C05" in decision.codes()  # intensity rose


def test_red_firm_gets_the_worst_terms_where_red_is_eligible(catalog: Catalog) -> None:
    # ABC-QZ-ESR: red x1.00 / 0 bp; no cut, so no adjustment.
    red = account(colour=Colour.RED, carbon_efficiency=5, score=35.0, trend_pct=4.0)
    decision = decide_with_credit(
        application(), red, product(catalog, "ABC-QZ-ESR"), credit(0.01), on=ON
    )
    assert decision.outcome is Outcome.APPROVE
    assert decision.terms is not None
    assert decision.terms.limit_multiplier == D("1.00")
    assert decision.terms.rate_discount_bp == 0
    assert decision.terms.final_rate_pct == D("3.45")
    assert decision.terms.final_limit_yuan == D("2000000.00")


def test_provisional_grade_follows_each_products_policy(catalog: Catalog) -> None:
    provisional = account(provisional=True, completeness=0.85, quality_tier=3)
    cll = product(catalog, "CIB-QZ-CLL")  # provisional: refer
    sme = product(catalog, "TLCB-QZ-SME")  # provisional: allow
    declining = replace(cll, eligibility=replace(cll.eligibility, provisional_grade=Policy.DECLINE))
    refer = decide_with_credit(application(), provisional, cll, credit(0.01), on=ON)
    allow = decide_with_credit(application(), provisional, sme, credit(0.01), on=ON)
    decline = decide_with_credit(application(), provisional, declining, credit(0.01), on=ON)
    assert refer.outcome is Outcome.REFER
    assert refer.codes()[0] == "R01"
    assert refer.terms is not None  # what the officer may approve
    assert allow.outcome is Outcome.APPROVE
    assert "C07" in allow.codes()
    assert decline.outcome is Outcome.DECLINE
    assert decline.codes()[0] == "E07"


@pytest.mark.parametrize(
    ("pd", "outcome", "code"),
    [
        (0.033, Outcome.APPROVE, None),
        (0.034, Outcome.APPROVE, None),  # exactly 0.85 x 4%: not above
        (0.0341, Outcome.REFER, "R03"),
        (0.04, Outcome.REFER, "R03"),  # exactly the maximum: not above
        (0.0401, Outcome.DECLINE, "E09"),
        (0.2, Outcome.DECLINE, "E09"),
    ],
)
def test_pd_against_the_products_maximum(
    catalog: Catalog, pd: float, outcome: Outcome, code: str | None
) -> None:
    cll = product(catalog, "CIB-QZ-CLL")  # max_pd 0.04, refer band from 0.85 x 0.04
    decision = decide_with_credit(application(), account(), cll, credit(pd), on=ON)
    assert decision.outcome is outcome
    assert decision.pd == pd
    if code is not None:
        assert decision.codes()[0] == code


@pytest.mark.parametrize(
    ("intensity", "discount_bp", "final_rate"),
    [(0.95, 100, "4.30"), (0.951, 90, "4.40"), (1.0, 90, "4.40")],
)
def test_yoy_adjustment_applies_at_exactly_a_5pct_cut_and_not_at_4_9pct(
    catalog: Catalog, intensity: float, discount_bp: int, final_rate: str
) -> None:
    trend = trend_pct_of({"intensity": {"value": intensity}, "previous_intensity": 1.0})
    light = account(colour=Colour.LIGHT_GREEN, trend_pct=trend)
    decision = decide_with_credit(
        application(base_rate_pct=D("5.30")),
        light,
        product(catalog, "CIB-QZ-CLL"),
        credit(0.01),
        on=ON,
    )
    assert decision.terms is not None
    assert decision.terms.rate_discount_bp == discount_bp  # light green 90 bp (+10 bp)
    assert decision.terms.final_rate_pct == D(final_rate)


def test_limit_is_capped_at_the_products_maximum(catalog: Catalog) -> None:
    # TLCB-QZ-SME: grade 1 x1.30, maximum 5,000,000 yuan.
    decision = decide_with_credit(
        application(base_limit_yuan=D("4000000.00"), base_rate_pct=D("5.00")),
        account(),
        product(catalog, "TLCB-QZ-SME"),
        credit(0.01),
        on=ON,
    )
    assert decision.terms is not None
    assert decision.terms.final_limit_yuan == D("5000000.00")  # not 5,200,000
    assert decision.terms.limit_capped
    assert "P02" in decision.codes()


def test_final_limit_is_rounded_down_to_the_fen(catalog: Catalog) -> None:
    decision = decide_with_credit(
        application(base_limit_yuan=D("1000000.07"), base_rate_pct=D("5.00")),
        account(colour=Colour.LIGHT_GREEN),
        product(catalog, "CIB-QZ-CLL"),
        credit(0.01),
        on=ON,
    )
    assert decision.terms is not None
    assert decision.terms.final_limit_yuan == D("1300000.09")  # 1,300,000.091 rounded down


def test_open_critical_alerts_refer_or_decline_per_product(catalog: Catalog) -> None:
    alarmed = account(open_alerts=OpenAlerts(critical=2))
    refer = decide_with_credit(
        application(), alarmed, product(catalog, "CIB-QZ-CLL"), credit(0.01), on=ON
    )
    decline = decide_with_credit(
        application(), alarmed, product(catalog, "ABC-QZ-ESR"), credit(0.01), on=ON
    )
    assert (refer.outcome, refer.codes()[0]) == (Outcome.REFER, "R02")
    assert (decline.outcome, decline.codes()[0]) == (Outcome.DECLINE, "E08")
    assert "C08" in refer.codes()


@pytest.mark.parametrize(
    ("changes", "code", "product_code"),
    [
        ({"industry_code": "B0610"}, "E05", "BOC-QZ-CEL"),  # coal mining excluded
        ({"quality_tier": 3}, "E06", "BOCOM-QZ-CCR"),  # accepts tiers 1-2
        ({"sector": Sector.BUILDING}, "E02", "CIB-QZ-CLL"),
        ({"carbon_efficiency": 4}, "E04", "BOC-QZ-CEL"),  # minimum grade 3
        ({"carbon_efficiency": None}, "E03", "BOC-QZ-CEL"),
    ],
)
def test_product_eligibility_rules_decline_naming_the_rule(
    catalog: Catalog, changes: dict[str, object], code: str, product_code: str
) -> None:
    big = application(base_limit_yuan=D("4000000.00"))  # x1.50 above every minimum used here
    decision = decide_with_credit(
        big, account(**changes), product(catalog, product_code), credit(0.01), on=ON
    )
    assert decision.outcome is Outcome.DECLINE
    assert [r.code for r in decision.ineligible_reasons] == [code]


def test_a_version_not_in_force_is_declined(catalog: Catalog) -> None:
    old = catalog.get("ICBC-QZ-IND-CRL", on=date(2025, 1, 1))  # v1, ended 2025-05-31
    decision = decide_with_credit(application(), account(), old, credit(0.01), on=ON)
    assert decision.codes()[0] == "E01"
    assert decision.versions.product == "ICBC-QZ-IND-CRL@v1"


def test_requested_amount_and_term_are_checked(catalog: Catalog) -> None:
    cll = product(catalog, "CIB-QZ-CLL")  # 1m-100m yuan, 12-60 months
    too_much = decide_with_credit(
        application(requested_amount_yuan=D("3500000.00")), account(), cll, credit(0.01), on=ON
    )
    too_little = decide_with_credit(
        application(requested_amount_yuan=D("500000.00")), account(), cll, credit(0.01), on=ON
    )
    too_long = decide_with_credit(
        application(requested_term_months=72), account(), cll, credit(0.01), on=ON
    )
    assert (too_much.outcome, too_much.codes()[0]) == (Outcome.REFER, "R04")
    assert (too_little.outcome, too_little.codes()[0]) == (Outcome.DECLINE, "E10")
    assert (too_long.outcome, too_long.codes()[0]) == (Outcome.DECLINE, "E12")


def test_a_final_limit_below_the_products_minimum_declines(catalog: Catalog) -> None:
    small = application(base_limit_yuan=D("600000.00"))  # x1.50 = 900,000 < 1,000,000
    decision = decide_with_credit(
        small, account(), product(catalog, "CIB-QZ-CLL"), credit(0.01), on=ON
    )
    assert decision.codes()[0] == "E11"


def test_stale_accounts_many_warnings_and_missing_industry_codes_are_referred(
    catalog: Catalog,
) -> None:
    rules = default_decision_rules()
    cll = product(catalog, "CIB-QZ-CLL")
    stale = account(period_start=date(2024, 1, 1), period_end=date(2024, 10, 31))
    assert (ON - stale.period_end).days > rules.max_account_age_days
    warned = account(open_alerts=OpenAlerts(warning=rules.refer_open_warning_alerts or 1))
    unknown = account(industry_code="")
    for view, code in ((stale, "R05"), (warned, "R06"), (unknown, "R07")):
        decision = decide_with_credit(application(), view, cll, credit(0.01), on=ON)
        assert (decision.outcome, decision.codes()[0]) == (Outcome.REFER, code)


def test_versions_name_every_input(catalog: Catalog) -> None:
    decision = decide_with_credit(
        application(), account(), product(catalog, "CIB-QZ-CLL"), credit(0.01), on=ON
    )
    v = decision.versions
    assert (v.product, v.factor_set, v.benchmark, v.grading) == (
        "CIB-QZ-CLL@v1",
        "CN-2023",
        "SYNTH-2025",
        "ZJ-QZ-v1",
    )
    assert (v.model, v.risk_bands, v.rules) == ("RM-TEST", "RB-2025-v1", "DR-2026-v1")


def test_every_reason_code_used_is_listed(catalog: Catalog) -> None:
    views = [account(), account(colour=Colour.RED, provisional=True, trend_pct=3.0)]
    for view in views:
        for item in catalog.for_sector("industry", ON):
            decision = decide_with_credit(application(), view, item, credit(0.035), on=ON)
            for r in decision.reasons:
                assert REASON_CODES[r.code][0] is r.kind


def test_inputs_that_do_not_belong_together_are_refused(catalog: Catalog) -> None:
    cll = product(catalog, "CIB-QZ-CLL")
    with pytest.raises(DecisionError, match="product_code"):
        decide_with_credit(
            application(product_code="BOC-QZ-CEL"), account(), cll, credit(0.01), on=ON
        )
    with pytest.raises(DecisionError, match="lender_code"):
        decide_with_credit(
            application(lender_code="boc-quzhou"), account(), cll, credit(0.01), on=ON
        )
    with pytest.raises(DecisionError, match="entity_id"):
        decide_with_credit(application(), account(entity_id="OTHER"), cll, credit(0.01), on=ON)


def test_no_carbon_account_declines_with_no_grade(catalog: Catalog) -> None:
    decision = decide_with_credit(
        application(), None, product(catalog, "CIB-QZ-CLL"), credit(0.01), on=ON
    )
    assert decision.outcome is Outcome.DECLINE
    assert decision.codes()[:2] == ("E03", "C10")
