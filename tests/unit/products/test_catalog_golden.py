"""The packaged catalog: every product loads, every grade stays within the caps, hand-checked terms.

The golden summary (``golden/catalog_summary.json``) pins every product version's headline terms,
so a data edit shows up as a one-line diff per version to review. After a deliberate change::

    .venv/bin/python tests/unit/products/test_catalog_golden.py > \
        tests/unit/products/golden/catalog_summary.json
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from accounting.vocab import Sector
from products.catalog import DEFAULT_CATALOG_DIR, Catalog, UnknownProductError, load_catalog
from products.documents import build_product, product_document
from products.model import BP_PER_PERCENT, MAX_LIMIT_MULTIPLIER, Op, Product
from products.schema import ProductSchema

GOLDEN = Path(__file__).parent / "golden" / "catalog_summary.json"
MID_2026 = date(2026, 6, 1)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def all_adjustments_met(product: Product) -> dict[str, Decimal]:
    """Metrics that satisfy every adjustment condition of ``product``."""
    step = {Op.GT: Decimal(1), Op.LT: Decimal(-1)}
    return {
        adj.condition.metric.value: adj.condition.value + step.get(adj.condition.op, Decimal(0))
        for adj in product.adjustments
    }


def rate_after(product: Product, lpr_pct: Decimal, discount_bp: int) -> Decimal:
    return lpr_pct + (Decimal(product.rate.spread_bp) - discount_bp) / BP_PER_PERCENT


def test_at_least_forty_products_from_several_lenders_load(catalog: Catalog) -> None:
    assert len(catalog.codes()) >= 40
    assert len(catalog.lenders()) >= 8
    assert len({p.lender.code for p in catalog.products}) == len(catalog.lenders())


def test_every_sector_has_products_in_force(catalog: Catalog) -> None:
    counts = {sector: len(catalog.for_sector(sector, MID_2026)) for sector in Sector}
    assert all(count >= 4 for count in counts.values()), counts


def test_every_file_says_its_products_are_illustrative() -> None:
    for path in sorted(DEFAULT_CATALOG_DIR.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        assert document["illustrative"] is True, path.name
        assert "NOT this bank's actual terms" in document["disclaimer"], path.name
        assert path.stem == document["lender"]["code"], path.name


def test_every_product_cites_what_it_was_modelled_on(catalog: Catalog) -> None:
    for product in catalog.products:
        assert product.illustrative
        assert product.source.startswith("Modelled on: "), product.version_id
        assert "http" in product.source, product.version_id


def test_every_grade_of_every_product_stays_within_the_caps(catalog: Catalog) -> None:
    for product in catalog.products:
        fixings = catalog.lpr.fixings_in_force(product.effective_from, product.effective_to)
        metrics = all_adjustments_met(product)
        for row in product.grade_table:
            terms = product.terms(row.grade, metrics)
            assert terms is not None
            assert Decimal(0) < terms.limit_multiplier <= MAX_LIMIT_MULTIPLIER
            assert terms.rate_discount_bp == min(
                row.rate_discount_bp + sum(a.discount_bp for a in product.adjustments),
                product.max_total_discount_bp or 10_000,
            )
            for fixing in fixings:
                lpr_pct = fixing.rate_pct(product.rate.lpr_tenor)
                lowest = rate_after(product, lpr_pct, terms.rate_discount_bp)
                assert lowest >= product.rate.floor_rate_pct, (product.version_id, row.grade)


def test_discounts_sit_in_the_reported_range(catalog: Catalog) -> None:
    # domain.md 1.4: reported carbon-linked discounts run from -10 bp to about -150 bp
    for product in catalog.products:
        assert 10 <= product.largest_discount_bp <= 150, product.version_id


def test_cerf_products_are_priced_about_the_lpr(catalog: Catalog) -> None:
    # domain.md 4.1: CERF loans should be priced about the LPR of the same tenor
    cerf = [p for p in catalog.products if p.cerf_eligible]
    assert len(cerf) >= 4
    for product in cerf:
        assert abs(product.rate.spread_bp) <= 10, product.version_id
        assert product.cerf_category is not None


def test_hand_checked_carbon_linked_terms(catalog: Catalog) -> None:
    # Industrial Bank Huangshi model: 5.00% reference, dark green -140 bp, -10 bp for a 5% cut
    loan = catalog.get("CIB-QZ-CLL", on=MID_2026)
    reference = loan.reference_rate_pct(catalog.lpr.rate_pct(MID_2026, loan.rate.lpr_tenor))
    assert reference == Decimal("5.00")
    best = loan.terms("dark_green", {"intensity_cut_yoy_pct": Decimal("6")})
    assert best is not None
    assert (best.limit_multiplier, best.rate_discount_bp) == (Decimal("1.50"), 150)
    assert rate_after(loan, Decimal("3.00"), best.rate_discount_bp) == Decimal("3.50")
    yellow = loan.terms("yellow", {"intensity_cut_yoy_pct": Decimal("2")})
    assert yellow is not None
    assert rate_after(loan, Decimal("3.00"), yellow.rate_discount_bp) == Decimal("4.60")


@pytest.mark.parametrize(
    ("code", "grade", "expected_pct"),
    [
        ("JSRCB-CRT", "dark_green", "4.90"),  # Jiangshan: 5.0%, -10 bp
        ("ICBC-QZ-CLIMATE", "1", "3.80"),  # Yueqing: score >= 90 -> 3.8%
        ("ICBC-QZ-CLIMATE", "2", "4.00"),  # Yueqing: score 88 -> 4.0%
        ("JSRCB-PCP", "1", "3.80"),  # Yongjia: about 120 bp below normal
        ("QJRCB-CRL", "dark_green", "4.20"),  # Wuyi: -50 bp
        ("TLCB-QZ-AGRI", "light_green", "5.32"),  # Taixing: -28 bp
    ],
)
def test_rates_match_the_reported_evidence(
    catalog: Catalog, code: str, grade: str, expected_pct: str
) -> None:
    loan = catalog.get(code, on=MID_2026)
    terms = loan.terms(grade, {})
    assert terms is not None
    lpr_pct = catalog.lpr.rate_pct(MID_2026, loan.rate.lpr_tenor)
    assert rate_after(loan, lpr_pct, terms.rate_discount_bp) == Decimal(expected_pct)


def test_versions_are_picked_by_date(catalog: Catalog) -> None:
    assert catalog.get("ICBC-QZ-IND-CRL", on=date(2025, 5, 31)).version == 1
    assert catalog.get("ICBC-QZ-IND-CRL", on=date(2025, 6, 1)).version == 2
    assert catalog.get("ICBC-QZ-IND-CRL").version == 2
    assert catalog.get("QJRCB-PCP", on=date(2026, 4, 30)).version == 1
    assert catalog.get("QJRCB-PCP", on=date(2026, 5, 1)).version == 2
    with pytest.raises(UnknownProductError, match="no version in force on 2024-06-30"):
        catalog.get("ICBC-QZ-IND-CRL", on=date(2024, 6, 30))
    with pytest.raises(UnknownProductError, match="unknown product code 'NOPE'"):
        catalog.get("NOPE")


def test_products_for_a_sector_and_lender(catalog: Catalog) -> None:
    resident = [p.code for p in catalog.for_sector("resident", MID_2026)]
    assert resident == [
        "ABC-QZ-PCP", "BOC-QZ-GMORT", "CCB-QZ-NEV", "CCB-QZ-PCA",
        "JSRCB-PCP", "JSRCB-RPV", "QJRCB-PCP", "TLCB-QZ-PCP",
    ]  # fmt: skip
    assert all(
        p.grade_basis.value == "resident_level" for p in catalog.for_sector("resident", MID_2026)
    )
    assert [p.version_id for p in catalog.for_lender("jiangshan-rcb") if p.code == "JSRCB-CRT"] == [
        "JSRCB-CRT@v1",
        "JSRCB-CRT@v2",
    ]


def test_every_product_survives_a_round_trip_through_its_document(catalog: Catalog) -> None:
    for product in catalog.products:
        document = json.loads(json.dumps(product_document(product)), parse_float=Decimal)
        data = ProductSchema().load(document)
        rebuilt = build_product(data, product.lender, product.source_file, product.illustrative)
        assert rebuilt == product


def summarise(catalog: Catalog) -> list[dict[str, Any]]:
    """Headline terms of every version: the content the golden file pins."""
    rows = []
    for p in catalog.products:
        lpr_pct = catalog.lpr.rate_pct(p.effective_from, p.rate.lpr_tenor)
        rows.append(
            {
                "version_id": p.version_id,
                "lender": p.lender.code,
                "sectors": [s.value for s in p.sectors],
                "grade_basis": p.grade_basis.value,
                "grades": {
                    r.grade: [str(r.limit_multiplier), r.rate_discount_bp] for r in p.grade_table
                },
                "largest_discount_bp": p.largest_discount_bp,
                "reference_rate_at_launch_pct": str(p.reference_rate_pct(lpr_pct)),
                "floor_rate_pct": str(p.rate.floor_rate_pct),
                "cerf": p.cerf_eligible,
                "effective": [
                    str(p.effective_from),
                    str(p.effective_to) if p.effective_to else None,
                ],
            }
        )
    return rows


def test_the_catalog_matches_its_golden_summary(catalog: Catalog) -> None:
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert summarise(catalog) == expected


if __name__ == "__main__":  # regenerate the golden summary (see the module docstring)
    rows = [json.dumps(row, ensure_ascii=False) for row in summarise(load_catalog())]
    print("[\n" + ",\n".join(rows) + "\n]")
