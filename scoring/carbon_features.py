"""The borrower's carbon account as scoring sees it: grade, trend, data quality, alerts, versions.

:class:`AccountView` is a small frozen value built from a stored account
(:func:`accounting.account.account_to_dict` renders it) plus the borrower's open alert counts.
From it come the risk model's carbon features (:func:`carbon_feature_values`) and the metrics
product adjustments test (:func:`adjustment_metrics`).

Year-on-year trend
------------------
``trend_pct`` is the change of the graded intensity against the previous period, percent
(negative = improving): ``(intensity / previous_intensity - 1) x 100``. Adjustments test the cut
``intensity_cut_yoy_pct = -trend_pct`` **rounded to 0.01 percentage point** (half even), so a
cut of exactly 5% (``0.95 / 1.00 - 1`` in binary floating point is ``-0.0500000000000000444``)
meets a ``>= 5`` condition and a cut of 4.9% does not.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from accounting.vocab import CARBON_EFFICIENCY_GRADES, QUALITY_TIERS, Colour, Sector
from products.model import GradeBasis, Metric

TREND_QUANTUM = Decimal("0.01")
"""Trends and completeness are rounded to 0.01 percentage point before adjustment conditions."""


class AccountViewError(ValueError):
    """A stored account cannot be read for scoring; the message names the field."""


@dataclass(frozen=True)
class OpenAlerts:
    """Open abnormal-use alerts of the borrower by severity, counts."""

    critical: int = 0
    warning: int = 0
    info: int = 0

    def __post_init__(self) -> None:
        for name in ("critical", "warning", "info"):
            if getattr(self, name) < 0:
                raise AccountViewError(f"open_alerts.{name}: must be >= 0")


@dataclass(frozen=True)
class ProjectMetrics:
    """What the borrower declares about the financed project (adjustment conditions)."""

    emissions_cut_tco2e: Decimal | None = None
    """Expected yearly emission cut of the financed project, tCO2e."""
    renewable_share_pct: Decimal | None = None
    """Renewable share of the borrower's electricity, percent."""
    green_building_stars: int | None = None
    """China green-building label, 0 (basic) to 3 stars."""


@dataclass(frozen=True)
class AccountView:
    """A borrower's latest carbon account, reduced to what a decision uses.

    Attributes
    ----------
    carbon_efficiency:
        Zhejiang carbon-efficiency grade 1 (best) .. 5; None when not graded.
    colour:
        Quzhou colour; None when not graded.
    score, k:
        Carbon score 0-100 and K = intensity / industry benchmark; None when unknown.
    trend_pct:
        Year-on-year change of the graded intensity, percent (negative = improving).
    completeness:
        Metered-data completeness of the account period, fraction 0-1.
    quality_tier:
        Data-quality tier 1 (best) .. 5.
    resident_level, carbon_points:
        Personal carbon-account level 1 (best) .. 5 and points (residents only).
    """

    entity_id: str
    sector: Sector
    industry_code: str
    period_start: date
    period_end: date
    carbon_efficiency: int | None
    colour: Colour | None
    score: float | None
    k: float | None
    provisional: bool
    trend_pct: float | None
    completeness: float
    quality_tier: int
    factor_set_version: str
    benchmark_version: str
    grading_version: str
    open_alerts: OpenAlerts = field(default_factory=OpenAlerts)
    account_id: int | None = None
    resident_level: int | None = None
    carbon_points: int | None = None
    consecutive_green_years: int | None = None

    def __post_init__(self) -> None:
        if self.carbon_efficiency is not None and (
            self.carbon_efficiency not in CARBON_EFFICIENCY_GRADES
        ):
            raise AccountViewError(f"grade.carbon_efficiency: {self.carbon_efficiency} not in 1-5")
        if self.resident_level is not None and self.resident_level not in range(1, 6):
            raise AccountViewError(f"resident_level: {self.resident_level} not in 1-5")
        if not 0.0 <= self.completeness <= 1.0:
            raise AccountViewError(f"data_quality.completeness: {self.completeness} not in [0, 1]")
        if self.quality_tier not in QUALITY_TIERS:
            raise AccountViewError(f"data_quality.tier: {self.quality_tier} not in 1-5")
        if self.period_end < self.period_start:
            raise AccountViewError("period.end: precedes period.start")

    def grade_on(self, basis: GradeBasis) -> str | None:
        """The account's grade on a product's scale (None when the account has none)."""
        if basis is GradeBasis.COLOUR:
            return None if self.colour is None else self.colour.value
        if basis is GradeBasis.CARBON_EFFICIENCY:
            return None if self.carbon_efficiency is None else str(self.carbon_efficiency)
        return None if self.resident_level is None else str(self.resident_level)

    @property
    def intensity_cut_yoy_pct(self) -> Decimal | None:
        """Year-on-year intensity cut, percent, rounded to 0.01 (5.00 = fell 5%)."""
        if self.trend_pct is None:
            return None
        return _round(-self.trend_pct)


def _round(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(TREND_QUANTUM, rounding=ROUND_HALF_EVEN)


def _opt_float(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AccountViewError(f"{name}: {value!r} is not a number")
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        return None
    return number


def trend_pct_of(data: Mapping[str, Any]) -> float | None:
    """Year-on-year intensity change (%) of a stored account dict, or None.

    ``intensity.value / previous_intensity - 1`` when both are known (previous > 0), else the
    grade's ``historical_decline`` dimension (the same ratio as the grader saw it).
    """
    current = _opt_float((data.get("intensity") or {}).get("value"), "intensity.value")
    previous = _opt_float(data.get("previous_intensity"), "previous_intensity")
    if current is not None and previous is not None and previous > 0:
        return (current / previous - 1.0) * 100.0
    dims = ((data.get("grade") or {}).get("dimensions")) or {}
    x = _opt_float((dims.get("historical_decline") or {}).get("x"), "grade.dimensions")
    return None if x is None else x * 100.0


def account_view_from_dict(
    data: Mapping[str, Any], *, open_alerts: OpenAlerts | None = None
) -> AccountView:
    """Build an :class:`AccountView` from a stored account (``account_to_dict`` form).

    Raises
    ------
    AccountViewError
        A required part is missing or malformed; the message names the field.
    """
    try:
        entity, period = data["entity"], data["period"]
        grade, quality = data["grade"], data["data_quality"]
        colour = grade.get("colour")
        return AccountView(
            entity_id=str(entity["id"]),
            sector=Sector(entity["sector"]),
            industry_code=str(entity.get("industry_code") or ""),
            period_start=date.fromisoformat(period["start"]),
            period_end=date.fromisoformat(period["end"]),
            carbon_efficiency=grade.get("carbon_efficiency"),
            colour=None if not colour else Colour(colour),
            score=_opt_float(grade.get("score"), "grade.score"),
            k=_opt_float(grade.get("k"), "grade.k"),
            provisional=bool(grade.get("provisional", False)),
            trend_pct=trend_pct_of(data),
            completeness=float(quality["completeness"]),
            quality_tier=int(quality["tier"]),
            factor_set_version=str(data.get("factor_set") or ""),
            benchmark_version=str((data.get("benchmark") or {}).get("version") or ""),
            grading_version=str(data.get("grading_version") or grade.get("grading_version", "")),
            open_alerts=open_alerts or OpenAlerts(),
            account_id=data.get("id"),
        )
    except KeyError as exc:
        raise AccountViewError(f"{exc.args[0]}: missing from the stored account") from None
    except (TypeError, ValueError) as exc:
        if isinstance(exc, AccountViewError):
            raise
        raise AccountViewError(f"account: malformed ({exc})") from None


def carbon_feature_values(view: AccountView | None) -> dict[str, float]:
    """The risk model's carbon features of an account (NaN for what is unknown or no account).

    ``alert_count_12m`` is the open critical plus warning alerts; ``colour_rank`` is 1 (dark
    green) .. 4 (red); ``data_completeness`` is the fraction 0-1.
    """
    nan = math.nan
    if view is None:
        names = ("carbon_efficiency_grade", "k_ratio", "carbon_score", "intensity_trend_pct")
        rest = ("data_completeness", "alert_count_12m", "colour_rank")
        return dict.fromkeys((*names, *rest), nan)
    return {
        "carbon_efficiency_grade": nan
        if view.carbon_efficiency is None
        else float(view.carbon_efficiency),
        "k_ratio": nan if view.k is None else view.k,
        "carbon_score": nan if view.score is None else view.score,
        "intensity_trend_pct": nan if view.trend_pct is None else view.trend_pct,
        "data_completeness": view.completeness,
        "alert_count_12m": float(view.open_alerts.critical + view.open_alerts.warning),
        "colour_rank": nan if view.colour is None else float(view.colour.rank),
    }


def adjustment_metrics(
    view: AccountView, project: ProjectMetrics | None = None
) -> dict[str, Decimal | int | None]:
    """The metrics product adjustments test (keys: :class:`products.Metric` values)."""
    declared = project or ProjectMetrics()
    return {
        Metric.INTENSITY_CUT_YOY_PCT.value: view.intensity_cut_yoy_pct,
        Metric.EMISSIONS_CUT_TCO2E.value: declared.emissions_cut_tco2e,
        Metric.QUALITY_TIER.value: view.quality_tier,
        Metric.COMPLETENESS_PCT.value: _round(view.completeness * 100.0),
        Metric.CARBON_POINTS.value: view.carbon_points,
        Metric.GREEN_BUILDING_STARS.value: declared.green_building_stars,
        Metric.RENEWABLE_SHARE_PCT.value: declared.renewable_share_pct,
        Metric.CONSECUTIVE_GREEN_YEARS.value: view.consecutive_green_years,
    }
