"""Checks across the fields of one product and across products (after schema validation).

Every check returns ``(field, message)`` pairs or :class:`~products.errors.CatalogIssue` objects;
none stops at the first problem, so a file is reported whole.

The floor rule
--------------
A product's rate is ``LPR(tenor) + spread_bp`` less its discount, and may never fall below
``floor_rate_pct``. The loader refuses a product whose *largest* total discount (best grade plus
every adjustment, after ``max_total_discount_bp``) would take the reference rate below the floor
under **any** LPR fixing in force while the product is effective (from ``effective_from`` to
``effective_to``, or to the end of the known history when open-ended). Checking only at
``effective_from`` would miss a later LPR cut (as in October 2024 and May 2025); checking every
fixing means an LPR cut that erodes a product's headroom makes ``products validate`` fail until
the product is re-priced with a new version. Scoring still clamps the final rate at the floor.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from itertools import pairwise

from products.errors import CatalogIssue
from products.lpr import LprError, LprHistory
from products.model import (
    BASIS_SECTORS,
    BP_PER_PERCENT,
    MAX_ONE_YEAR_TENOR_TERM_MONTHS,
    LprTenor,
    Product,
)

FieldMessage = tuple[str, str]


def product_label(product: Product) -> str:
    """``CODE vN``, how issues name a product."""
    return f"{product.code} v{product.version}"


def check_product(product: Product, lpr: LprHistory) -> list[FieldMessage]:
    """Every cross-field problem of one product version, as ``(field, message)`` pairs."""
    return [
        *_check_ranges(product),
        *_check_sectors(product),
        *_check_grade_table(product),
        *_check_adjustments(product),
        *_check_cerf(product),
        *_check_floor(product, lpr),
    ]


def _check_ranges(product: Product) -> Iterator[FieldMessage]:
    if product.min_amount_yuan > product.max_amount_yuan:
        yield (
            "max_amount_yuan",
            (f"{product.max_amount_yuan} is below min_amount_yuan {product.min_amount_yuan}"),
        )
    if product.min_term_months > product.max_term_months:
        yield (
            "max_term_months",
            (f"{product.max_term_months} is below min_term_months {product.min_term_months}"),
        )
    one_year = product.rate.lpr_tenor is LprTenor.ONE_YEAR
    if one_year and product.max_term_months > MAX_ONE_YEAR_TENOR_TERM_MONTHS:
        yield (
            "rate.lpr_tenor",
            (
                f"1y LPR prices loans of up to {MAX_ONE_YEAR_TENOR_TERM_MONTHS} months; "
                f"max_term_months is {product.max_term_months}: use 5y"
            ),
        )
    if not one_year and product.max_term_months <= MAX_ONE_YEAR_TENOR_TERM_MONTHS:
        yield (
            "rate.lpr_tenor",
            (
                f"5y LPR prices loans longer than {MAX_ONE_YEAR_TENOR_TERM_MONTHS} months; "
                f"max_term_months is {product.max_term_months}: use 1y"
            ),
        )
    if product.effective_to is not None and product.effective_to < product.effective_from:
        yield "effective_to", f"{product.effective_to} precedes effective_from"


def _check_sectors(product: Product) -> Iterator[FieldMessage]:
    if len(set(product.sectors)) != len(product.sectors):
        yield "sectors", "lists a sector twice"
    allowed = BASIS_SECTORS[product.grade_basis]
    wrong = sorted(sector.value for sector in set(product.sectors) - allowed)
    if wrong:
        yield (
            "sectors",
            (
                f"{', '.join(wrong)} accounts carry no {product.grade_basis.value} grade "
                f"(allowed: {', '.join(sorted(sector.value for sector in allowed))})"
            ),
        )


def _check_grade_table(product: Product) -> Iterator[FieldMessage]:
    basis = product.grade_basis
    minimum = product.eligibility.minimum_grade
    unknown = [row.grade for row in product.grade_table if row.grade not in basis.grades]
    for grade in unknown:
        yield f"grade_table.{grade}", f"not a {basis.value} grade ({', '.join(basis.grades)})"
    if minimum not in basis.grades:
        yield (
            "eligibility.minimum_grade",
            (f"{minimum!r} is not a {basis.value} grade ({', '.join(basis.grades)})"),
        )
        return
    if unknown:
        return
    expected = basis.grades[: basis.rank(minimum)]
    listed = [row.grade for row in product.grade_table]
    missing = [grade for grade in expected if grade not in listed]
    extra = [grade for grade in listed if grade not in expected]
    if missing:
        yield (
            "grade_table",
            (
                f"missing {', '.join(missing)}: every grade from {expected[0]} down to the "
                f"minimum grade {minimum} needs terms"
            ),
        )
    for grade in extra:
        yield f"grade_table.{grade}", f"worse than the minimum grade {minimum}, so never used"
    yield from _check_monotone(product)


def _check_monotone(product: Product) -> Iterator[FieldMessage]:
    for better, worse in pairwise(product.grade_table):
        if worse.limit_multiplier > better.limit_multiplier:
            yield (
                f"grade_table.{worse.grade}.limit_multiplier",
                (
                    f"{worse.limit_multiplier} exceeds the better grade {better.grade}'s "
                    f"{better.limit_multiplier}"
                ),
            )
        if worse.rate_discount_bp > better.rate_discount_bp:
            yield (
                f"grade_table.{worse.grade}.rate_discount_bp",
                (
                    f"{worse.rate_discount_bp} exceeds the better grade {better.grade}'s "
                    f"{better.rate_discount_bp}"
                ),
            )


def _check_adjustments(product: Product) -> Iterator[FieldMessage]:
    seen: set[str] = set()
    for index, adjustment in enumerate(product.adjustments):
        if adjustment.code in seen:
            yield f"adjustments[{index}].code", f"{adjustment.code} is used twice"
        seen.add(adjustment.code)
    cap = product.max_total_discount_bp
    best_grade_bp = max(row.rate_discount_bp for row in product.grade_table)
    if cap is not None and cap < best_grade_bp:
        yield (
            "max_total_discount_bp",
            (f"{cap} is below the largest grade discount {best_grade_bp} bp"),
        )


def _check_cerf(product: Product) -> Iterator[FieldMessage]:
    if product.cerf_eligible and product.cerf_category is None:
        yield "cerf_category", "required when cerf_eligible is true"
    if not product.cerf_eligible and product.cerf_category is not None:
        yield "cerf_category", "only allowed when cerf_eligible is true"


def _check_floor(product: Product, lpr: LprHistory) -> Iterator[FieldMessage]:
    try:
        fixings = lpr.fixings_in_force(product.effective_from, product.effective_to)
    except LprError as exc:
        yield "effective_from", str(exc)
        return
    tenor = product.rate.lpr_tenor
    lowest = min(fixings, key=lambda fixing: fixing.rate_pct(tenor))
    reference_pct = product.reference_rate_pct(lowest.rate_pct(tenor))
    discount_bp = product.largest_discount_bp
    lowest_rate_pct = reference_pct - Decimal(discount_bp) / BP_PER_PERCENT
    floor = product.rate.floor_rate_pct
    if lowest_rate_pct < floor:
        yield (
            "rate.floor_rate_pct",
            (
                f"the largest total discount {discount_bp} bp takes the reference rate "
                f"{tenor.value} LPR {lowest.rate_pct(tenor)}% (fixing of {lowest.fixing_date}) "
                f"{product.rate.spread_bp:+d} bp = {reference_pct}% down to {lowest_rate_pct}%, "
                f"below the floor {floor}%"
            ),
        )


def check_versions(products: Sequence[Product]) -> list[CatalogIssue]:
    """Problems across products: duplicate versions, lender clashes, overlapping dates."""
    by_code: dict[str, list[Product]] = defaultdict(list)
    for product in products:
        by_code[product.code].append(product)
    issues: list[CatalogIssue] = []
    for versions in by_code.values():
        issues.extend(_check_one_code(sorted(versions, key=lambda p: p.version)))
    return issues


def _check_one_code(versions: list[Product]) -> Iterable[CatalogIssue]:
    first = versions[0]
    for product in versions[1:]:
        if product.lender.code != first.lender.code:
            yield _issue(
                product,
                "code",
                (
                    f"{product.code} is already a product of {first.lender.code} "
                    f"({first.source_file}); codes are unique across lenders"
                ),
            )
    for index, product in enumerate(versions):
        for earlier in versions[:index]:
            yield from _check_pair(earlier, product)


def _check_pair(earlier: Product, later: Product) -> Iterator[CatalogIssue]:
    if earlier.version == later.version:
        yield _issue(
            later,
            "version",
            (f"duplicate: {later.code} v{later.version} is also defined in {earlier.source_file}"),
        )
        return
    if _overlap(earlier, later):
        yield _issue(
            later,
            "effective_from",
            (
                f"{_span(later)} overlaps v{earlier.version} ({_span(earlier)}, "
                f"{earlier.source_file}); versions of one code may not overlap"
            ),
        )
    elif later.effective_from < earlier.effective_from:
        yield _issue(
            later,
            "effective_from",
            (
                f"v{later.version} starts {later.effective_from}, before v{earlier.version} "
                f"({earlier.effective_from}); a higher version must start later"
            ),
        )


def _overlap(a: Product, b: Product) -> bool:
    a_ends_after_b_starts = a.effective_to is None or b.effective_from <= a.effective_to
    b_ends_after_a_starts = b.effective_to is None or a.effective_from <= b.effective_to
    return a_ends_after_b_starts and b_ends_after_a_starts


def _span(product: Product) -> str:
    return f"{product.effective_from}..{product.effective_to or 'open'}"


def _issue(product: Product, field: str, message: str) -> CatalogIssue:
    return CatalogIssue(product.source_file, product_label(product), field, message)
