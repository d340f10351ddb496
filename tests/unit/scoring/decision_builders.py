"""Hand-built borrowers, applications and credit assessments for the decision tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from accounting.vocab import Colour, Sector
from finance_engine.synth.loans import generate_loan_history
from scoring.applications import Application, Financials
from scoring.carbon_features import AccountView, OpenAlerts
from scoring.decide import CreditAssessment
from scoring.features import feature_matrix
from scoring.risk_model import RiskModel

ON = date(2026, 6, 1)
"""Decision date of the tests: every packaged product has a version in force."""

TRAINED_AT = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def sound_financials() -> Financials:
    """A mid-sized, profitable, moderately levered firm with a clean record."""
    return Financials(
        revenue_10k_yuan=Decimal("8000"),
        leverage=0.45,
        current_ratio=1.6,
        return_on_assets=0.07,
        years_operating=15,
        overdue_count_24m=0,
    )


def application(**changes: Any) -> Application:
    """An application for 2m yuan at a 3.45% base rate (override any field)."""
    base = Application(
        application_id="APP-1",
        entity_id="QZ-C2614-0001",
        base_limit_yuan=Decimal("2000000.00"),
        base_rate_pct=Decimal("3.45"),
        financials=sound_financials(),
    )
    return replace(base, **changes)


def account(**changes: Any) -> AccountView:
    """A dark-green, grade-1 industrial firm whose intensity fell 6% (override any field)."""
    base = AccountView(
        entity_id="QZ-C2614-0001",
        sector=Sector.INDUSTRY,
        industry_code="C2614",
        period_start=date(2025, 1, 1),
        period_end=date(2025, 12, 31),
        carbon_efficiency=1,
        colour=Colour.DARK_GREEN,
        score=88.0,
        k=0.55,
        provisional=False,
        trend_pct=-6.0,
        completeness=0.99,
        quality_tier=1,
        factor_set_version="CN-2023",
        benchmark_version="SYNTH-2025",
        grading_version="ZJ-QZ-v1",
        open_alerts=OpenAlerts(),
        account_id=11,
    )
    return replace(base, **changes)


def credit(pd: float, band: str = "A") -> CreditAssessment:
    """A credit assessment with a given PD (no credit reasons)."""
    return CreditAssessment(pd, band, (), "RM-TEST", "RB-2025-v1")


def train_small_model(seed: int = 5, n: int = 6000) -> RiskModel:
    """A small risk model on a synthetic history (about 0.1 s)."""
    history = generate_loan_history(seed, n)
    matrix = feature_matrix(history.feature_columns())
    return RiskModel().fit(matrix, history["default_12m"], created_at=TRAINED_AT)
