"""The rules of a decision: eligibility (decline), referral (refer) and pricing notes.

Each function returns the reasons that apply, in a fixed order, with the values that matter in
plain words. Product rules come from the catalog (:class:`products.model.Eligibility`);
engine-wide rules from :class:`scoring.decision_rules.DecisionRules`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from products.model import Policy, Product
from scoring.applications import Application
from scoring.carbon_features import AccountView
from scoring.decision_rules import DecisionRules
from scoring.reasons import Reason, reason

if TYPE_CHECKING:
    from scoring.decide import DecisionTerms


def _pct(value: Decimal | float) -> str:
    return f"{float(value):.2%}"


def _span(product: Product) -> str:
    return f"{product.effective_from}..{product.effective_to or 'open'}"


def eligibility_reasons(
    application: Application,
    account: AccountView | None,
    product: Product,
    grade: str | None,
    pd: float,
    terms: DecisionTerms | None,
    *,
    on: date,
    rules: DecisionRules,
) -> tuple[Reason, ...]:
    """Every eligibility rule that fails (any one declines the application)."""
    return (
        *_product_rules(application, account, product, grade, on, rules),
        *_pd_rule(product, pd),
        *_amount_rules(application, product, terms, rules),
    )


def _product_rules(
    application: Application,
    account: AccountView | None,
    product: Product,
    grade: str | None,
    on: date,
    rules: DecisionRules,
) -> Iterator[Reason]:
    rule = product.eligibility
    basis = product.grade_basis.value
    if not product.effective_on(on):
        yield reason("E01", f"{product.version_id} is in force {_span(product)}, not on {on}")
    if account is None:
        yield reason("E03", f"no carbon account, so no {basis} grade")
        return
    if account.sector not in product.sectors:
        served = ", ".join(s.value for s in product.sectors)
        yield reason("E02", f"{product.code} serves {served}, not {account.sector.value}")
    if grade is None:
        yield reason("E03", f"the account has no {basis} grade")
    elif product.grade_terms(grade) is None:
        yield reason("E04", f"grade {grade} is worse than the minimum {rule.minimum_grade}")
    if account.industry_code and rule.excludes_industry(account.industry_code):
        excluded = ", ".join(rule.excluded_industries)
        yield reason("E05", f"industry {account.industry_code} is excluded ({excluded})")
    if _unknown_industry(account, product) and rules.unknown_industry_code is Policy.DECLINE:
        yield reason("E14", "no industry code, and the product excludes industries")
    if account.quality_tier > rule.max_quality_tier:
        yield reason(
            "E06", f"data-quality tier {account.quality_tier} is worse than {rule.max_quality_tier}"
        )
    if account.provisional and rule.provisional_grade is Policy.DECLINE:
        yield reason("E07", "provisional grade, which the product declines")
    if account.open_alerts.critical and rule.open_critical_alerts is Policy.DECLINE:
        yield reason("E08", f"{account.open_alerts.critical} open critical alert(s)")


def _unknown_industry(account: AccountView, product: Product) -> bool:
    return not account.industry_code and bool(product.eligibility.excluded_industries)


def _pd_rule(product: Product, pd: float) -> Iterator[Reason]:
    cutoff = product.eligibility.max_pd
    if pd > float(cutoff):
        yield reason("E09", f"PD {_pct(pd)} is above the product's maximum {_pct(cutoff)}")


def _amount_rules(
    application: Application,
    product: Product,
    terms: DecisionTerms | None,
    rules: DecisionRules,
) -> Iterator[Reason]:
    requested = application.requested_amount_yuan
    if requested is not None and requested < product.min_amount_yuan:
        yield reason(
            "E10", f"requested {requested} yuan is below the minimum {product.min_amount_yuan}"
        )
    if terms is not None and terms.final_limit_yuan < product.min_amount_yuan:
        yield reason(
            "E11",
            f"final limit {terms.final_limit_yuan} yuan is below the product's minimum "
            f"{product.min_amount_yuan}",
        )
    term = application.requested_term_months
    if term is not None and not product.min_term_months <= term <= product.max_term_months:
        yield reason(
            "E12",
            f"term {term} months outside {product.min_term_months}-{product.max_term_months}",
        )
    if _above_limit(application, terms) and rules.requested_above_limit is Policy.DECLINE:
        yield reason("E13", f"requested {requested} yuan exceeds the final limit")


def _above_limit(application: Application, terms: DecisionTerms | None) -> bool:
    requested = application.requested_amount_yuan
    return requested is not None and terms is not None and requested > terms.final_limit_yuan


def referral_reasons(
    application: Application,
    account: AccountView | None,
    product: Product,
    pd: float,
    terms: DecisionTerms | None,
    *,
    on: date,
    rules: DecisionRules,
) -> tuple[Reason, ...]:
    """Every referral rule that holds for an eligible application."""
    out: list[Reason] = []
    rule = product.eligibility
    if account is not None:
        if account.provisional and rule.provisional_grade is Policy.REFER:
            out.append(reason("R01", "provisional grade: a loan officer confirms the data"))
        if account.open_alerts.critical and rule.open_critical_alerts is Policy.REFER:
            out.append(reason("R02", f"{account.open_alerts.critical} open critical alert(s)"))
    near = rule.max_pd * rules.pd_refer_fraction
    if pd > float(near):
        out.append(
            reason("R03", f"PD {_pct(pd)} is within the band {_pct(near)}-{_pct(rule.max_pd)}")
        )
    if _above_limit(application, terms) and rules.requested_above_limit is Policy.REFER:
        limit = "" if terms is None else f" {terms.final_limit_yuan}"
        requested = application.requested_amount_yuan
        out.append(reason("R04", f"requested {requested} yuan exceeds the final limit{limit}"))
    if account is not None:
        out.extend(_account_referrals(account, product, on, rules))
    return tuple(out)


def _account_referrals(
    account: AccountView, product: Product, on: date, rules: DecisionRules
) -> Iterator[Reason]:
    age_days = (on - account.period_end).days
    if age_days > rules.max_account_age_days:
        yield reason(
            "R05",
            f"account period ended {account.period_end}, {age_days} days before {on} "
            f"(more than {rules.max_account_age_days})",
        )
    warnings = account.open_alerts.warning
    threshold = rules.refer_open_warning_alerts
    if threshold is not None and warnings >= threshold:
        yield reason("R06", f"{warnings} open warning alert(s) (refer at {threshold})")
    if _unknown_industry(account, product) and rules.unknown_industry_code is Policy.REFER:
        yield reason("R07", "no industry code to check against the product's exclusions")


def pricing_reasons(product: Product, terms: DecisionTerms | None) -> tuple[Reason, ...]:
    """How the offered terms came about: adjustments earned, caps and the floor."""
    if terms is None:
        return ()
    out: list[Reason] = []
    for adjustment in product.adjustments:
        if adjustment.code in terms.adjustments_applied:
            out.append(
                reason(
                    "P03",
                    f"{adjustment.code}: -{adjustment.discount_bp} bp ({adjustment.description})",
                )
            )
    if terms.grade_discount_bp + terms.adjustment_discount_bp > terms.rate_discount_bp:
        out.append(reason("P04", f"total discount capped at {terms.rate_discount_bp} bp"))
    if terms.limit_capped:
        out.append(
            reason("P02", f"limit capped at the product maximum {product.max_amount_yuan} yuan")
        )
    if terms.floor_applied:
        out.append(reason("P01", f"rate held at the product's floor {terms.floor_rate_pct}%"))
    return tuple(out)
