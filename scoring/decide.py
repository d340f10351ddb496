"""One decision: application + carbon account + product + risk model -> approve, refer or decline.

:func:`decide` is pure: values in, a :class:`Decision` out. The steps (``docs/decisions.md``):

1. **Credit.** The risk model's PD of the borrower (financial features from the application,
   carbon features from the account), its risk band, and the features pushing the PD up most
   (LightGBM per-feature log-odds contributions) as credit reasons.
2. **Grade and terms.** The account's grade on the product's scale (colour, carbon-efficiency
   grade or resident level) picks the grade-table row; adjustments whose condition holds add to
   the discount, capped by the product. ``limit_multiplier`` is clipped at
   :data:`products.MAX_LIMIT_MULTIPLIER` (1.5) whatever the data says.
3. **Final terms.** ``final limit = min(base limit x multiplier, product maximum)`` rounded down
   to the fen; ``final rate = max(base rate - discount, floor)``.
4. **Outcome.** Decline when any eligibility rule fails (``E..`` reasons, PD above the
   product's maximum included); otherwise refer when any referral rule holds (``R..``);
   otherwise approve. A declined decision carries no terms.

:func:`decide_with_credit` is the same decision given an already computed credit assessment;
:mod:`scoring.offers` uses it to evaluate the model once for many products or many rows.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from products.model import BP_PER_PERCENT, MAX_LIMIT_MULTIPLIER, Product, Terms
from scoring._fast_contrib import FastRowContributions
from scoring.applications import Application, check_feature
from scoring.carbon_features import AccountView, adjustment_metrics, carbon_feature_values
from scoring.decision_checks import eligibility_reasons, pricing_reasons, referral_reasons
from scoring.decision_rules import DecisionRules, default_decision_rules
from scoring.reasons import Reason, ReasonKind, carbon_reasons, credit_reasons
from scoring.risk_model import RiskModel

MONEY_QUANTUM = Decimal("0.01")
"""Limits are in yuan with 2 decimals (fen), rounded down so a limit is never overstated."""


class Outcome(StrEnum):
    """What the engine answers."""

    APPROVE = "approve"
    REFER = "refer"
    """Eligible, but a loan officer must look at it first."""
    DECLINE = "decline"


class DecisionError(ValueError):
    """The inputs of a decision do not belong together (other entity, product, lender)."""


@dataclass(frozen=True)
class CreditAssessment:
    """The risk model's view of one borrower: PD, band and the features pushing PD up."""

    pd: float
    """Calibrated 12-month probability of default, fraction."""
    risk_band: str
    reasons: tuple[Reason, ...]
    model_version: str
    risk_bands_version: str


@dataclass(frozen=True)
class DecisionTerms:
    """The terms offered (absent on a declined decision).

    Attributes
    ----------
    limit_multiplier:
        Multiplier on the base limit, at most 1.5.
    grade_discount_bp, adjustment_discount_bp:
        Discount of the grade and of the adjustments earned, basis points.
    rate_discount_bp:
        Total discount after the product's cap, basis points.
    final_limit_yuan:
        ``min(base limit x multiplier, product maximum)``, yuan, rounded down to the fen.
    final_rate_pct:
        ``max(base rate - discount, floor)``, percent a year.
    floor_applied, limit_capped:
        Whether the floor raised the rate / the product maximum cut the limit.
    """

    limit_multiplier: Decimal
    grade_discount_bp: int
    adjustment_discount_bp: int
    rate_discount_bp: int
    adjustments_applied: tuple[str, ...]
    final_limit_yuan: Decimal
    final_rate_pct: Decimal
    floor_rate_pct: Decimal
    floor_applied: bool
    limit_capped: bool


@dataclass(frozen=True)
class Versions:
    """Every versioned input of a decision."""

    product: str
    """``CODE@vN``."""
    factor_set: str
    benchmark: str
    grading: str
    model: str
    risk_bands: str
    rules: str


@dataclass(frozen=True)
class Decision:
    """The engine's answer to one application for one product."""

    application: Application
    account: AccountView | None
    product_code: str
    product_version: int
    lender_code: str
    decided_on: date
    outcome: Outcome
    grade_basis: str
    grade: str | None
    """The grade used, on the product's scale (None when the account has none)."""
    pd: float
    risk_band: str
    terms: DecisionTerms | None
    reasons: tuple[Reason, ...]
    versions: Versions

    @property
    def eligible(self) -> bool:
        """False when any eligibility rule failed (the decision is a decline)."""
        return self.outcome is not Outcome.DECLINE

    @property
    def ineligible_reasons(self) -> tuple[Reason, ...]:
        """The eligibility rules that failed."""
        return tuple(r for r in self.reasons if r.kind is ReasonKind.ELIGIBILITY)

    def codes(self) -> tuple[str, ...]:
        """Every reason code, in order."""
        return tuple(r.code for r in self.reasons)


# ---------------------------------------------------------------------------------- credit

_CONTRIB: weakref.WeakKeyDictionary[RiskModel, FastRowContributions] = weakref.WeakKeyDictionary()


def _fast_contributions(model: RiskModel) -> FastRowContributions:
    fast = _CONTRIB.get(model)
    if fast is None:
        fast = FastRowContributions(model.booster_, len(model.feature_names_))
        _CONTRIB[model] = fast
    return fast


def feature_values(application: Application, account: AccountView | None) -> dict[str, float]:
    """Every model feature of a borrower: financial from the application, carbon from the
    account (NaN where unknown)."""
    return {**application.financials.feature_values(), **carbon_feature_values(account)}


def model_row(model: RiskModel, values: dict[str, float]) -> NDArray[np.float64]:
    """``(features,)`` float64 row in the model's column order, each value range-checked."""
    for spec in model.specs_:
        check_feature(spec, values[spec.name])
    return np.array([values[name] for name in model.feature_names_], dtype=np.float64)


def assess_credit(
    model: RiskModel,
    application: Application,
    account: AccountView | None,
    rules: DecisionRules | None = None,
) -> CreditAssessment:
    """PD, risk band and credit reasons of one borrower (fast single-row model path)."""
    chosen = rules or default_decision_rules()
    row = model_row(model, feature_values(application, account))
    pd = model.predict_pd_row(row)
    contributions = _fast_contributions(model).contributions(row)
    return assessment(model, row, pd, contributions, chosen)


def assessment(
    model: RiskModel,
    row: NDArray[np.float64],
    pd: float,
    contributions: NDArray[np.float64],
    rules: DecisionRules,
) -> CreditAssessment:
    """A :class:`CreditAssessment` from a row's PD and log-odds contributions."""
    reasons = credit_reasons(
        model.specs_,
        row,
        contributions,
        count=rules.credit_reason_count,
        min_logodds=rules.credit_reason_min_logodds,
    )
    bands = model.bands_
    return CreditAssessment(float(pd), bands.band(pd), reasons, model.version, bands.version)


# ---------------------------------------------------------------------------------- decision


def decide(
    application: Application,
    account: AccountView | None,
    product: Product,
    model: RiskModel,
    *,
    on: date,
    rules: DecisionRules | None = None,
) -> Decision:
    """Decide one application for one product.

    Parameters
    ----------
    application
        What the bank sent (base limit in yuan, base rate in percent, financial features).
    account
        The borrower's latest carbon account, or None when it has none (then ineligible for
        every product: each needs a grade).
    product
        The product version applied for.
    model
        The trained risk model (kept loaded by the caller).
    on
        Decision date: product versions in force, account age.
    rules
        Engine-wide decision rules (default: the packaged ``decision_rules.json``).

    Raises
    ------
    DecisionError
        The application names another product, lender or entity than given.
    scoring.applications.ApplicationError
        A feature value is out of the model's range.
    """
    chosen = rules or default_decision_rules()
    credit = assess_credit(model, application, account, chosen)
    return decide_with_credit(application, account, product, credit, on=on, rules=chosen)


def decide_with_credit(
    application: Application,
    account: AccountView | None,
    product: Product,
    credit: CreditAssessment,
    *,
    on: date,
    rules: DecisionRules | None = None,
) -> Decision:
    """:func:`decide` with the credit assessment already made (pure, no model call)."""
    chosen = rules or default_decision_rules()
    _check_inputs(application, account, product)
    grade, terms = _grade_and_terms(application, account, product)
    declines = eligibility_reasons(
        application, account, product, grade, credit.pd, terms, on=on, rules=chosen
    )
    referrals = (
        ()
        if declines
        else referral_reasons(application, account, product, credit.pd, terms, on=on, rules=chosen)
    )
    outcome = Outcome.DECLINE if declines else Outcome.REFER if referrals else Outcome.APPROVE
    offered = None if declines else terms
    return Decision(
        application=application,
        account=account,
        product_code=product.code,
        product_version=product.version,
        lender_code=product.lender.code,
        decided_on=on,
        outcome=outcome,
        grade_basis=product.grade_basis.value,
        grade=grade,
        pd=credit.pd,
        risk_band=credit.risk_band,
        terms=offered,
        reasons=(
            *declines,
            *referrals,
            *carbon_reasons(account, product.grade_basis.value),
            *credit.reasons,
            *pricing_reasons(product, offered),
        ),
        versions=_versions(product, account, credit, chosen),
    )


def _grade_and_terms(
    application: Application, account: AccountView | None, product: Product
) -> tuple[str | None, DecisionTerms | None]:
    """The account's grade on the product's scale and the final terms it earns (None when the
    account has no grade, or one worse than the product's minimum)."""
    if account is None:
        return None, None
    grade = account.grade_on(product.grade_basis)
    if grade is None:
        return None, None
    catalog_terms = product.terms(grade, adjustment_metrics(account, application.project))
    if catalog_terms is None:
        return grade, None
    return grade, final_terms(application, product, catalog_terms)


def final_terms(application: Application, product: Product, terms: Terms) -> DecisionTerms:
    """Final limit and rate from the catalog terms of the borrower's grade.

    The multiplier is clipped at :data:`MAX_LIMIT_MULTIPLIER` (the catalog refuses more; this
    holds even for a product built by hand), the limit is rounded down to the fen and capped at
    the product's maximum amount, and the rate never goes below the product's floor.
    """
    multiplier = min(terms.limit_multiplier, MAX_LIMIT_MULTIPLIER)
    uncapped = (application.base_limit_yuan * multiplier).quantize(MONEY_QUANTUM, ROUND_DOWN)
    limit = min(uncapped, product.max_amount_yuan)
    discounted = application.base_rate_pct - Decimal(terms.rate_discount_bp) / BP_PER_PERCENT
    floor = product.rate.floor_rate_pct
    return DecisionTerms(
        limit_multiplier=multiplier,
        grade_discount_bp=terms.grade_discount_bp,
        adjustment_discount_bp=terms.adjustment_discount_bp,
        rate_discount_bp=terms.rate_discount_bp,
        adjustments_applied=terms.adjustments_applied,
        final_limit_yuan=limit,
        final_rate_pct=max(discounted, floor),
        floor_rate_pct=floor,
        floor_applied=discounted < floor,
        limit_capped=uncapped > product.max_amount_yuan,
    )


def _check_inputs(application: Application, account: AccountView | None, product: Product) -> None:
    if application.product_code is not None and application.product_code != product.code:
        raise DecisionError(
            f"product_code: the application is for {application.product_code}, not {product.code}"
        )
    if application.lender_code is not None and application.lender_code != product.lender.code:
        raise DecisionError(
            f"lender_code: {product.code} is a product of {product.lender.code}, "
            f"not of {application.lender_code}"
        )
    if account is not None and account.entity_id != application.entity_id:
        raise DecisionError(
            f"entity_id: the application is for {application.entity_id}, "
            f"the account belongs to {account.entity_id}"
        )


def _versions(
    product: Product, account: AccountView | None, credit: CreditAssessment, rules: DecisionRules
) -> Versions:
    return Versions(
        product=product.version_id,
        factor_set="" if account is None else account.factor_set_version,
        benchmark="" if account is None else account.benchmark_version,
        grading="" if account is None else account.grading_version,
        model=credit.model_version,
        risk_bands=credit.risk_bands_version,
        rules=rules.version,
    )
