"""Schema-loaded product data -> :class:`~products.model.Product`, and a product back to its
document (the shape of a product file entry, Decimals as text)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from products.model import (
    Adjustment,
    Condition,
    Eligibility,
    GradeBasis,
    GradeTerms,
    Lender,
    Product,
    RateReference,
)


def build_product(
    data: Mapping[str, Any], lender: Lender, file: str, illustrative: bool
) -> Product:
    """A :class:`Product` from :class:`~products.schema.ProductSchema`-loaded data."""
    fields = {
        name: data[name]
        for name in (
            "code", "version", "name_zh", "name_en", "purpose", "min_amount_yuan",
            "max_amount_yuan", "min_term_months", "max_term_months", "grade_basis",
            "max_total_discount_bp", "cerf_eligible", "cerf_category", "effective_from",
            "effective_to", "source", "notes",
        )
    }  # fmt: skip
    return Product(
        **fields,
        lender=lender,
        sectors=tuple(data["sectors"]),
        rate=RateReference(**data["rate"]),
        grade_table=_grade_rows(data["grade_basis"], data["grade_table"]),
        adjustments=tuple(_adjustment(item) for item in data["adjustments"]),
        eligibility=Eligibility(
            **{
                **data["eligibility"],
                "excluded_industries": tuple(data["eligibility"]["excluded_industries"]),
            }
        ),
        illustrative=illustrative,
        source_file=file,
    )


def _grade_rows(basis: GradeBasis, table: Mapping[str, Any]) -> tuple[GradeTerms, ...]:
    """Grade-table rows, best grade first (grades off the scale last, for the rules to report)."""
    order = {grade: rank for rank, grade in enumerate(basis.grades)}
    rows = [
        GradeTerms(grade, terms["limit_multiplier"], terms["rate_discount_bp"])
        for grade, terms in table.items()
    ]
    return tuple(sorted(rows, key=lambda row: order.get(row.grade, len(order))))


def _adjustment(item: Mapping[str, Any]) -> Adjustment:
    return Adjustment(
        code=item["code"],
        description=item["description"],
        condition=Condition(**item["condition"]),
        discount_bp=item["discount_bp"],
    )


def product_document(product: Product) -> dict[str, Any]:
    """A product as written in a file (the inverse of :func:`build_product`)."""
    return {
        "code": product.code,
        "version": product.version,
        "name_zh": product.name_zh,
        "name_en": product.name_en,
        "sectors": [sector.value for sector in product.sectors],
        "purpose": product.purpose,
        "min_amount_yuan": str(product.min_amount_yuan),
        "max_amount_yuan": str(product.max_amount_yuan),
        "min_term_months": product.min_term_months,
        "max_term_months": product.max_term_months,
        "rate": {
            "lpr_tenor": product.rate.lpr_tenor.value,
            "spread_bp": product.rate.spread_bp,
            "floor_rate_pct": str(product.rate.floor_rate_pct),
        },
        "grade_basis": product.grade_basis.value,
        "grade_table": {
            row.grade: {
                "limit_multiplier": str(row.limit_multiplier),
                "rate_discount_bp": row.rate_discount_bp,
            }
            for row in product.grade_table
        },
        "adjustments": [_adjustment_document(adjustment) for adjustment in product.adjustments],
        "max_total_discount_bp": product.max_total_discount_bp,
        "eligibility": _eligibility_document(product.eligibility),
        "cerf_eligible": product.cerf_eligible,
        "cerf_category": product.cerf_category.value if product.cerf_category else None,
        "effective_from": product.effective_from.isoformat(),
        "effective_to": product.effective_to.isoformat() if product.effective_to else None,
        "source": product.source,
        "notes": product.notes,
    }


def _adjustment_document(adjustment: Adjustment) -> dict[str, Any]:
    condition = adjustment.condition
    return {
        "code": adjustment.code,
        "description": adjustment.description,
        "condition": {
            "metric": condition.metric.value,
            "op": condition.op.value,
            "value": str(condition.value),
        },
        "discount_bp": adjustment.discount_bp,
    }


def _eligibility_document(eligibility: Eligibility) -> dict[str, Any]:
    return {
        "minimum_grade": eligibility.minimum_grade,
        "provisional_grade": eligibility.provisional_grade.value,
        "open_critical_alerts": eligibility.open_critical_alerts.value,
        "excluded_industries": list(eligibility.excluded_industries),
        "max_pd": str(eligibility.max_pd),
        "max_quality_tier": eligibility.max_quality_tier,
    }
