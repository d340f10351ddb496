"""Carbon outcomes of a rule set's book: PCAF financed emissions and the reduction it finances.

PCAF (Part A, business loans; domain.md section 4.2)::

    attribution factor = outstanding / (total equity + debt of the borrower)   (capped at 1)
    financed emissions = sum over loans of attribution factor x borrower emissions

The outstanding amount of a booked loan is its drawn amount under the rule set (see
:mod:`scoring.backtest.measures`). Also reported:

- the carbon reduction attributed to the green book: sum of attribution factor x the borrower's
  emission cut over the year before the application (``emissions_prior - emissions``; negative
  where emissions rose);
- the economic emission intensity: financed emissions per million yuan outstanding;
- the outstanding-weighted PCAF data-quality score (1 best .. 5 worst), when the history has it;
- the projects' declared yearly cuts (``emissions_cut_tco2e``), summed without attribution.

Every loan the rule set books is a loan of the low-carbon catalog, so the whole booked book is
the *green book*. Loans whose borrower lacks emissions or equity + debt are left out and counted.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from scoring.backtest.data import BacktestData
from scoring.backtest.measures import COLOUR_GROUPS, Exposure, colour_index, ratio, yuan
from scoring.backtest.replay import Replay

FloatArray = NDArray[np.float64]
NEEDED = ("emissions_tco2e", "equity_plus_debt_fen")


def _column(data: BacktestData, name: str) -> FloatArray:
    values = data.get(name)
    n = len(data)
    return np.full(n, np.nan) if values is None else np.asarray(values, dtype=np.float64)


def _by_colour(
    data: BacktestData,
    covered: NDArray[np.bool_],
    financed: FloatArray,
    cut: FloatArray,
    out: FloatArray,
) -> list[dict[str, Any]]:
    index = colour_index(data)[covered]
    k = len(COLOUR_GROUPS)
    sums = [np.bincount(index, weights=v[covered], minlength=k) for v in (financed, cut, out)]
    return [
        {
            "group": label,
            "financed_emissions_tco2e": float(sums[0][g]),
            "attributed_reduction_tco2e": float(sums[1][g]),
            "outstanding_yuan": yuan(round(sums[2][g])),
        }
        for g, label in enumerate(COLOUR_GROUPS)
    ]


def financed_emissions(data: BacktestData, replay: Replay, ex: Exposure) -> dict[str, Any]:
    """PCAF financed emissions and the attributed reduction of a rule set's booked loans."""
    missing = [name for name in NEEDED if not data.has(name)]
    if missing:
        return {"available": False, "missing_columns": missing}
    booked = replay.booked
    emissions = _column(data, "emissions_tco2e")
    denominator = _column(data, "equity_plus_debt_fen")
    outstanding = ex.drawn_fen.astype(np.float64)
    covered = booked & ~np.isnan(emissions) & (np.nan_to_num(denominator) > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        attribution = np.where(covered, np.minimum(outstanding / denominator, 1.0), 0.0)
    financed = np.where(covered, attribution * emissions, 0.0)
    prior = _column(data, "emissions_prior_tco2e")
    cut = np.where(covered & ~np.isnan(prior), attribution * (prior - emissions), 0.0)
    total_out = float(outstanding[covered].sum())
    quality = _column(data, "pcaf_data_quality")
    rated = covered & ~np.isnan(quality)
    declared = _column(data, "emissions_cut_tco2e")
    has_cut = booked & ~np.isnan(declared)
    return {
        "available": True,
        "loans_covered": int(covered.sum()),
        "loans_without_data": int((booked & ~covered).sum()),
        "outstanding_yuan": yuan(round(total_out)),
        "financed_emissions_tco2e": float(financed.sum()),
        "attributed_reduction_tco2e": float(cut.sum()),
        "emission_intensity_tco2e_per_m_yuan": ratio(float(financed.sum()), total_out / 1e8),
        "weighted_data_quality": ratio(
            float(np.sum(outstanding[rated] * quality[rated])), float(outstanding[rated].sum())
        ),
        "declared_project_cut_tco2e": float(declared[has_cut].sum()),
        "loans_declaring_a_cut": int(has_cut.sum()),
        "by_colour": _by_colour(data, covered, financed, cut, np.where(covered, outstanding, 0.0)),
    }
