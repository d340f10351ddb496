"""Property tests: whatever the product, account, application and PD, no decision ever offers a
multiplier above 1.5, a rate below the product's floor or a limit above the product's maximum,
and the final terms follow the documented formulas exactly."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from decision_builders import sound_financials
from hypothesis import event, given, settings
from hypothesis import strategies as st

from accounting.vocab import Colour, Sector
from products import MAX_LIMIT_MULTIPLIER, Product, Terms, load_catalog
from scoring.applications import Application
from scoring.carbon_features import AccountView, OpenAlerts
from scoring.decide import CreditAssessment, Outcome, decide_with_credit, final_terms
from scoring.reasons import ReasonKind

CATALOG = load_catalog()
BP = Decimal(100)


def money(low: str, high: str) -> st.SearchStrategy[Decimal]:
    return st.decimals(Decimal(low), Decimal(high), places=2, allow_nan=False)


@st.composite
def accounts(
    draw: st.DrawFn, sectors: tuple[Sector, ...] = tuple(Sector), graded: bool = False
) -> AccountView:
    end = draw(st.dates(date(2023, 1, 31), date(2027, 12, 31)))
    grade = st.integers(1, 5) if graded else st.none() | st.integers(1, 5)
    colour = st.sampled_from(list(Colour))
    return AccountView(
        entity_id="E1",
        sector=draw(st.sampled_from(sectors)),
        industry_code=draw(st.sampled_from(["", "C2614", "B0610", "C2511", "D4411", "C3011"])),
        period_start=end - timedelta(days=364),
        period_end=end,
        carbon_efficiency=draw(grade),
        colour=draw(colour if graded else st.none() | colour),
        score=draw(st.none() | st.floats(0, 100)),
        k=draw(st.none() | st.floats(0, 100)),
        provisional=draw(st.booleans()),
        trend_pct=draw(st.none() | st.floats(-100, 1000)),
        completeness=draw(st.floats(0, 1)),
        quality_tier=draw(st.integers(1, 2 if graded else 5)),
        factor_set_version="F",
        benchmark_version="B",
        grading_version="G",
        open_alerts=OpenAlerts(*draw(st.tuples(*[st.integers(0, 20)] * 3))),
        resident_level=draw(grade),
        carbon_points=draw(st.none() | st.integers(0, 100_000)),
    )


@st.composite
def applications(draw: st.DrawFn, product: Product | None = None) -> Application:
    if product is None:
        limit = money("0.01", "10000000000")
        requested: st.SearchStrategy[Decimal | None] = st.none() | money("0.01", "500000000")
        term: st.SearchStrategy[int | None] = st.none() | st.integers(1, 360)
    else:
        limit = money(str(product.min_amount_yuan), str(product.max_amount_yuan))
        requested, term = st.none(), st.none()
    return Application(
        application_id="A1",
        entity_id="E1",
        base_limit_yuan=draw(limit),
        base_rate_pct=draw(st.decimals(Decimal("0.0001"), Decimal(36), places=4)),
        financials=sound_financials(),
        requested_amount_yuan=draw(requested),
        requested_term_months=draw(term),
    )


Case = tuple[Product, AccountView | None, Application, float, date]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """Mostly a graded account of a sector the product serves, a base limit in its range, a PD
    up to a bit above its maximum and a date it is in force (the cases that reach final terms);
    one case in four anything at all."""
    product = draw(st.sampled_from(CATALOG.products))
    if draw(st.integers(0, 3)) == 0:
        anything = draw(st.none() | accounts())
        when = draw(st.dates(date(2024, 1, 1), date(2027, 12, 31)))
        return product, anything, draw(applications()), draw(st.floats(0, 1)), when
    account = draw(accounts(product.sectors, graded=True))
    top = float(product.eligibility.max_pd) * 1.2
    last = product.effective_to or date(2027, 12, 31)
    on = draw(st.dates(product.effective_from, last))
    return product, account, draw(applications(product)), draw(st.floats(0, top)), on


@settings(max_examples=800, deadline=None)
@given(case=cases())
def test_no_decision_breaks_the_caps_or_the_floor(case: Case) -> None:
    product, account, application, pd, on = case
    credit = CreditAssessment(pd, "X", (), "M", "B")
    decision = decide_with_credit(application, account, product, credit, on=on)
    event(f"outcome {decision.outcome.value}")
    for r in decision.ineligible_reasons:
        event(r.code)
    declines = [r for r in decision.reasons if r.kind is ReasonKind.ELIGIBILITY]
    assert (decision.outcome is Outcome.DECLINE) == bool(declines)
    assert (decision.terms is None) == (decision.outcome is Outcome.DECLINE)
    if decision.outcome is not Outcome.APPROVE:
        assert decision.reasons[0].kind in {ReasonKind.ELIGIBILITY, ReasonKind.REFERRAL}
    terms = decision.terms
    if terms is None:
        return
    assert terms.limit_multiplier <= MAX_LIMIT_MULTIPLIER
    assert terms.final_rate_pct >= product.rate.floor_rate_pct
    assert terms.final_limit_yuan <= product.max_amount_yuan
    assert terms.final_limit_yuan <= application.base_limit_yuan * MAX_LIMIT_MULTIPLIER
    discounted = application.base_rate_pct - Decimal(terms.rate_discount_bp) / BP
    assert terms.final_rate_pct == max(discounted, product.rate.floor_rate_pct)
    expected_limit = (application.base_limit_yuan * terms.limit_multiplier).quantize(
        Decimal("0.01"), ROUND_DOWN
    )
    assert terms.final_limit_yuan == min(expected_limit, product.max_amount_yuan)
    assert pd <= float(product.eligibility.max_pd)


@settings(max_examples=200, deadline=None)
@given(
    multiplier=st.decimals(Decimal("0.01"), Decimal("100"), places=2),
    discount_bp=st.integers(0, 5000),
    application=applications(),
    product=st.sampled_from(CATALOG.products),
)
def test_final_terms_clip_any_multiplier_and_hold_the_floor_even_for_bad_terms(
    multiplier: Decimal, discount_bp: int, application: Application, product: Product
) -> None:
    # Terms built by hand, bypassing the catalog's checks: the caps still hold.
    raw = Terms("x", multiplier, discount_bp, 0, discount_bp, ())
    terms = final_terms(application, product, raw)
    assert terms.limit_multiplier == min(multiplier, MAX_LIMIT_MULTIPLIER)
    assert terms.final_rate_pct >= product.rate.floor_rate_pct
    assert terms.final_limit_yuan <= product.max_amount_yuan
