"""What a bank system sends: an application with the borrower's financial features.

Money is ``Decimal`` yuan (2 dp at most), rates ``Decimal`` percent a year. The financial features
are the risk model's (:mod:`scoring.features`) and are validated against the same ranges when the
value is built, so a bad application fails before any decision is made, naming the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from scoring.carbon_features import ProjectMetrics
from scoring.features import FeatureSpec, feature_spec

MAX_BASE_RATE_PCT = Decimal(36)
"""Highest base rate accepted, percent a year (the judicial ceiling on private lending rates
is four times the 1-year LPR, well below this; the check only catches unit mistakes)."""

FINANCIAL_FEATURES: tuple[str, ...] = (
    "revenue_10k_yuan",
    "leverage",
    "current_ratio",
    "return_on_assets",
    "years_operating",
    "overdue_count_24m",
)
"""The risk model's financial features, the fields of :class:`Financials`."""


class ApplicationError(ValueError):
    """A field of an application is missing or out of range; the message names it."""


def check_feature(spec: FeatureSpec, value: float) -> None:
    """Raise :class:`ApplicationError` unless ``value`` is allowed for ``spec`` (NaN = missing)."""
    if math.isnan(value):
        if not spec.nullable:
            raise ApplicationError(f"{spec.name}: required")
        return
    if math.isinf(value):
        raise ApplicationError(f"{spec.name}: {value} is infinite")
    if (spec.low is not None and value < spec.low) or (spec.high is not None and value > spec.high):
        raise ApplicationError(
            f"{spec.name}: {value:g} outside [{spec.low}, {spec.high}] ({spec.unit})"
        )
    if spec.integer and value != round(value):
        raise ApplicationError(f"{spec.name}: {value:g} is not a whole number")


@dataclass(frozen=True)
class Financials:
    """The borrower's financial features (see ``docs/risk-model.md``), validated on creation."""

    revenue_10k_yuan: Decimal
    """Operating revenue of the last financial year, 10k yuan."""
    leverage: float
    """Total debt / total assets."""
    current_ratio: float
    """Current assets / current liabilities."""
    return_on_assets: float
    """Net profit / total assets (0.05 = 5%)."""
    years_operating: float
    """Whole years since registration."""
    overdue_count_24m: int
    """Overdue repayments in the last 24 months."""

    def __post_init__(self) -> None:
        for name, value in self.feature_values().items():
            check_feature(feature_spec(name), value)

    def feature_values(self) -> dict[str, float]:
        """The features as floats, keyed by model feature name."""
        return {
            "revenue_10k_yuan": float(self.revenue_10k_yuan),
            "leverage": float(self.leverage),
            "current_ratio": float(self.current_ratio),
            "return_on_assets": float(self.return_on_assets),
            "years_operating": float(self.years_operating),
            "overdue_count_24m": float(self.overdue_count_24m),
        }

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Financials:
        """Build from a JSON-like mapping with exactly the :data:`FINANCIAL_FEATURES` keys.

        Raises
        ------
        ApplicationError
            A key is missing or unknown, or a value is not a number in range.
        """
        missing = [name for name in FINANCIAL_FEATURES if data.get(name) is None]
        if missing:
            raise ApplicationError(f"{', '.join(missing)}: required financial feature(s) missing")
        unknown = sorted(set(data) - set(FINANCIAL_FEATURES))
        if unknown:
            raise ApplicationError(f"{', '.join(unknown)}: unknown financial feature(s)")
        overdue = _number(data["overdue_count_24m"], "overdue_count_24m")
        if overdue != overdue.to_integral_value():
            raise ApplicationError(f"overdue_count_24m: {overdue} is not a whole number")
        return cls(
            revenue_10k_yuan=_number(data["revenue_10k_yuan"], "revenue_10k_yuan"),
            leverage=float(_number(data["leverage"], "leverage")),
            current_ratio=float(_number(data["current_ratio"], "current_ratio")),
            return_on_assets=float(_number(data["return_on_assets"], "return_on_assets")),
            years_operating=float(_number(data["years_operating"], "years_operating")),
            overdue_count_24m=int(overdue),
        )


def _number(value: Any, name: str) -> Decimal:
    if isinstance(value, bool):
        raise ApplicationError(f"{name}: {value!r} is not a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ApplicationError(f"{name}: {value!r} is not a number") from None
    if not number.is_finite():
        raise ApplicationError(f"{name}: {value!r} is not a finite number")
    return number


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


@dataclass(frozen=True)
class Application:
    """One loan application as a bank system sends it.

    Attributes
    ----------
    application_id:
        The bank's id of the application (echoed in the decision and the log).
    entity_id:
        The borrower (carbon-account holder).
    base_limit_yuan:
        The bank's normal credit limit before carbon multipliers, yuan, > 0, 2 dp at most.
    base_rate_pct:
        The bank's normal rate before carbon discounts, percent a year, in (0, 36].
    financials:
        The risk model's financial features.
    product_code:
        The product applied for; None when asking for best offers.
    requested_amount_yuan, requested_term_months:
        What the borrower asks for (optional): checked against the product's ranges.
    lender_code:
        The calling bank; when set, only its products are considered.
    project:
        Metrics of the financed project some adjustments test.
    """

    application_id: str
    entity_id: str
    base_limit_yuan: Decimal
    base_rate_pct: Decimal
    financials: Financials
    product_code: str | None = None
    requested_amount_yuan: Decimal | None = None
    requested_term_months: int | None = None
    lender_code: str | None = None
    project: ProjectMetrics = field(default_factory=ProjectMetrics)

    def __post_init__(self) -> None:
        if not self.application_id or len(self.application_id) > 64:
            raise ApplicationError("application_id: 1-64 characters required")
        if not self.entity_id or len(self.entity_id) > 64:
            raise ApplicationError("entity_id: 1-64 characters required")
        _check_money(self.base_limit_yuan, "base_limit_yuan")
        if self.requested_amount_yuan is not None:
            _check_money(self.requested_amount_yuan, "requested_amount_yuan")
        rate = self.base_rate_pct
        if not isinstance(rate, Decimal) or not rate.is_finite():
            raise ApplicationError(f"base_rate_pct: {rate!r} is not a decimal number")
        if not Decimal(0) < rate <= MAX_BASE_RATE_PCT or _places(rate) > 4:
            raise ApplicationError(
                f"base_rate_pct: {rate} must be above 0 and at most {MAX_BASE_RATE_PCT} "
                "(percent a year), with at most 4 decimals"
            )
        term = self.requested_term_months
        if term is not None and not 1 <= term <= 360:
            raise ApplicationError(f"requested_term_months: {term} not in 1-360")


def _check_money(value: Decimal, name: str) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ApplicationError(f"{name}: {value!r} is not a decimal amount")
    if value <= 0 or _places(value) > 2:
        raise ApplicationError(f"{name}: {value} must be above 0 yuan with at most 2 decimals")
