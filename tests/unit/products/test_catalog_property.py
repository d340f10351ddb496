"""Property: no product the loader accepts gives a multiplier above 1.5 or a rate below its floor.

Random product definitions (grade scales, tables, adjustments, caps, spreads, floors, tenors and
dates across the LPR history) go through the real loader. An oracle written here, from the rule as
documented, says which ones must be accepted; the loader must agree, and every accepted product is
then checked grade by grade against every LPR fixing in force while it is effective.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from product_docs import Document, as_parsed, valid_document, valid_product

from products.catalog import catalog_from_documents
from products.errors import CatalogError
from products.lpr import LprHistory, default_lpr_history
from products.model import MAX_LIMIT_MULTIPLIER, GradeBasis, GradeTerms

LPR = default_lpr_history()
BASIS_SECTOR = {"colour": "industry", "carbon_efficiency": "industry", "resident_level": "resident"}
CAPPED_FIELDS = ("limit_multiplier", "rate.floor_rate_pct", "max_total_discount_bp")

multipliers = st.decimals(Decimal("0.01"), Decimal("1.80"), places=2)
discounts = st.integers(0, 250)


@st.composite
def products(draw: st.DrawFn) -> Document:
    basis = draw(st.sampled_from(list(GradeBasis)))
    eligible = basis.grades[: draw(st.integers(1, len(basis.grades)))]
    table_multipliers = sorted(
        draw(st.lists(multipliers, min_size=len(eligible), max_size=len(eligible))), reverse=True
    )
    table_discounts = sorted(
        draw(st.lists(discounts, min_size=len(eligible), max_size=len(eligible))), reverse=True
    )
    adjustment_bps = draw(st.lists(st.integers(0, 60), max_size=3))
    tenor = draw(st.sampled_from(["1y", "5y"]))
    start = date(2023, 8, 21) + timedelta(days=draw(st.integers(0, 1200)))
    length_days = draw(st.none() | st.integers(0, 900))
    return valid_product(
        sectors=[BASIS_SECTOR[basis.value]],
        grade_basis=basis.value,
        grade_table={
            grade: {"limit_multiplier": str(m), "rate_discount_bp": bp}
            for grade, m, bp in zip(eligible, table_multipliers, table_discounts, strict=True)
        },
        eligibility={**valid_product()["eligibility"], "minimum_grade": eligible[-1]},
        adjustments=[
            {
                "code": f"ADJ-{index}",
                "description": "Generated",
                "condition": {"metric": "completeness_pct", "op": ">=", "value": "90"},
                "discount_bp": bp,
            }
            for index, bp in enumerate(adjustment_bps)
        ],
        max_total_discount_bp=draw(st.none() | st.integers(0, 400)),
        rate={
            "lpr_tenor": tenor,
            "spread_bp": draw(st.integers(-100, 300)),
            "floor_rate_pct": str(draw(st.decimals(Decimal("0.50"), Decimal("6.00"), places=2))),
        },
        max_term_months=36 if tenor == "1y" else 120,
        effective_from=start.isoformat(),
        effective_to=None
        if length_days is None
        else (start + timedelta(days=length_days)).isoformat(),
    )


def lpr_values_in_force(
    history: LprHistory, tenor: str, start: date, end: date | None
) -> list[Decimal]:
    """The LPR values of every fixing in force on some day of [start, end] (oracle, by hand)."""
    fixings = history.fixings
    in_force_at_start = [f for f in fixings if f.fixing_date <= start][-1]
    later = [f for f in fixings if start < f.fixing_date and (end is None or f.fixing_date <= end)]
    column = "lpr_1y_pct" if tenor == "1y" else "lpr_5y_pct"
    return [getattr(f, column) for f in [in_force_at_start, *later]]


def oracle_accepts(product: Document) -> bool:
    table = product["grade_table"].values()
    if any(Decimal(row["limit_multiplier"]) > MAX_LIMIT_MULTIPLIER for row in table):
        return False
    best_bp = max(row["rate_discount_bp"] for row in table)
    cap = product["max_total_discount_bp"]
    if cap is not None and cap < best_bp:
        return False
    total_bp = best_bp + sum(a["discount_bp"] for a in product["adjustments"])
    total_bp = total_bp if cap is None else min(total_bp, cap)
    rate = product["rate"]
    start = date.fromisoformat(product["effective_from"])
    end = date.fromisoformat(product["effective_to"]) if product["effective_to"] else None
    lowest_lpr = min(lpr_values_in_force(LPR, rate["lpr_tenor"], start, end))
    lowest_rate = lowest_lpr + Decimal(rate["spread_bp"] - total_bp) / 100
    return lowest_rate >= Decimal(rate["floor_rate_pct"])


@settings(max_examples=300, deadline=None, derandomize=True)
@given(products())
def test_accepted_products_never_break_the_caps(product: Document) -> None:
    document = as_parsed(valid_document(product))
    if not oracle_accepts(product):
        with pytest.raises(CatalogError) as caught:
            catalog_from_documents({"gen.json": document})
        fields = [issue.field for issue in caught.value.issues]
        assert fields, product
        assert all(field.endswith(CAPPED_FIELDS) for field in fields), fields
        return
    loaded = catalog_from_documents({"gen.json": document}).products[0]
    metrics: dict[str, Any] = {"completeness_pct": Decimal(100)}
    lpr_values = lpr_values_in_force(
        LPR, loaded.rate.lpr_tenor.value, loaded.effective_from, loaded.effective_to
    )
    for row in loaded.grade_table:
        terms = loaded.terms(row.grade, metrics)
        assert terms is not None
        assert terms.limit_multiplier <= MAX_LIMIT_MULTIPLIER
        for lpr_pct in lpr_values:
            rate_pct = loaded.reference_rate_pct(lpr_pct) - Decimal(terms.rate_discount_bp) / 100
            assert rate_pct >= loaded.rate.floor_rate_pct


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.decimals(Decimal("-5"), Decimal("5"), places=4), st.integers(-50, 500))
def test_grade_terms_can_never_hold_a_multiplier_above_the_cap(
    multiplier: Decimal, bp: int
) -> None:
    try:
        terms = GradeTerms("dark_green", multiplier, bp)
    except ValueError:
        assert not (Decimal(0) < multiplier <= MAX_LIMIT_MULTIPLIER and bp >= 0)
        return
    assert Decimal(0) < terms.limit_multiplier <= MAX_LIMIT_MULTIPLIER
    assert terms.rate_discount_bp >= 0
