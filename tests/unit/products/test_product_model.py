"""Product values: grade terms, adjustments, industry exclusions, caps enforced in the types."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from product_docs import as_parsed, valid_document, valid_product

from products.catalog import catalog_from_documents
from products.model import (
    MAX_LIMIT_MULTIPLIER,
    Condition,
    GradeBasis,
    GradeTerms,
    Metric,
    Op,
    Product,
)


def product(**changes: object) -> Product:
    catalog = catalog_from_documents(
        {"bank.json": as_parsed(valid_document(valid_product(**changes)))}
    )
    return catalog.products[0]


def test_the_hard_cap_is_one_and_a_half() -> None:
    assert Decimal("1.5") == MAX_LIMIT_MULTIPLIER
    assert GradeTerms("dark_green", Decimal("1.5"), 0).limit_multiplier == Decimal("1.5")
    with pytest.raises(ValueError, match=r"limit_multiplier 1.51 outside \(0, 1.5\]"):
        GradeTerms("dark_green", Decimal("1.51"), 0)
    with pytest.raises(ValueError, match="rate_discount_bp must be >= 0"):
        GradeTerms("dark_green", Decimal("1.0"), -1)


@pytest.mark.parametrize(
    ("op", "observed", "holds"),
    [
        (Op.GE, Decimal("5"), True),
        (Op.GE, Decimal("4.99"), False),
        (Op.GT, Decimal("5"), False),
        (Op.GT, 6, True),
        (Op.LE, Decimal("5"), True),
        (Op.LT, Decimal("5"), False),
        (Op.EQ, 5, True),
        (Op.GE, None, False),
    ],
)
def test_a_condition_compares_the_observed_metric(
    op: Op, observed: Decimal | int | None, holds: bool
) -> None:
    assert Condition(Metric.INTENSITY_CUT_YOY_PCT, op, Decimal("5")).holds(observed) is holds


def test_terms_add_adjustments_that_hold_to_the_grade_discount() -> None:
    loan = product()
    cut = loan.terms("dark_green", {"intensity_cut_yoy_pct": Decimal("5.0")})
    assert cut is not None
    assert (cut.limit_multiplier, cut.grade_discount_bp, cut.adjustment_discount_bp) == (
        Decimal("1.50"),
        50,
        10,
    )
    assert (cut.rate_discount_bp, cut.adjustments_applied) == (60, ("YOY-CUT-5",))
    no_cut = loan.terms("light_green", {"intensity_cut_yoy_pct": Decimal("4.9")})
    assert no_cut is not None
    assert (no_cut.limit_multiplier, no_cut.rate_discount_bp, no_cut.adjustments_applied) == (
        Decimal("1.20"),
        20,
        (),
    )
    assert loan.terms("light_green", {}) == no_cut


def test_a_grade_outside_the_table_gets_no_terms() -> None:
    loan = product()
    assert loan.terms("yellow", {}) is None
    assert loan.grade_terms("red") is None


def test_the_total_discount_cap_applies_after_adjustments() -> None:
    loan = product(max_total_discount_bp=55)
    terms = loan.terms("dark_green", {"intensity_cut_yoy_pct": 8})
    assert terms is not None
    assert (terms.grade_discount_bp, terms.adjustment_discount_bp, terms.rate_discount_bp) == (
        50,
        10,
        55,
    )
    assert loan.largest_discount_bp == 55


def test_derived_figures() -> None:
    loan = product()
    assert loan.version_id == "TEST-LOAN@v1"
    assert loan.max_limit_multiplier == Decimal("1.50")
    assert loan.largest_discount_bp == 60
    assert loan.reference_rate_pct(Decimal("3.00")) == Decimal("4.00")
    assert [row.grade for row in loan.grade_table] == ["dark_green", "light_green"]


def test_effective_dates_are_inclusive() -> None:
    loan = product(effective_to="2025-12-31")
    assert not loan.effective_on(date(2025, 5, 31))
    assert loan.effective_on(date(2025, 6, 1))
    assert loan.effective_on(date(2025, 12, 31))
    assert not loan.effective_on(date(2026, 1, 1))


@pytest.mark.parametrize(
    ("industry_code", "excluded"),
    [
        ("B0610", True),  # coal mining under division B06
        ("0610", True),
        ("C3011", True),  # cement
        ("c3011", True),
        ("C3012", False),  # lime and gypsum: same group, other class
        ("C30", False),  # only a division given: not known to be cement
        ("D4416", False),
        ("", False),
    ],
)
def test_excluded_industries_match_by_gbt_4754_prefix(industry_code: str, excluded: bool) -> None:
    assert product().eligibility.excludes_industry(industry_code) is excluded


def test_grade_scales_rank_best_first() -> None:
    assert GradeBasis.COLOUR.rank("dark_green") == 1
    assert GradeBasis.COLOUR.rank("red") == 4
    assert GradeBasis.CARBON_EFFICIENCY.grades == ("1", "2", "3", "4", "5")
    assert GradeBasis.RESIDENT_LEVEL.rank("5") == 5
    with pytest.raises(ValueError, match="'green' is not a colour grade"):
        GradeBasis.COLOUR.rank("green")
