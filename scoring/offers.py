"""Many decisions at once: best offers for a borrower, and batches through one model call.

- :func:`best_offers`: one borrower against every product of its sector in force on a date (only
  the calling lender's when the application names one), ranked: approvals before referrals
  before declines; then the lowest final rate, then the highest final limit, then product code.
  The model runs once for the borrower: the PD does not depend on the product.
- :func:`decide_batch` and :func:`best_offers_batch`: many applications with the model evaluated
  vectorised, one ``predict_pd`` and one ``contributions`` call over all rows; no model call per
  row. A batch decision equals the one-by-one decision of the same inputs (tests check it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import numpy as np

from products.catalog import Catalog
from products.model import Product
from scoring.applications import Application
from scoring.carbon_features import AccountView
from scoring.decide import (
    CreditAssessment,
    Decision,
    Outcome,
    assess_credit,
    assessment,
    decide_with_credit,
    feature_values,
)
from scoring.decision_rules import DecisionRules, default_decision_rules
from scoring.features import feature_matrix
from scoring.risk_model import RiskModel

_OUTCOME_RANK = {Outcome.APPROVE: 0, Outcome.REFER: 1, Outcome.DECLINE: 2}


def _rank_key(decision: Decision) -> tuple[int, Decimal, Decimal, str]:
    terms = decision.terms
    rate = Decimal("Infinity") if terms is None else terms.final_rate_pct
    limit = Decimal(0) if terms is None else terms.final_limit_yuan
    return (_OUTCOME_RANK[decision.outcome], rate, -limit, decision.product_code)


def rank_offers(decisions: Sequence[Decision]) -> tuple[Decision, ...]:
    """Approvals first, then referrals, then declines; within each, the lowest final rate, then
    the highest final limit, then product code."""
    return tuple(sorted(decisions, key=_rank_key))


def candidate_products(
    application: Application, account: AccountView | None, catalog: Catalog, on: date
) -> tuple[Product, ...]:
    """Products the borrower may apply for on ``on``: its sector's (every product in force when
    it has no account), only the calling lender's when the application names one."""
    pool = catalog.effective_on(on) if account is None else catalog.for_sector(account.sector, on)
    if application.lender_code is not None:
        pool = tuple(p for p in pool if p.lender.code == application.lender_code)
    return pool


def best_offers(
    application: Application,
    account: AccountView | None,
    catalog: Catalog,
    model: RiskModel,
    *,
    on: date,
    rules: DecisionRules | None = None,
) -> tuple[Decision, ...]:
    """Every candidate product's decision for one borrower, ranked (see :func:`rank_offers`)."""
    chosen = rules or default_decision_rules()
    credit = assess_credit(model, application, account, chosen)
    return _offers(application, account, catalog, credit, on, chosen)


def _offers(
    application: Application,
    account: AccountView | None,
    catalog: Catalog,
    credit: CreditAssessment,
    on: date,
    rules: DecisionRules,
) -> tuple[Decision, ...]:
    return rank_offers(
        [
            decide_with_credit(application, account, product, credit, on=on, rules=rules)
            for product in candidate_products(application, account, catalog, on)
        ]
    )


def assess_credit_batch(
    model: RiskModel,
    applications: Sequence[Application],
    accounts: Sequence[AccountView | None],
    rules: DecisionRules | None = None,
) -> list[CreditAssessment]:
    """Credit assessments of many borrowers through one vectorised model evaluation.

    Raises
    ------
    scoring.features.FeatureError
        A feature is out of range; the message names the column and the first bad row.
    """
    chosen = rules or default_decision_rules()
    if len(applications) != len(accounts):
        raise ValueError(f"accounts: {len(accounts)} given for {len(applications)} applications")
    if not applications:
        return []
    rows = [feature_values(a, acc) for a, acc in zip(applications, accounts, strict=True)]
    columns = {name: np.array([row[name] for row in rows]) for name in model.feature_names_}
    matrix = feature_matrix(columns, model.feature_names_)
    pds = model.predict_pd(matrix)
    contributions = model.contributions(matrix)
    return [
        assessment(model, matrix[i], float(pds[i]), contributions[i], chosen)
        for i in range(matrix.shape[0])
    ]


def decide_batch(
    applications: Sequence[Application],
    accounts: Sequence[AccountView | None],
    products: Sequence[Product],
    model: RiskModel,
    *,
    on: date,
    rules: DecisionRules | None = None,
) -> list[Decision]:
    """Decide many applications (row ``i``: ``applications[i]``, ``accounts[i]``,
    ``products[i]``) with one model evaluation over all rows."""
    chosen = rules or default_decision_rules()
    if len(products) != len(applications):
        raise ValueError(f"products: {len(products)} given for {len(applications)} applications")
    credits = assess_credit_batch(model, applications, accounts, chosen)
    return [
        decide_with_credit(app, acc, product, credit, on=on, rules=chosen)
        for app, acc, product, credit in zip(applications, accounts, products, credits, strict=True)
    ]


def best_offers_batch(
    applications: Sequence[Application],
    accounts: Sequence[AccountView | None],
    catalog: Catalog,
    model: RiskModel,
    *,
    on: date,
    rules: DecisionRules | None = None,
) -> list[tuple[Decision, ...]]:
    """:func:`best_offers` of many borrowers with one model evaluation over all of them."""
    chosen = rules or default_decision_rules()
    credits = assess_credit_batch(model, applications, accounts, chosen)
    return [
        _offers(app, acc, catalog, credit, on, chosen)
        for app, acc, credit in zip(applications, accounts, credits, strict=True)
    ]
