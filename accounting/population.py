"""City-scale accounting: a whole population's accounts as arrays, in one vectorised pass.

The per-account path (:func:`accounting.account.compute_accounts`) builds explainable result
objects; this path computes the same numbers for every entity at once (emissions, intensity,
population benchmarks, regional aggregate, grade, colour, score, quality tier), for city-year runs
and batch jobs over partitions. Tests check that both paths agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from accounting.benchmarks import BenchmarkSet, aggregate_intensity_by_group, compute_benchmarks
from accounting.emissions import EmissionsBatch, emissions_batch, intensity
from accounting.grading import GradeBatch, GradingConfig, grade_batch
from accounting.quality import quality_tier

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class PopulationAccounts:
    """Accounts of ``n`` entities as arrays (units in the field docs)."""

    emissions: EmissionsBatch
    """tCO2e by type and scope, ``(n, k)`` and ``(n,)``."""
    intensity: FloatArray
    """``(n,)`` primary intensity (emissions ÷ primary denominator)."""
    benchmark: FloatArray
    """``(n,)`` benchmark of the entity's group, same unit; NaN if none."""
    benchmark_set: BenchmarkSet
    regional_intensity: FloatArray
    """``(n,)`` Σ emissions ÷ Σ denominator of the entity's region and metric."""
    grades: GradeBatch
    tier: NDArray[np.int8]
    """``(n,)`` data-quality tier 1-5."""


def account_population(
    quantities: FloatArray,
    factors: FloatArray,
    *,
    denominators: ArrayLike,
    value_added_10k_yuan: ArrayLike,
    sectors: ArrayLike,
    industry_codes: ArrayLike,
    regions: ArrayLike,
    metrics: ArrayLike,
    previous_intensity: ArrayLike,
    completeness: ArrayLike,
    metered: ArrayLike,
    grading: GradingConfig,
    period: str,
    benchmark_set: BenchmarkSet | None = None,
    percentile: float = 50.0,
) -> PopulationAccounts:
    """Account and grade ``n`` entities at once.

    Parameters
    ----------
    quantities
        ``(n, k)`` energy totals in accounting units, columns in
        :data:`accounting.emissions.EMISSION_COLUMNS` order.
    factors
        ``(k,)`` or ``(n, k)`` tCO2 per accounting unit (see
        :func:`~accounting.emissions.factor_matrix`).
    denominators
        ``(n,)`` the primary intensity's denominator (10k yuan value added for industry, MWh
        or GJ supplied for energy producers); NaN where unknown.
    value_added_10k_yuan
        ``(n,)`` for the absolute carbon label; NaN where unknown.
    sectors, industry_codes, regions, metrics
        ``(n,)`` benchmark groups; ``metrics`` names each entity's primary metric.
    previous_intensity, completeness, metered
        ``(n,)`` last period's primary intensity (NaN if none), received ÷ expected intervals,
        and whether the totals come from meters.
    benchmark_set
        Benchmarks to grade against; None computes them from this population (``percentile``).
    """
    em = emissions_batch(quantities, factors)
    primary = intensity(em.total_tco2e, np.asarray(denominators, dtype=np.float64))
    if benchmark_set is None:
        benchmark_set = compute_benchmarks(
            sectors,
            industry_codes,
            regions,
            metrics,
            primary,
            period=period,
            percentile=percentile,
        )
    bench = _lookup(benchmark_set, sectors, industry_codes, regions, metrics)
    metric_col = np.asarray(metrics, dtype=str)
    regional = aggregate_intensity_by_group(
        np.char.add(np.char.add(np.asarray(regions, dtype=str), "|"), metric_col),
        em.total_tco2e,
        denominators,
    )
    grades = grade_batch(
        grading,
        primary,
        benchmark=bench,
        regional_intensity=regional,
        previous_intensity=previous_intensity,
        label_intensity=intensity(em.total_tco2e, np.asarray(value_added_10k_yuan, dtype=float)),
        completeness=completeness,
    )
    tier = quality_tier(completeness, metered, grading.quality)
    return PopulationAccounts(em, primary, bench, benchmark_set, regional, grades, tier)


def _lookup(
    benchmarks: BenchmarkSet,
    sectors: ArrayLike,
    industry_codes: ArrayLike,
    regions: ArrayLike,
    metrics: ArrayLike,
) -> FloatArray:
    """Benchmarks per entity, looked up once per distinct metric (and group)."""
    metric_col = np.asarray(metrics, dtype=str)
    n = metric_col.shape[0]
    cols = [
        np.broadcast_to(np.asarray(a, dtype=str), (n,)) for a in (sectors, industry_codes, regions)
    ]
    out = np.full(n, np.nan)
    for metric in np.unique(metric_col):  # a handful of metrics, not entities
        rows = metric_col == metric
        sector, code, region = (c[rows] for c in cols)
        out[rows] = benchmarks.lookup_many(sector, code, region, str(metric))[0]
    return out
