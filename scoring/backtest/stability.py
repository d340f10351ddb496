"""Model performance on the history, and population stability between two periods.

- Performance: AUC (rank-sum), KS, Gini, Brier, decile ECE and calibration by risk band
  (:func:`scoring.metrics.performance_report`) of the model's PDs against the observed 12-month
  defaults, over every application and in each period; with the synthetic oracle (``true_pd``)
  its AUC beside the model's.
- Stability: PSI of the score (PD) and of every model feature between a *reference* and a
  *recent* period (bins cut at the reference deciles, missing values in a bin of their own), and
  the share of applications in each risk band in both periods. Reading (a common convention,
  not a regulation): below 0.10 stable, 0.10-0.25 a moderate shift, above 0.25 a significant one.

Periods default to the first and the last 12 months of the history when it spans at least
24 months, otherwise to its first and second halves (split at the midpoint date).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from scoring import metrics
from scoring.backtest.data import BacktestData
from scoring.calibration import RiskBands
from scoring.features import FEATURE_NAMES

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
PSI_MODERATE = 0.10
PSI_SIGNIFICANT = 0.25


class PeriodError(ValueError):
    """A reference or recent period is invalid or holds no application."""


@dataclass(frozen=True)
class Period:
    """Inclusive date range."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise PeriodError(f"period: {self.end} precedes {self.start}")

    @classmethod
    def parse(cls, text: str, name: str) -> Period:
        """``YYYY-MM-DD:YYYY-MM-DD``."""
        try:
            start, end = text.split(":")
            return cls(date.fromisoformat(start), date.fromisoformat(end))
        except ValueError:
            raise PeriodError(
                f"{name}: {text!r} is not START:END (YYYY-MM-DD:YYYY-MM-DD)"
            ) from None

    def mask(self, dates: NDArray[np.datetime64]) -> BoolArray:
        """Applications dated within the period."""
        result: BoolArray = (dates >= np.datetime64(self.start, "D")) & (
            dates <= np.datetime64(self.end, "D")
        )
        return result

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def default_periods(dates: NDArray[np.datetime64]) -> tuple[Period, Period]:
    """First and last 12 months when the history spans 24 months or more, else the halves."""
    first: date = dates.min().astype(object)
    last: date = dates.max().astype(object)
    if _add_years(first, 2) <= last + timedelta(days=1):
        reference = Period(first, _add_years(first, 1) - timedelta(days=1))
        return reference, Period(_add_years(last, -1) + timedelta(days=1), last)
    middle = first + (last - first) / 2
    return Period(first, middle), Period(min(middle + timedelta(days=1), last), last)


def _add_years(day: date, years: int) -> date:
    """The same day ``years`` later (28 February for 29 February in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _assessment(value: float) -> str:
    if value < PSI_MODERATE:
        return "stable"
    return "moderate shift" if value < PSI_SIGNIFICANT else "significant shift"


def performance(y: NDArray[np.int64], pd: FloatArray, bands: RiskBands) -> dict[str, Any] | None:
    """:func:`scoring.metrics.performance_report`, or None when a class is absent."""
    if y.size == 0 or y.min() == y.max():
        return None
    return metrics.performance_report(y, pd, bands.labels, bands.upper_pd)


def model_performance(
    data: BacktestData, pd: FloatArray, bands: RiskBands, periods: tuple[Period, Period]
) -> dict[str, Any]:
    """Performance over every application and per period, with the oracle when present."""
    y = np.asarray(data.numeric["default_12m"], dtype=np.int64)
    out: dict[str, Any] = {"all": performance(y, pd, bands)}
    oracle = data.get("true_pd")
    if oracle is not None and y.min() != y.max():
        out["oracle_auc"] = metrics.auc(y, np.asarray(oracle, dtype=np.float64))
    for name, period in zip(("reference", "recent"), periods, strict=True):
        mask = period.mask(data.application_date)
        out[name] = {"period": period.to_dict(), **(performance(y[mask], pd[mask], bands) or {})}
    return out


def stability(
    data: BacktestData, pd: FloatArray, bands: RiskBands, periods: tuple[Period, Period]
) -> dict[str, Any]:
    """PSI of the score and of each feature, and risk-band shares, reference against recent."""
    ref = periods[0].mask(data.application_date)
    new = periods[1].mask(data.application_date)
    for name, mask in (("reference", ref), ("recent", new)):
        if not mask.any():
            raise PeriodError(
                f"{name}: no application in {periods[0 if name == 'reference' else 1]}"
            )
    k = len(bands.labels)
    ref_bands = np.bincount(bands.index(pd[ref]), minlength=k)
    new_bands = np.bincount(bands.index(pd[new]), minlength=k)
    score_psi = metrics.psi(pd[ref], pd[new])
    features = {}
    for name in FEATURE_NAMES:
        column = data.feature(name)
        value = metrics.psi(column[ref], column[new])
        features[name] = {"psi": value, "assessment": _assessment(value)}
    return {
        "reference": {**periods[0].to_dict(), "applications": int(ref.sum())},
        "recent": {**periods[1].to_dict(), "applications": int(new.sum())},
        "score": {"psi": score_psi, "assessment": _assessment(score_psi)},
        "risk_bands": {
            "psi": metrics.psi_from_counts(ref_bands, new_bands),
            "bands": [
                {
                    "band": band,
                    "reference_share": float(ref_bands[i] / ref_bands.sum()),
                    "recent_share": float(new_bands[i] / new_bands.sum()),
                }
                for i, band in enumerate(bands.labels)
            ],
        },
        "features": features,
    }
