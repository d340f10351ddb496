"""Discrimination, calibration and stability metrics for PD models, vectorised with numpy.

- AUC by the rank-sum (Mann-Whitney U) formula with average ranks for ties:
  ``AUC = (R_bad - n_bad (n_bad + 1) / 2) / (n_bad n_good)``, ``R_bad`` the rank sum of the bads.
- KS: the largest gap between the empirical CDFs of the score for bads and for goods.
- Gini (accuracy ratio) = 2 AUC - 1. Brier score = mean squared error of the PD.
- Calibration table: rows, defaults, default rate and mean PD in each band of PD cut-offs;
  expected calibration error (ECE) over equal-count bins.
- PSI (population stability index) = sum over bins of (a - e) ln(a / e), shares e (reference)
  and a (recent), bins cut at the reference quantiles, NaN in a bin of its own.

``y`` is a 0/1 default flag; ``score`` is any value that rises with risk (PD, log-odds).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

PSI_EMPTY_SHARE = 1e-4
"""Share given to an empty bin so ln(a / e) stays finite (a common convention)."""


class MetricError(ValueError):
    """Inputs a metric cannot be computed from; the message names the argument."""


def _labels_scores(y: ArrayLike, score: ArrayLike) -> tuple[NDArray[np.bool_], FloatArray]:
    labels = np.asarray(y)
    values = np.asarray(score, dtype=np.float64)
    if labels.ndim != 1 or values.shape != labels.shape:
        raise MetricError(f"y and score: shapes {labels.shape} and {values.shape} differ")
    if not np.isin(labels, (0, 1)).all():
        raise MetricError("y: default flags must be 0 or 1")
    if np.isnan(values).any():
        raise MetricError("score: contains NaN")
    bad = labels.astype(bool)
    if bad.all() or not bad.any():
        raise MetricError("y: needs both defaults and non-defaults")
    return bad, values


def average_ranks(values: ArrayLike) -> FloatArray:
    """1-based ranks of ``values``, ties sharing the mean of the ranks they span."""
    x = np.asarray(values, dtype=np.float64)
    order = np.argsort(x, kind="mergesort")
    ordered = x[order]
    new_group = np.r_[True, ordered[1:] != ordered[:-1]]
    group = np.cumsum(new_group) - 1
    starts = np.flatnonzero(new_group)
    ends = np.r_[starts[1:], x.size]
    mean_rank = (starts + 1 + ends) / 2.0
    ranks = np.empty(x.size, dtype=np.float64)
    ranks[order] = mean_rank[group]
    return ranks


def auc(y: ArrayLike, score: ArrayLike) -> float:
    """Area under the ROC curve by the rank-sum formula (ties count one half)."""
    bad, values = _labels_scores(y, score)
    n_bad = int(bad.sum())
    n_good = bad.size - n_bad
    rank_sum = float(average_ranks(values)[bad].sum())
    return (rank_sum - n_bad * (n_bad + 1) / 2.0) / (n_bad * n_good)


def gini(y: ArrayLike, score: ArrayLike) -> float:
    """Gini coefficient (accuracy ratio) = 2 AUC - 1."""
    return 2.0 * auc(y, score) - 1.0


def ks(y: ArrayLike, score: ArrayLike) -> float:
    """Kolmogorov-Smirnov statistic: max over thresholds t of |F_bad(t) - F_good(t)|."""
    bad, values = _labels_scores(y, score)
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    cum_bad = np.cumsum(bad[order]) / bad.sum()
    cum_good = np.cumsum(~bad[order]) / (~bad).sum()
    last_of_value = np.r_[ordered[1:] != ordered[:-1], True]
    return float(np.abs(cum_bad - cum_good)[last_of_value].max())


def brier(y: ArrayLike, pd: ArrayLike) -> float:
    """Brier score: mean of (PD - default flag)^2."""
    _, p = _labels_scores(y, pd)
    return float(np.mean((p - np.asarray(y, dtype=np.float64)) ** 2))


def equal_count_bins(values: ArrayLike, n_bins: int) -> IntArray:
    """Bin index 0..n_bins-1 of each value by rank (equal counts; ties by position)."""
    x = np.asarray(values, dtype=np.float64)
    if n_bins < 1:
        raise MetricError("n_bins: must be at least 1")
    order = np.argsort(x, kind="mergesort")
    bins = np.empty(x.size, dtype=np.int64)
    bins[order] = np.arange(x.size) * n_bins // max(x.size, 1)
    return bins


def expected_calibration_error(y: ArrayLike, pd: ArrayLike, n_bins: int = 10) -> float:
    """ECE: sum over equal-count PD bins of (bin share) x |mean PD - default rate|."""
    bad, p = _labels_scores(y, pd)
    bins = equal_count_bins(p, n_bins)
    count = np.bincount(bins, minlength=n_bins).astype(np.float64)
    sum_pd = np.bincount(bins, weights=p, minlength=n_bins)
    sum_bad = np.bincount(bins, weights=bad.astype(np.float64), minlength=n_bins)
    used = count > 0
    gap = np.abs(sum_pd[used] - sum_bad[used]) / count[used]
    return float((count[used] / p.size * gap).sum())


@dataclass(frozen=True)
class CalibrationTable:
    """Observed against predicted default rates by PD band.

    Attributes
    ----------
    bands:
        Band labels, best first.
    upper_pd:
        Upper PD cut-off of each band (inclusive), ``inf`` for the last.
    n, defaults:
        Rows and defaults in each band.
    mean_pd, default_rate:
        Mean predicted PD and observed default rate in each band (NaN when empty).
    """

    bands: tuple[str, ...]
    upper_pd: FloatArray
    n: IntArray
    defaults: IntArray
    mean_pd: FloatArray
    default_rate: FloatArray

    def rows(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per band (NaN -> None)."""

        def num(value: float) -> float | None:
            return None if np.isnan(value) or np.isinf(value) else float(value)

        return [
            {
                "band": band,
                "upper_pd": num(float(self.upper_pd[i])),
                "n": int(self.n[i]),
                "defaults": int(self.defaults[i]),
                "mean_pd": num(float(self.mean_pd[i])),
                "default_rate": num(float(self.default_rate[i])),
            }
            for i, band in enumerate(self.bands)
        ]


def band_index(pd: ArrayLike, upper_pd: ArrayLike) -> IntArray:
    """Index of the band of each PD: the first band whose upper cut-off is >= PD."""
    bounds = np.asarray(upper_pd, dtype=np.float64)
    return np.searchsorted(bounds[:-1], np.asarray(pd, dtype=np.float64), side="left").astype(
        np.int64
    )


def calibration_table(
    y: ArrayLike, pd: ArrayLike, bands: Sequence[str], upper_pd: ArrayLike
) -> CalibrationTable:
    """Rows, defaults, mean PD and default rate in each PD band (``upper_pd`` increasing)."""
    bad, p = _labels_scores(y, pd)
    uppers = np.asarray(upper_pd, dtype=np.float64)
    if uppers.shape != (len(bands),) or np.any(np.diff(uppers) <= 0):
        raise MetricError("upper_pd: one increasing cut-off per band is required")
    index = band_index(p, uppers)
    k = len(bands)
    n = np.bincount(index, minlength=k)
    defaults = np.bincount(index, weights=bad.astype(np.float64), minlength=k).astype(np.int64)
    sum_pd = np.bincount(index, weights=p, minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_pd = np.where(n > 0, sum_pd / n, np.nan)
        rate = np.where(n > 0, defaults / n, np.nan)
    return CalibrationTable(tuple(bands), uppers, n.astype(np.int64), defaults, mean_pd, rate)


def psi_from_counts(expected_counts: ArrayLike, actual_counts: ArrayLike) -> float:
    """PSI from counts per bin of a reference (expected) and a recent (actual) sample."""
    e = np.asarray(expected_counts, dtype=np.float64)
    a = np.asarray(actual_counts, dtype=np.float64)
    if e.shape != a.shape or e.ndim != 1:
        raise MetricError("expected_counts, actual_counts: need the same bins")
    if e.sum() <= 0 or a.sum() <= 0:
        raise MetricError("expected_counts, actual_counts: need at least one row each")
    e_share = np.maximum(e / e.sum(), PSI_EMPTY_SHARE)
    a_share = np.maximum(a / a.sum(), PSI_EMPTY_SHARE)
    return float(np.sum((a_share - e_share) * np.log(a_share / e_share)))


def psi(expected: ArrayLike, actual: ArrayLike, n_bins: int = 10) -> float:
    """PSI of ``actual`` against ``expected``, bins cut at the reference's quantiles.

    Distinct quantile edges only (a discrete feature gets one bin per value range); NaN values
    form a bin of their own.
    """
    ref = np.asarray(expected, dtype=np.float64)
    new = np.asarray(actual, dtype=np.float64)
    finite_ref = ref[~np.isnan(ref)]
    if finite_ref.size == 0:
        edges = np.empty(0)
    else:
        edges = np.unique(np.quantile(finite_ref, np.linspace(0, 1, n_bins + 1)[1:-1]))

    def counts(x: FloatArray) -> FloatArray:
        index = np.where(np.isnan(x), edges.size + 1, np.searchsorted(edges, x, side="right"))
        return np.bincount(index, minlength=edges.size + 2).astype(np.float64)

    return psi_from_counts(counts(ref), counts(new))


def performance_report(
    y: ArrayLike, pd: ArrayLike, bands: Sequence[str], upper_pd: ArrayLike
) -> dict[str, Any]:
    """JSON-ready AUC, KS, Gini, Brier, decile ECE, mean PD against default rate, and the
    calibration table by PD band, of PDs ``pd`` against outcomes ``y``."""
    labels = np.asarray(y)
    p = np.asarray(pd, dtype=np.float64)
    return {
        "n": int(labels.size),
        "default_rate": float(labels.mean()),
        "mean_pd": float(p.mean()),
        "auc": auc(labels, p),
        "ks": ks(labels, p),
        "gini": gini(labels, p),
        "brier": brier(labels, p),
        "ece_decile": expected_calibration_error(labels, p, 10),
        "calibration_by_band": calibration_table(labels, p, bands, upper_pd).rows(),
    }
