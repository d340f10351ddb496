"""Grading: Zhejiang carbon-efficiency grade, absolute carbon label, Quzhou four colours.

Vectorised: :func:`grade_batch` grades ``n`` entities from ``(n,)`` arrays (NaN = missing) in
one pass; :func:`grade_reasons` explains one entity's result; :func:`grade_one` wraps both for a
single account. Every threshold comes from the versioned configuration
(:mod:`accounting.grading_config`, ``accounting/data/grading/*.json``) with its source.

- Carbon-efficiency grade 1-5 from K = intensity ÷ industry benchmark, cut-offs K ≤ 0.6 / 0.8 /
  1.2 / 2.0 / above; a boundary value belongs to the better grade (K = 0.6 → grade 1). Without a
  benchmark there is no grade (one is never invented).
- Absolute label from intensity per 10k yuan value added: low ≤ 0.6 < medium ≤ 2.0 < high.
- Colour: three dimensions (industry advancement x = K; regional contribution x = intensity ÷
  regional aggregate intensity; historical decline x = year-on-year intensity change as a
  fraction) each map to a 0-100 sub-score by a piecewise-linear curve (clamped at the ends); the
  carbon score is their weighted mean over the dimensions available (weights renormalised); the
  colour is the best whose minimum score is met (a score on a cut-off gets the better colour),
  then capped (e.g. grade 5 is at best yellow). Energy producers are graded the same way on their
  supply intensity against their own benchmarks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from accounting.grading_config import (
    COLOURS,
    DEFAULT_GRADING_CONFIG,
    DIMENSIONS,
    LABELS,
    GradingConfig,
    GradingConfigError,
    grading_config_from_content,
    load_grading_config,
)
from accounting.grading_reasons import Reason, grade_reasons
from accounting.quality import is_provisional
from accounting.vocab import CarbonLabel, Colour

__all__ = [
    "COLOURS",
    "DEFAULT_GRADING_CONFIG",
    "DIMENSIONS",
    "LABELS",
    "DimensionResult",
    "Grade",
    "GradeBatch",
    "GradingConfig",
    "GradingConfigError",
    "Reason",
    "grade_at",
    "grade_batch",
    "grade_one",
    "grade_reasons",
    "grading_config_from_content",
    "load_grading_config",
]

FloatArray = NDArray[np.float64]
Int8Array = NDArray[np.int8]


@dataclass(frozen=True)
class GradeBatch:
    """Grades of ``n`` entities. Missing values are NaN (floats) or -1/0 codes (ints)."""

    intensity: FloatArray
    """``(n,)`` primary intensity graded."""
    k: FloatArray
    """``(n,)`` intensity ÷ industry benchmark."""
    carbon_efficiency: Int8Array
    """``(n,)`` grade 1-5, 0 without a benchmark."""
    label_intensity: FloatArray
    """``(n,)`` tCO2/10k yuan value added."""
    carbon_label: Int8Array
    """``(n,)`` index into :data:`LABELS`, -1 without value added."""
    dimension_x: FloatArray
    """``(n, 3)`` K, regional ratio, year-on-year change, in :data:`DIMENSIONS` order."""
    dimension_scores: FloatArray
    """``(n, 3)`` sub-scores 0-100."""
    weights_used: FloatArray
    """``(n, 3)`` renormalised weights (0 for a missing dimension)."""
    score: FloatArray
    """``(n,)`` carbon score 0-100, NaN without any dimension."""
    colour_by_score: Int8Array
    """``(n,)`` index into :data:`COLOURS` before caps, -1 without a score."""
    colour: Int8Array
    """``(n,)`` index into :data:`COLOURS` after caps, -1 without a score."""
    completeness: FloatArray
    provisional: NDArray[np.bool_]

    def __len__(self) -> int:
        return int(self.intensity.shape[0])


def _column(values: ArrayLike | None, n: int) -> FloatArray:
    if values is None:
        return np.full(n, np.nan)
    return np.broadcast_to(np.asarray(values, dtype=np.float64), (n,)).astype(np.float64)


def _ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    ok = np.isfinite(num) & np.isfinite(den) & (den > 0)
    return np.where(ok, num / np.where(ok, den, 1.0), np.nan)


def _carbon_score(
    config: GradingConfig, x: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Sub-scores ``(n, 3)``, renormalised weights ``(n, 3)`` and weighted score ``(n,)``."""
    scores = np.stack([d.score(x[:, j]) for j, d in enumerate(config.dimensions)], axis=1)
    available = ~np.isnan(scores)
    raw_w = np.where(available, config.weights[None, :], 0.0)
    w_sum = raw_w.sum(axis=1)
    weights = np.where(w_sum[:, None] > 0, raw_w / np.where(w_sum > 0, w_sum, 1.0)[:, None], 0.0)
    score = np.where(w_sum > 0, (np.where(available, scores, 0.0) * weights).sum(axis=1), np.nan)
    return scores, weights, score


def grade_batch(
    config: GradingConfig,
    intensity: ArrayLike,
    *,
    benchmark: ArrayLike | None = None,
    regional_intensity: ArrayLike | None = None,
    previous_intensity: ArrayLike | None = None,
    label_intensity: ArrayLike | None = None,
    completeness: ArrayLike | None = None,
) -> GradeBatch:
    """Grade ``n`` entities at once.

    Parameters
    ----------
    intensity
        ``(n,)`` primary intensity (tCO2/10k yuan value added for industry, tCO2/MWh... for
        energy producers); NaN where it cannot be computed.
    benchmark, regional_intensity, previous_intensity
        ``(n,)`` or scalar, same unit as ``intensity``; NaN/None where missing.
    label_intensity
        ``(n,)`` tCO2/10k yuan value added for the absolute label; NaN where no value added.
    completeness
        ``(n,)`` received ÷ expected intervals; None means complete.
    """
    i = np.atleast_1d(np.asarray(intensity, dtype=np.float64))
    n = i.shape[0]
    k = _ratio(i, _column(benchmark, n))
    grade = np.where(np.isnan(k), 0, np.searchsorted(config.k_upper_bounds, k, side="left") + 1)
    previous = _column(previous_intensity, n)
    change = _ratio(i, previous) - 1.0
    x = np.stack([k, _ratio(i, _column(regional_intensity, n)), change], axis=1)
    scores, weights, score = _carbon_score(config, x)
    cutoffs = np.asarray(config.colour_min_scores)
    by_score = np.where(np.isnan(score), -1, (score[:, None] < cutoffs[None, :]).sum(axis=1))
    capped = np.maximum(by_score, config.cap_table()[grade])
    label_i = _column(label_intensity, n)
    label_bounds = (config.label_low_max, config.label_medium_max)
    label = np.where(np.isnan(label_i), -1, np.searchsorted(label_bounds, label_i, side="left"))
    comp = np.where(np.isnan(_column(completeness, n)), 1.0, _column(completeness, n))
    return GradeBatch(
        intensity=i,
        k=k,
        carbon_efficiency=grade.astype(np.int8),
        label_intensity=label_i,
        carbon_label=label.astype(np.int8),
        dimension_x=x,
        dimension_scores=scores,
        weights_used=weights,
        score=score,
        colour_by_score=by_score.astype(np.int8),
        colour=np.where(by_score < 0, -1, capped).astype(np.int8),
        completeness=comp,
        provisional=is_provisional(comp, config.quality),
    )


# --------------------------------------------------------------------------- one entity


@dataclass(frozen=True)
class DimensionResult:
    """One dimension of one entity."""

    x: float | None
    score: float | None
    """Sub-score 0-100."""
    weight: float
    """Weight used after renormalisation (0 when the dimension is missing)."""


@dataclass(frozen=True)
class Grade:
    """The grade of one entity."""

    carbon_efficiency: int | None
    k: float | None
    carbon_label: CarbonLabel | None
    colour: Colour | None
    score: float | None
    provisional: bool
    reasons: tuple[Reason, ...]
    dimensions: Mapping[str, DimensionResult]
    grading_version: str


def _opt(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def grade_at(batch: GradeBatch, i: int, config: GradingConfig) -> Grade:
    """The :class:`Grade` of entity ``i`` of ``batch``, with its reasons."""
    dims = {
        name: DimensionResult(
            _opt(batch.dimension_x[i, j]),
            _opt(batch.dimension_scores[i, j]),
            float(batch.weights_used[i, j]),
        )
        for j, name in enumerate(DIMENSIONS)
    }
    grade = int(batch.carbon_efficiency[i])
    label = int(batch.carbon_label[i])
    colour = int(batch.colour[i])
    return Grade(
        carbon_efficiency=grade or None,
        k=_opt(batch.k[i]),
        carbon_label=LABELS[label] if label >= 0 else None,
        colour=COLOURS[colour] if colour >= 0 else None,
        score=_opt(batch.score[i]),
        provisional=bool(batch.provisional[i]),
        reasons=grade_reasons(batch, i, config),
        dimensions=dims,
        grading_version=config.version,
    )


def grade_one(
    config: GradingConfig,
    intensity: float | None,
    *,
    benchmark: float | None = None,
    regional_intensity: float | None = None,
    previous_intensity: float | None = None,
    label_intensity: float | None = None,
    completeness: float = 1.0,
) -> Grade:
    """Grade one entity (a convenience wrapper over :func:`grade_batch`)."""

    def arr(v: float | None) -> FloatArray:
        return np.array([np.nan if v is None else v], dtype=np.float64)

    batch = grade_batch(
        config,
        arr(intensity),
        benchmark=arr(benchmark),
        regional_intensity=arr(regional_intensity),
        previous_intensity=arr(previous_intensity),
        label_intensity=arr(label_intensity),
        completeness=arr(completeness),
    )
    return grade_at(batch, 0, config)
