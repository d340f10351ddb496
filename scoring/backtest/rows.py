"""Row-level inputs of a replay, computed once per history and shared by every rule set.

Grades on each scale, the metrics adjustments test (rounded exactly as decisions round them),
rates as integers, account age: everything a rule needs, as ``(n,)`` arrays.

Rounding like a decision
------------------------
Decisions compare the year-on-year intensity cut and the completeness after rounding them to
0.01 the decimal way (``Decimal(repr(x)).quantize(Decimal("0.01"), ROUND_HALF_EVEN)``, see
:mod:`scoring.carbon_features`). :func:`round_hundredths` does the same for a whole column: numpy
rounding of ``100 x`` agrees with it except where ``100 x`` is within 1e-6 of a half, and those
rare values are rounded through ``Decimal`` one by one.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
from numpy.typing import NDArray

from products.model import Metric
from scoring.backtest.data import BacktestData
from scoring.backtest.table import METRICS, RATE_SCALE, SECTORS

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
_HUNDREDTH = Decimal("0.01")


def round_hundredths(values: FloatArray) -> FloatArray:
    """``values`` rounded to 0.01 half-even on their decimal form, in hundredths (NaN kept)."""
    x = np.asarray(values, dtype=np.float64)
    scaled = x * 100.0
    rounded = np.round(scaled)
    with np.errstate(invalid="ignore"):
        near_half = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6
    for i in np.flatnonzero(near_half):
        exact = Decimal(repr(float(x[i]))).quantize(_HUNDREDTH, rounding=ROUND_HALF_EVEN)
        rounded[i] = float(exact * 100)
    return rounded


@dataclass(frozen=True)
class RowInputs:
    """What the rules read from each application (see :func:`row_inputs`).

    Attributes
    ----------
    grade_rank:
        ``(3, n)`` grade rank on the colour, carbon-efficiency and resident-level scales
        (1 = best), 0 where the account has no grade on that scale.
    metrics:
        ``(len(METRICS), n)`` adjustment metric values (NaN = unknown); the rounded metrics
        in hundredths.
    base_rate_e4:
        Base rate in 1e-4 percent.
    sector_index:
        Index into :data:`scoring.backtest.table.SECTORS`, or None without the column.
    account_age_days:
        Days from the account period's end to the application date (-1 where unknown), or None.
    """

    pd: FloatArray
    has_account: NDArray[np.bool_]
    grade_rank: IntArray
    metrics: FloatArray
    base_limit_fen: IntArray
    base_rate_e4: IntArray
    term_months: IntArray
    requested_fen: IntArray | None
    sector_index: IntArray | None
    industry_code: NDArray[np.int32] | None
    industry_known: NDArray[np.bool_] | None
    quality_tier: FloatArray | None
    provisional: NDArray[np.bool_] | None
    critical_alerts: FloatArray | None
    warning_alerts: FloatArray | None
    account_age_days: IntArray | None


def _rank(values: NDArray[np.generic] | None, n: int) -> IntArray:
    if values is None:
        return np.zeros(n, dtype=np.int64)
    x = np.asarray(values, dtype=np.float64)
    return np.where(np.isnan(x), 0, x).astype(np.int64)


def _optional(data: BacktestData, name: str) -> FloatArray | None:
    column = data.get(name)
    return None if column is None else np.asarray(column, dtype=np.float64)


def _metrics(data: BacktestData) -> FloatArray:
    n = len(data)
    nan = np.full(n, np.nan)
    trend = data.feature("intensity_trend_pct")
    values: dict[Metric, FloatArray] = {
        Metric.INTENSITY_CUT_YOY_PCT: round_hundredths(-trend),
        Metric.COMPLETENESS_PCT: round_hundredths(data.feature("data_completeness") * 100.0),
    }
    for metric in METRICS:
        if metric not in values:
            column = _optional(data, metric.value)
            values[metric] = nan if column is None else column
    return np.stack([values[metric] for metric in METRICS])


def _sector_index(data: BacktestData) -> IntArray | None:
    if data.sector is None:
        return None
    lookup = np.asarray(
        [
            SECTORS.index(next(s for s in SECTORS if s.value == label))
            for label in data.sector.labels
        ]
        or [0],
        dtype=np.int64,
    )
    result: IntArray = lookup[data.sector.codes]
    return result


def _account_age(data: BacktestData) -> IntArray | None:
    end = data.account_period_end
    if end is None:
        return None
    age = (data.application_date - end).astype("timedelta64[D]").astype(np.int64)
    return np.where(np.isnat(end), -1, age)


def row_inputs(data: BacktestData, pd: FloatArray) -> RowInputs:
    """The row-level inputs of every rule, from a history and each application's PD."""
    n = len(data)
    p = np.asarray(pd, dtype=np.float64)
    if p.shape != (n,) or np.isnan(p).any():
        raise ValueError(f"pd: expected {n} PDs without NaN, got shape {p.shape}")
    grade_rank = np.stack(
        [
            _rank(data.feature("colour_rank"), n),
            _rank(data.feature("carbon_efficiency_grade"), n),
            _rank(data.get("resident_level"), n),
        ]
    )
    requested = data.get("requested_amount_fen")
    industry = data.industry
    provisional = _optional(data, "provisional")
    return RowInputs(
        pd=p,
        has_account=data.has_account,
        grade_rank=grade_rank,
        metrics=_metrics(data),
        base_limit_fen=np.asarray(data.numeric["base_limit_fen"], dtype=np.int64),
        base_rate_e4=np.round(
            np.asarray(data.numeric["base_rate_pct"], dtype=np.float64) * RATE_SCALE
        ).astype(np.int64),
        term_months=np.asarray(data.numeric["term_months"], dtype=np.int64),
        requested_fen=None
        if requested is None
        else np.where(np.isnan(requested.astype(float)), -1, requested).astype(np.int64),
        sector_index=_sector_index(data),
        industry_code=None if industry is None else industry.codes,
        industry_known=None
        if industry is None
        else np.asarray([bool(label) for label in industry.labels] or [False])[industry.codes],
        quality_tier=_optional(data, "quality_tier"),
        provisional=None if provisional is None else provisional == 1.0,
        critical_alerts=_optional(data, "open_critical_alerts"),
        warning_alerts=_optional(data, "open_warning_alerts"),
        account_age_days=_account_age(data),
    )
