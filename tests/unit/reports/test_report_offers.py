"""Indicative terms: catalog multiplier and discount, limit for a base limit, LPR-based rate."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from product_docs import Document, as_parsed, valid_document, valid_product

from products import Catalog, LprHistory, Product
from products.catalog import catalog_from_documents
from products.lpr import LprFixing
from reports import indicative_offers

ON = date(2025, 7, 1)  # 1-year LPR 3.00% since the 2025-05-20 fixing


def catalog(*products: Document) -> Catalog:
    return catalog_from_documents({"test-bank.json": as_parsed(valid_document(*products))})


def account(**changes: Any) -> dict[str, Any]:
    """Dark green, grade 3, intensity 0.9 after 1.0 (a 10% cut), tier 1."""
    acct: dict[str, Any] = {
        "entity": {"id": "F1", "sector": "industry", "industry_code": "C2614"},
        "grade": {"colour": "dark_green", "carbon_efficiency": 3, "provisional": False},
        "intensity": {"value": 0.9},
        "previous_intensity": 1.0,
        "data_quality": {"tier": 1, "completeness": 1.0},
    }
    acct.update(changes)
    return acct


def products_of(cat: Catalog) -> tuple[Product, ...]:
    return cat.for_sector("industry", ON)


def test_terms_limit_and_rate_follow_the_hand_calculation() -> None:
    cat = catalog(valid_product())
    (offer,) = indicative_offers(
        products_of(cat), account(), on=ON, base_limit_yuan=Decimal("500000"), lpr=cat.lpr
    )
    assert offer.limit_multiplier == Decimal("1.50")
    assert offer.rate_discount_bp == 60  # 50 for dark green + 10 for the 10% cut
    assert offer.adjustments == ("YOY-CUT-5",)
    assert offer.indicative_limit_yuan == Decimal("750000.00")
    assert offer.lpr_pct == Decimal("3.00")
    assert offer.reference_rate_pct == Decimal("4.00")
    assert offer.indicative_rate_pct == Decimal("3.40")  # 3.00 + 1.00 - 0.60
    assert offer.at_floor is False


def test_the_limit_is_capped_at_the_product_maximum_and_the_rate_at_the_floor() -> None:
    cat = catalog(valid_product())
    lower = LprHistory(
        version="test",
        fixings=(LprFixing(date(2025, 6, 20), Decimal("2.50"), Decimal("3.00"), "test", "U"),),
        confirmed_through=date(2025, 6, 20),
    )
    (offer,) = indicative_offers(
        products_of(cat), account(), on=ON, base_limit_yuan=Decimal("1000000"), lpr=lower
    )
    assert offer.indicative_limit_yuan == Decimal("1000000.00")  # 1.5 m capped at 1 m
    assert offer.reference_rate_pct == Decimal("3.50")  # 2.50 + 1.00
    assert offer.indicative_rate_pct == Decimal("3.00")  # 2.90 floored at 3.00
    assert offer.at_floor is True


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"grade": {"colour": "yellow", "carbon_efficiency": 4, "provisional": False}}, "grade"),
        ({"entity": {"id": "F1", "sector": "industry", "industry_code": "C3011"}}, "industry"),
        ({"data_quality": {"tier": 4, "completeness": 1.0}}, "quality tier"),
    ],
)
def test_an_account_the_product_does_not_serve_gets_no_offer(
    changes: dict[str, Any], why: str
) -> None:
    cat = catalog(valid_product())
    offers = indicative_offers(
        products_of(cat), account(**changes), on=ON, base_limit_yuan=Decimal("1"), lpr=cat.lpr
    )
    assert offers == (), why


def test_a_provisional_grade_is_referred_and_open_critical_alerts_decline() -> None:
    cat = catalog(valid_product())
    provisional = account(
        grade={"colour": "dark_green", "carbon_efficiency": 3, "provisional": True}
    )
    (offer,) = indicative_offers(
        products_of(cat), provisional, on=ON, base_limit_yuan=Decimal("1"), lpr=cat.lpr
    )
    assert offer.review is True
    declined = indicative_offers(
        products_of(cat),
        account(),
        on=ON,
        base_limit_yuan=Decimal("1"),
        lpr=cat.lpr,
        open_critical_alerts=1,
    )
    assert declined == ()


def test_carbon_efficiency_products_use_the_numeric_grade_and_offers_sort_by_rate() -> None:
    efficiency = valid_product(
        code="TEST-CE",
        grade_basis="carbon_efficiency",
        grade_table={
            "1": {"limit_multiplier": "1.30", "rate_discount_bp": 40},
            "2": {"limit_multiplier": "1.20", "rate_discount_bp": 30},
            "3": {"limit_multiplier": "1.10", "rate_discount_bp": 20},
        },
        adjustments=[],
        eligibility={**valid_product()["eligibility"], "minimum_grade": "3"},
    )
    cat = catalog(valid_product(), efficiency)
    offers = indicative_offers(
        products_of(cat), account(), on=ON, base_limit_yuan=Decimal("100000"), lpr=cat.lpr
    )
    assert [o.product for o in offers] == ["TEST-LOAN@v1", "TEST-CE@v1"]
    assert offers[1].grade == "3"
    assert offers[1].indicative_rate_pct == Decimal("3.80")  # 3.00 + 1.00 - 0.20
    assert offers[1].indicative_limit_yuan == Decimal("110000.00")
