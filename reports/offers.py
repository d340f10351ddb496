"""Indicative product terms for a report: the catalog's terms for the borrower's grade.

These are *indicative*: the grade's limit multiplier and rate discount from each product's
catalog entry, an indicative limit for a base limit, and an indicative rate from the LPR in force,
the product's spread and the discount, never below the product's floor. Credit decisions (risk
model, application data) belong to :mod:`scoring`; a report shows what the grade opens.

Eligibility applied here is what the account alone decides: the grade is in the product's table,
the industry is not excluded, the data-quality tier is accepted, and the provisional-grade and
open-critical-alert policies (``decline`` removes the product, ``refer`` keeps it marked for
review).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from products import LprHistory, Policy, Product
from products.model import BP_PER_PERCENT, GradeBasis, Metric

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Offer:
    """One product open to the borrower's grade, with indicative terms."""

    product: str
    """``CODE@vN``."""
    name_zh: str
    name_en: str
    lender_zh: str
    lender_en: str
    grade_basis: str
    grade: str
    limit_multiplier: Decimal
    rate_discount_bp: int
    """Grade discount plus adjustments earned, after the product's cap, basis points."""
    adjustments: tuple[str, ...]
    indicative_limit_yuan: Decimal
    """Base limit × multiplier, capped at the product's maximum amount, yuan (2 dp)."""
    lpr_pct: Decimal
    reference_rate_pct: Decimal
    """LPR + spread, percent a year."""
    indicative_rate_pct: Decimal
    """max(reference − discount, floor), percent a year."""
    floor_rate_pct: Decimal
    at_floor: bool
    review: bool
    """True when a ``refer`` policy applies (provisional grade or open critical alerts)."""
    illustrative: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (money and rates as decimal strings)."""
        return {
            "product": self.product,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "lender_zh": self.lender_zh,
            "lender_en": self.lender_en,
            "grade_basis": self.grade_basis,
            "grade": self.grade,
            "limit_multiplier": str(self.limit_multiplier),
            "rate_discount_bp": self.rate_discount_bp,
            "adjustments": list(self.adjustments),
            "indicative_limit_yuan": str(self.indicative_limit_yuan),
            "lpr_pct": str(self.lpr_pct),
            "reference_rate_pct": str(self.reference_rate_pct),
            "indicative_rate_pct": str(self.indicative_rate_pct),
            "floor_rate_pct": str(self.floor_rate_pct),
            "at_floor": self.at_floor,
            "review": self.review,
            "illustrative": self.illustrative,
        }


def borrower_metrics(account: Mapping[str, Any]) -> dict[str, Decimal | int | None]:
    """The adjustment metrics an account alone provides (keys: :class:`products.Metric`).

    ``intensity_cut_yoy_pct`` is the fall of the primary intensity against the previous period
    (5 means it fell 5%); ``completeness_pct`` is metered-data completeness in percent.
    """
    value = account.get("intensity", {}).get("value")
    previous = account.get("previous_intensity")
    cut: Decimal | None = None
    if value is not None and previous:
        cut = (Decimal(str(previous)) - Decimal(str(value))) / Decimal(str(previous)) * 100
    quality = account.get("data_quality", {})
    completeness = quality.get("completeness")
    return {
        Metric.INTENSITY_CUT_YOY_PCT.value: cut,
        Metric.QUALITY_TIER.value: quality.get("tier"),
        Metric.COMPLETENESS_PCT.value: (
            None if completeness is None else Decimal(str(completeness)) * 100
        ),
    }


def account_grade(account: Mapping[str, Any], basis: GradeBasis) -> str | None:
    """The account's grade on a product's scale, or None when the account has none on it."""
    grade = account.get("grade", {})
    if basis is GradeBasis.COLOUR:
        colour = grade.get("colour")
        return None if colour is None else str(colour)
    if basis is GradeBasis.CARBON_EFFICIENCY:
        level = grade.get("carbon_efficiency")
        return None if level is None else str(level)
    return None


def indicative_offers(
    products: Sequence[Product],
    account: Mapping[str, Any],
    *,
    on: date,
    base_limit_yuan: Decimal,
    lpr: LprHistory,
    open_critical_alerts: int = 0,
) -> tuple[Offer, ...]:
    """Offers of ``products`` (already filtered to the sector and date) for ``account``.

    Parameters
    ----------
    on
        The date whose LPR fixing prices the offers (the issue date).
    base_limit_yuan
        The limit the multiplier applies to, yuan.
    open_critical_alerts
        Number of the borrower's open critical alerts.

    Returns
    -------
    The offers, lowest indicative rate first, then by product code.
    """
    metrics = borrower_metrics(account)
    offers = [
        offer
        for product in products
        if (
            offer := _offer(
                product, account, metrics, on, base_limit_yuan, lpr, open_critical_alerts
            )
        )
        is not None
    ]
    return tuple(sorted(offers, key=lambda o: (o.indicative_rate_pct, o.product)))


def _policy_outcome(
    product: Product, account: Mapping[str, Any], open_critical_alerts: int
) -> Policy:
    """ALLOW, REFER or DECLINE from the account-level eligibility rules."""
    rules = product.eligibility
    quality = account.get("data_quality", {})
    tier = quality.get("tier")
    if rules.excludes_industry(str(account.get("entity", {}).get("industry_code", ""))):
        return Policy.DECLINE
    if tier is not None and int(tier) > rules.max_quality_tier:
        return Policy.DECLINE
    outcomes = []
    if account.get("grade", {}).get("provisional"):
        outcomes.append(rules.provisional_grade)
    if open_critical_alerts > 0:
        outcomes.append(rules.open_critical_alerts)
    if Policy.DECLINE in outcomes:
        return Policy.DECLINE
    return Policy.REFER if Policy.REFER in outcomes else Policy.ALLOW


def _offer(
    product: Product,
    account: Mapping[str, Any],
    metrics: Mapping[str, Decimal | int | None],
    on: date,
    base_limit_yuan: Decimal,
    lpr: LprHistory,
    open_critical_alerts: int,
) -> Offer | None:
    grade = account_grade(account, product.grade_basis)
    if grade is None:
        return None
    terms = product.terms(grade, metrics)
    outcome = _policy_outcome(product, account, open_critical_alerts)
    if terms is None or outcome is Policy.DECLINE:
        return None
    lpr_pct = lpr.rate_pct(on, product.rate.lpr_tenor)
    reference = product.reference_rate_pct(lpr_pct)
    discounted = reference - Decimal(terms.rate_discount_bp) / BP_PER_PERCENT
    rate = max(discounted, product.rate.floor_rate_pct)
    limit = min(base_limit_yuan * terms.limit_multiplier, product.max_amount_yuan)
    return Offer(
        product=product.version_id,
        name_zh=product.name_zh,
        name_en=product.name_en,
        lender_zh=product.lender.name_zh,
        lender_en=product.lender.name_en,
        grade_basis=product.grade_basis.value,
        grade=grade,
        limit_multiplier=terms.limit_multiplier,
        rate_discount_bp=terms.rate_discount_bp,
        adjustments=terms.adjustments_applied,
        indicative_limit_yuan=limit.quantize(CENT, rounding=ROUND_HALF_UP),
        lpr_pct=lpr_pct,
        reference_rate_pct=reference,
        indicative_rate_pct=rate.quantize(CENT, rounding=ROUND_HALF_UP),
        floor_rate_pct=product.rate.floor_rate_pct,
        at_floor=discounted <= product.rate.floor_rate_pct,
        review=outcome is Policy.REFER,
        illustrative=product.illustrative,
    )
