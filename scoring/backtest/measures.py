"""What a rule set would have done: volume, pricing, losses and bad rates of its booked loans.

*Booked* means approved or referred (a referral's terms are those the officer may approve).
Amounts are exact: limits, interest and losses are summed in int64 fen and reported as
``Decimal`` yuan; expected loss (PD x LGD x EAD, a float per loan) is summed in float64 and
rounded to the fen once.

Exposure under a rule set
-------------------------
A rule set changes limits, so it changes what would have been drawn. Each booked loan keeps the
utilisation seen in the history: ``drawn = disbursed x final limit / base limit``, and its EAD
and realised loss scale by the same ratio (fen, rounded half to even). Interest forgone through
discounts is ``drawn x (base rate - final rate) x term / 12`` (simple interest over the term;
negative where a floor raised the rate above the base).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from numpy.typing import NDArray

from scoring.backtest.data import BacktestData
from scoring.backtest.reasons import reason_counts
from scoring.backtest.replay import APPROVE, DECLINE, REFER, Replay
from scoring.calibration import RiskBands

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

COLOUR_GROUPS: tuple[str, ...] = ("dark_green", "light_green", "yellow", "red", "none")
"""Quzhou colours best first, then borrowers without a colour (no carbon account)."""
EFFICIENCY_GROUPS: tuple[str, ...] = ("1", "2", "3", "4", "5", "none")
"""Zhejiang carbon-efficiency grades best first, then none."""


def yuan(fen: int | np.integer[Any]) -> Decimal:
    """``fen`` (0.01 yuan) as Decimal yuan with two decimals."""
    return Decimal(int(fen)).scaleb(-2)


def ratio(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator``, None when the denominator is 0."""
    return None if denominator == 0 else float(numerator) / float(denominator)


@dataclass(frozen=True)
class Exposure:
    """A rule set's booked exposure per application, fen (0 where not booked)."""

    drawn_fen: IntArray
    ead_fen: IntArray
    loss_fen: IntArray
    expected_loss: FloatArray
    """PD x LGD x EAD, fen (float)."""
    interest_forgone_fen: IntArray


def _scaled(values: NDArray[np.generic], scale: FloatArray) -> IntArray:
    return np.round(np.asarray(values, dtype=np.float64) * scale).astype(np.int64)


def exposure(data: BacktestData, pd: FloatArray, replay: Replay) -> Exposure:
    """Drawn amount, EAD, realised and expected loss, interest forgone of the booked loans."""
    booked = replay.booked
    base = np.asarray(data.numeric["base_limit_fen"], dtype=np.float64)
    scale = np.where(booked, replay.final_limit_fen / base, 0.0)
    drawn = _scaled(data.numeric["disbursed_fen"], scale)
    ead = _scaled(data.numeric["ead_fen"], scale)
    lgd = np.asarray(data.numeric["lgd"], dtype=np.float64)
    base_e4 = np.round(np.asarray(data.numeric["base_rate_pct"], dtype=np.float64) * 10_000)
    gap_e4 = np.where(booked, base_e4.astype(np.int64) - replay.final_rate_e4, 0)
    term = np.asarray(data.numeric["term_months"], dtype=np.int64)
    numerator = drawn * gap_e4 * term  # fen x 1e-6 x months; at most ~1e18, exact in int64
    denominator = 12 * 1_000_000
    forgone = np.sign(numerator) * ((np.abs(numerator) + denominator // 2) // denominator)
    return Exposure(
        drawn_fen=drawn,
        ead_fen=ead,
        loss_fen=_scaled(data.numeric["loss_fen"], scale),
        expected_loss=np.where(booked, pd * lgd * ead, 0.0),
        interest_forgone_fen=forgone.astype(np.int64),
    )


def _volume_and_pricing(replay: Replay, ex: Exposure) -> dict[str, Any]:
    booked = replay.booked
    volume = int(replay.final_limit_fen[booked].sum())
    base = int(replay.capped_base_fen[booked].sum())
    weights = np.where(booked, replay.final_limit_fen, 0).astype(np.float64)
    total = float(weights.sum())
    rate = replay.final_rate_e4.astype(np.float64) / 10_000
    cerf = booked & replay.cerf_eligible
    return {
        "booked_volume_yuan": yuan(volume),
        "volume_without_multipliers_yuan": yuan(base),
        "limit_uplift_yuan": yuan(volume - base),
        "limit_uplift_pct": None if base == 0 else 100.0 * (volume - base) / base,
        "drawn_yuan": yuan(int(ex.drawn_fen.sum())),
        "average_rate_pct": ratio(float(np.sum(weights * rate)), total),
        "mean_rate_pct": float(rate[booked].mean()) if booked.any() else None,
        "average_discount_bp": ratio(float(np.sum(weights * replay.rate_discount_bp)), total),
        "interest_forgone_yuan": yuan(int(ex.interest_forgone_fen.sum())),
        "floor_applied": int(replay.floor_applied.sum()),
        "limit_capped": int(replay.limit_capped.sum()),
        "cerf_eligible_booked": int(cerf.sum()),
        "cerf_eligible_volume_yuan": yuan(int(replay.final_limit_fen[cerf].sum())),
    }


def _losses(data: BacktestData, pd: FloatArray, replay: Replay, ex: Exposure) -> dict[str, Any]:
    booked = replay.booked
    n_booked = int(booked.sum())
    defaults = int(np.asarray(data.numeric["default_12m"], dtype=np.int64)[booked].sum())
    expected = int(np.round(ex.expected_loss.sum()))
    ead = int(ex.ead_fen.sum())
    realised = int(ex.loss_fen.sum())
    return {
        "exposure_at_default_yuan": yuan(ead),
        "expected_loss_yuan": yuan(expected),
        "realised_loss_yuan": yuan(realised),
        "expected_loss_rate": ratio(expected, ead),
        "realised_loss_rate": ratio(realised, ead),
        "defaults": defaults,
        "bad_rate": ratio(defaults, n_booked),
        "mean_pd": float(pd[booked].mean()) if n_booked else None,
    }


def _headline(data: BacktestData, pd: FloatArray, replay: Replay, ex: Exposure) -> dict[str, Any]:
    n = len(data)
    counts = np.bincount(replay.outcome.astype(np.int64), minlength=3)
    booked = int(replay.booked.sum())
    return {
        "applications": n,
        "approved": int(counts[APPROVE]),
        "referred": int(counts[REFER]),
        "declined": int(counts[DECLINE]),
        "booked": booked,
        "approval_rate": ratio(booked, n),
        **_volume_and_pricing(replay, ex),
        **_losses(data, pd, replay, ex),
        "reasons": reason_counts(replay.reasons),
    }


def group_table(
    labels: Sequence[str],
    index: IntArray,
    booked: BoolArray,
    y: IntArray,
    limit_fen: IntArray,
    ex: Exposure,
) -> list[dict[str, Any]]:
    """Applications, booked loans, defaults, bad rate, volume and losses by group."""
    k = len(labels)

    def total(values: NDArray[np.generic], mask: BoolArray) -> NDArray[np.float64]:
        weights = np.asarray(values)[mask].astype(np.float64)
        result = np.bincount(index[mask], weights=weights, minlength=k).astype(np.float64)
        return result

    apps = np.bincount(index, minlength=k)
    n = np.bincount(index[booked], minlength=k)
    bad = np.bincount(index[booked & (y == 1)], minlength=k)
    volume = total(limit_fen, booked)
    expected = total(ex.expected_loss, booked)
    realised = total(ex.loss_fen, booked)
    return [
        {
            "group": label,
            "applications": int(apps[g]),
            "booked": int(n[g]),
            "approval_rate": ratio(int(n[g]), int(apps[g])),
            "defaults": int(bad[g]),
            "bad_rate": ratio(int(bad[g]), int(n[g])),
            "booked_volume_yuan": yuan(round(volume[g])),
            "expected_loss_yuan": yuan(int(np.round(expected[g]))),
            "realised_loss_yuan": yuan(round(realised[g])),
        }
        for g, label in enumerate(labels)
    ]


def colour_index(data: BacktestData) -> IntArray:
    """Index into :data:`COLOUR_GROUPS` of each application."""
    rank = data.feature("colour_rank")
    return np.where(np.isnan(rank), 4, np.nan_to_num(rank) - 1).astype(np.int64)


def efficiency_index(data: BacktestData) -> IntArray:
    """Index into :data:`EFFICIENCY_GROUPS` of each application."""
    grade = data.feature("carbon_efficiency_grade")
    return np.where(np.isnan(grade), 5, np.nan_to_num(grade) - 1).astype(np.int64)


def rule_set_measures(
    data: BacktestData, pd: FloatArray, replay: Replay, bands: RiskBands, ex: Exposure
) -> dict[str, Any]:
    """Headline figures and bad rates by colour, carbon-efficiency grade, PD band and product."""
    y = np.asarray(data.numeric["default_12m"], dtype=np.int64)
    booked = replay.booked
    limit = replay.final_limit_fen
    return {
        **_headline(data, pd, replay, ex),
        "by_colour": group_table(COLOUR_GROUPS, colour_index(data), booked, y, limit, ex),
        "by_carbon_efficiency": group_table(
            EFFICIENCY_GROUPS, efficiency_index(data), booked, y, limit, ex
        ),
        "by_pd_band": group_table(bands.labels, bands.index(pd), booked, y, limit, ex),
        "by_product": group_table(
            data.product.labels, data.product.codes.astype(np.int64), booked, y, limit, ex
        ),
    }
