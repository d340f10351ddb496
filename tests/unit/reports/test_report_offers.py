"""Indicative terms: catalog multiplier and discount, limit for a base limit, LPR-based rate."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from products import Catalog, LprHistory, Product
from products.catalog import catalog_from_documents
from products.lpr import LprFixing
from reports import indicative_offers

ON = date(2025, 7, 1)  # 1-year LPR 3.00% since the 2025-05-20 fixing


def product_doc(**changes: Any) -> dict[str, Any]:
    """1y LPR + 100 bp, floor 3.00%; dark green 1.5× / 50 bp, light green 1.2× / 20 bp;
    +10 bp when intensity fell >= 5%; cap 1,000,000 yuan."""
    doc: dict[str, Any] = {
        "code": "TEST-LOAN",
        "version": 1,
        "name_zh": "测试贷",
        "name_en": "Test loan",
        "sectors": ["industry"],
        "purpose": "Testing.",
        "min_amount_yuan": "100000.00",
        "max_amount_yuan": "1000000.00",
        "min_term_months": 6,
        "max_term_months": 36,
        "rate": {"lpr_tenor": "1y", "spread_bp": 100, "floor_rate_pct": "3.00"},
        "grade_basis": "colour",
        "grade_table": {
            "dark_green": {"limit_multiplier": "1.50", "rate_discount_bp": 50},
            "light_green": {"limit_multiplier": "1.20", "rate_discount_bp": 20},
        },
        "adjustments": [
            {
                "code": "YOY-CUT-5",
                "description": "Intensity fell at least 5% year on year",
                "condition": {"metric": "intensity_cut_yoy_pct", "op": ">=", "value": "5"},
                "discount_bp": 10,
            }
        ],
        "eligibility": {
            "minimum_grade": "light_green",
            "provisional_grade": "refer",
            "open_critical_alerts": "decline",
            "excluded_industries": ["C3011"],
            "max_pd": "0.05",
            "max_quality_tier": 3,
        },
        "cerf_eligible": False,
        "effective_from": "2025-06-01",
        "effective_to": None,
        "source": "Test fixture.",
    }
    doc.update(changes)
    return doc


def catalog(*products: dict[str, Any]) -> Catalog:
    document = {
        "format": "finance-engine/product-catalog@1",
        "illustrative": True,
        "lender": {"code": "test-bank", "name_zh": "测试银行", "name_en": "Test Bank"},
        "products": list(products),
    }
    parsed = json.loads(json.dumps(document), parse_float=Decimal)
    return catalog_from_documents({"test-bank.json": parsed})


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
    cat = catalog(product_doc())
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
    cat = catalog(product_doc())
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
    cat = catalog(product_doc())
    offers = indicative_offers(
        products_of(cat), account(**changes), on=ON, base_limit_yuan=Decimal("1"), lpr=cat.lpr
    )
    assert offers == (), why


def test_a_provisional_grade_is_referred_and_open_critical_alerts_decline() -> None:
    cat = catalog(product_doc())
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
    efficiency = product_doc(
        code="TEST-CE",
        grade_basis="carbon_efficiency",
        grade_table={
            "1": {"limit_multiplier": "1.30", "rate_discount_bp": 40},
            "2": {"limit_multiplier": "1.20", "rate_discount_bp": 30},
            "3": {"limit_multiplier": "1.10", "rate_discount_bp": 20},
        },
        adjustments=[],
        eligibility={**product_doc()["eligibility"], "minimum_grade": "3"},
    )
    cat = catalog(product_doc(), efficiency)
    offers = indicative_offers(
        products_of(cat), account(), on=ON, base_limit_yuan=Decimal("100000"), lpr=cat.lpr
    )
    assert [o.product for o in offers] == ["TEST-LOAN@v1", "TEST-CE@v1"]
    assert offers[1].grade == "3"
    assert offers[1].indicative_rate_pct == Decimal("3.80")  # 3.00 + 1.00 - 0.20
    assert offers[1].indicative_limit_yuan == Decimal("110000.00")
