"""Render a :class:`scoring.decide.Decision` as JSON-ready data (what the log stores and the
CLI prints).

Only JSON types come out: money and rates as decimal strings (no digit lost), dates as ISO
strings, PDs and contributions as floats (Python's shortest round-tripping form), enums as
their values. The inputs of the decision (application and account view) are included, so a
logged decision can be understood, and re-derived, on its own.
"""

from __future__ import annotations

from typing import Any

from scoring.applications import Application
from scoring.carbon_features import AccountView
from scoring.decide import Decision, DecisionTerms
from scoring.reasons import Reason


def _money(value: Any) -> str | None:
    return None if value is None else str(value)


def application_to_dict(application: Application) -> dict[str, Any]:
    """The application as JSON-ready data."""
    f, p = application.financials, application.project
    return {
        "application_id": application.application_id,
        "entity_id": application.entity_id,
        "product_code": application.product_code,
        "base_limit_yuan": str(application.base_limit_yuan),
        "base_rate_pct": str(application.base_rate_pct),
        "requested_amount_yuan": _money(application.requested_amount_yuan),
        "requested_term_months": application.requested_term_months,
        "lender_code": application.lender_code,
        "financials": {
            "revenue_10k_yuan": str(f.revenue_10k_yuan),
            "leverage": f.leverage,
            "current_ratio": f.current_ratio,
            "return_on_assets": f.return_on_assets,
            "years_operating": f.years_operating,
            "overdue_count_24m": f.overdue_count_24m,
        },
        "project": {
            "emissions_cut_tco2e": _money(p.emissions_cut_tco2e),
            "renewable_share_pct": _money(p.renewable_share_pct),
            "green_building_stars": p.green_building_stars,
        },
    }


def account_view_to_dict(view: AccountView | None) -> dict[str, Any] | None:
    """The account view as JSON-ready data (None without an account)."""
    if view is None:
        return None
    alerts = view.open_alerts
    return {
        "account_id": view.account_id,
        "entity_id": view.entity_id,
        "sector": view.sector.value,
        "industry_code": view.industry_code,
        "period": {"start": view.period_start.isoformat(), "end": view.period_end.isoformat()},
        "carbon_efficiency": view.carbon_efficiency,
        "colour": None if view.colour is None else view.colour.value,
        "score": view.score,
        "k": view.k,
        "provisional": view.provisional,
        "trend_pct": view.trend_pct,
        "completeness": view.completeness,
        "quality_tier": view.quality_tier,
        "open_alerts": {
            "critical": alerts.critical,
            "warning": alerts.warning,
            "info": alerts.info,
        },
        "resident_level": view.resident_level,
        "carbon_points": view.carbon_points,
        "consecutive_green_years": view.consecutive_green_years,
    }


def terms_to_dict(terms: DecisionTerms | None) -> dict[str, Any] | None:
    """The offered terms as JSON-ready data (None on a decline)."""
    if terms is None:
        return None
    return {
        "limit_multiplier": str(terms.limit_multiplier),
        "grade_discount_bp": terms.grade_discount_bp,
        "adjustment_discount_bp": terms.adjustment_discount_bp,
        "rate_discount_bp": terms.rate_discount_bp,
        "adjustments_applied": list(terms.adjustments_applied),
        "final_limit_yuan": str(terms.final_limit_yuan),
        "final_rate_pct": str(terms.final_rate_pct),
        "floor_rate_pct": str(terms.floor_rate_pct),
        "floor_applied": terms.floor_applied,
        "limit_capped": terms.limit_capped,
    }


def reason_to_dict(item: Reason) -> dict[str, Any]:
    """One reason as JSON-ready data (``feature``/``contribution`` only on credit reasons)."""
    out: dict[str, Any] = {"code": item.code, "kind": item.kind.value, "text": item.text}
    if item.feature is not None:
        out["feature"] = item.feature
        out["contribution"] = item.contribution
    return out


def decision_to_dict(decision: Decision) -> dict[str, Any]:
    """The decision as JSON-ready data (the decision-log payload)."""
    v = decision.versions
    return {
        "application_id": decision.application.application_id,
        "entity_id": decision.application.entity_id,
        "product_code": decision.product_code,
        "product_version": decision.product_version,
        "lender_code": decision.lender_code,
        "decided_on": decision.decided_on.isoformat(),
        "outcome": decision.outcome.value,
        "eligible": decision.eligible,
        "grade_basis": decision.grade_basis,
        "grade": decision.grade,
        "pd": decision.pd,
        "risk_band": decision.risk_band,
        "terms": terms_to_dict(decision.terms),
        "reasons": [reason_to_dict(r) for r in decision.reasons],
        "versions": {
            "product": v.product,
            "factor_set": v.factor_set,
            "benchmark": v.benchmark,
            "grading": v.grading,
            "model": v.model,
            "risk_bands": v.risk_bands,
            "rules": v.rules,
        },
        "application": application_to_dict(decision.application),
        "account": account_view_to_dict(decision.account),
    }
