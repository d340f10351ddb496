"""Account, project and carbon columns of the synthetic loan history (what backtests replay).

:func:`finance_engine.synth.loans.generate_loan_history` appends these columns to every history.
They are drawn from a random stream of their own (seeded from the history's seed), so the columns
that existed before them (features, terms, outcomes) are unchanged by their presence.

Ground truth (design values, not statistics of Quzhou or of any bank):

- ``sector`` is ``industry`` (the histories are industrial loan applications); ``industry_code``
  is a GB/T 4754-2017 class drawn by the synthetic city's industry shares
  (:data:`finance_engine.synth.industries.INDUSTRIES`), plus 1% coal mining (B0610), 2% coking
  (C2521) and 2% unknown (empty) so that product exclusions are exercised.
- Data quality follows :mod:`accounting.quality` with the packaged grading configuration:
  ``quality_tier`` from completeness (metered data) and ``provisional`` below 90% completeness.
- Open alerts: each of the ``alert_count_12m`` open alerts is critical with probability 0.2.
- ``account_period_end``: the account graded is the previous calendar year's (31 December).
- Emissions: ``revenue x value-added ratio x industry intensity x K`` (tCO2e a year; K is the
  graded ``k_ratio``, 1 without an account); the year before,
  ``emissions / ((1 + trend / 100) (1 + growth))`` with output growth ~ N(4%, 6%).
- ``equity_plus_debt_yuan`` (PCAF's denominator for business loans): total assets = revenue /
  asset turnover, turnover ~ lognormal (median 0.8, log-sd 0.4), in whole 10k yuan.
- ``pcaf_data_quality`` (PCAF score, 1 best .. 5 worst, domain.md section 4.2): 2 for emissions
  computed from metered energy data, 3 when the grade is provisional, 4 for borrowers without a
  carbon account (emissions estimated from revenue).
- Project metrics some adjustments test: 40% of applications declare the project's yearly
  emission cut (lognormal, median 300 tCO2e); 30% declare a renewable electricity share
  (uniform 0-80%). Empty when not declared.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from accounting.grading import DEFAULT_GRADING_CONFIG, load_grading_config
from accounting.quality import is_provisional, quality_tier
from finance_engine.synth.industries import INDUSTRIES

FloatArray = NDArray[np.float64]
STREAM = 0xB7C4
"""Second word of the seed of this module's random stream (the first is the history's seed)."""
EXTRA_CODES: tuple[tuple[str, float, float, float], ...] = (
    ("B0610", 0.01, 4.0, 0.35),
    ("C2521", 0.02, 5.0, 0.20),
)
"""(code, share, tCO2/10k yuan value added, value-added ratio) of industries some products
exclude (coal mining, coking): design values."""
UNKNOWN_INDUSTRY_SHARE = 0.02
CRITICAL_ALERT_SHARE = 0.2

EXTRA_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("sector", "str", "Borrower's sector (accounting.vocab.Sector)."),
    ("industry_code", "str", "GB/T 4754-2017 class code; empty when unknown."),
    ("quality_tier", "float", "Data-quality tier 1 (best) .. 5; empty = no carbon account."),
    ("provisional", "float", "1 if the grade is provisional, else 0; empty = no account."),
    ("open_critical_alerts", "float", "Open critical alerts [count]; empty = no account."),
    ("open_warning_alerts", "float", "Open warning alerts [count]; empty = no account."),
    ("account_period_end", "date", "Last day of the graded account period; empty = none."),
    ("emissions_tco2e", "float", "Borrower's yearly scope 1+2 emissions [tCO2e]."),
    ("emissions_prior_tco2e", "float", "The same, the year before [tCO2e]; empty = unknown."),
    ("equity_plus_debt_yuan", "money", "Borrower's total equity + debt (PCAF denominator), yuan."),
    ("pcaf_data_quality", "int", "PCAF data-quality score of the emissions, 1 (best) .. 5."),
    ("emissions_cut_tco2e", "float", "Declared yearly cut of the project [tCO2e]; empty = none."),
    ("renewable_share_pct", "float", "Declared renewable electricity share [%]; empty = none."),
)
"""(name, kind, description) of the columns added to the history schema."""


def _industries(
    rng: np.random.Generator, n: int
) -> tuple[NDArray[np.str_], FloatArray, FloatArray]:
    """Industry code, intensity (tCO2/10k yuan VA) and value-added ratio of each application."""
    known = 1.0 - UNKNOWN_INDUSTRY_SHARE - sum(extra[1] for extra in EXTRA_CODES)
    total = sum(profile.share for profile in INDUSTRIES)
    codes = [p.code for p in INDUSTRIES] + [e[0] for e in EXTRA_CODES] + [""]
    shares = [known * p.share / total for p in INDUSTRIES] + [e[1] for e in EXTRA_CODES]
    shares.append(UNKNOWN_INDUSTRY_SHARE)
    intensity = [p.intensity_tco2_per_10k_yuan for p in INDUSTRIES] + [e[2] for e in EXTRA_CODES]
    ratio = [p.value_added_ratio for p in INDUSTRIES] + [e[3] for e in EXTRA_CODES]
    mean_intensity = float(
        np.average(intensity[: len(INDUSTRIES)], weights=shares[: len(INDUSTRIES)])
    )
    intensity.append(mean_intensity)
    ratio.append(0.25)
    pick = rng.choice(len(codes), size=n, p=np.asarray(shares) / sum(shares))
    return (
        np.asarray(codes)[pick],
        np.asarray(intensity, dtype=np.float64)[pick],
        np.asarray(ratio, dtype=np.float64)[pick],
    )


def _account_columns(
    rng: np.random.Generator, columns: dict[str, NDArray[np.generic]]
) -> dict[str, NDArray[np.generic]]:
    completeness = np.asarray(columns["data_completeness"], dtype=np.float64)
    has_account = ~np.isnan(completeness)
    config = load_grading_config(DEFAULT_GRADING_CONFIG).quality
    filled = np.where(has_account, completeness, 1.0)
    tier = quality_tier(filled, True, config).astype(np.float64)
    provisional = is_provisional(filled, config).astype(np.float64)
    alerts = np.nan_to_num(np.asarray(columns["alert_count_12m"], dtype=np.float64)).astype(
        np.int64
    )
    critical = rng.binomial(alerts, CRITICAL_ALERT_SHARE).astype(np.float64)
    dates = np.asarray(columns["application_date"]).astype("datetime64[D]")
    year_start = dates.astype("datetime64[Y]").astype("datetime64[D]")
    period_end = np.where(has_account, year_start - np.timedelta64(1, "D"), np.datetime64("NaT"))
    nan = np.nan
    return {
        "quality_tier": np.where(has_account, tier, nan),
        "provisional": np.where(has_account, provisional, nan),
        "open_critical_alerts": np.where(has_account, critical, nan),
        "open_warning_alerts": np.where(has_account, alerts - critical, nan),
        "account_period_end": period_end.astype("datetime64[D]"),
        "pcaf_data_quality": np.where(has_account, np.where(provisional > 0, 3, 2), 4).astype(
            np.int64
        ),
    }


def _emission_columns(
    rng: np.random.Generator,
    columns: dict[str, NDArray[np.generic]],
    intensity: FloatArray,
    va_ratio: FloatArray,
) -> dict[str, NDArray[np.generic]]:
    n = intensity.shape[0]
    revenue = np.asarray(columns["revenue_10k_yuan"], dtype=np.float64)
    k = np.nan_to_num(np.asarray(columns["k_ratio"], dtype=np.float64), nan=1.0)
    trend = np.asarray(columns["intensity_trend_pct"], dtype=np.float64)
    emissions = np.round(revenue * va_ratio * intensity * k, 1)
    growth = rng.normal(0.04, 0.06, n)
    prior = np.round(emissions / ((1.0 + trend / 100.0) * (1.0 + growth)), 1)
    turnover = np.exp(np.log(0.8) + 0.4 * rng.standard_normal(n))
    assets_10k = np.maximum(np.round(revenue / turnover), 1.0)
    return {
        "emissions_tco2e": emissions,
        "emissions_prior_tco2e": prior,
        "equity_plus_debt_fen": (assets_10k * 1_000_000).astype(np.int64),
    }


def _project_columns(rng: np.random.Generator, n: int) -> dict[str, NDArray[np.generic]]:
    cut = np.round(np.exp(np.log(300.0) + 1.0 * rng.standard_normal(n)), 1)
    share = np.round(rng.uniform(0.0, 80.0, n), 1)
    return {
        "emissions_cut_tco2e": np.where(rng.random(n) < 0.4, cut, np.nan),
        "renewable_share_pct": np.where(rng.random(n) < 0.3, share, np.nan),
    }


def carbon_columns(
    seed: int, columns: dict[str, NDArray[np.generic]]
) -> dict[str, NDArray[np.generic]]:
    """The :data:`EXTRA_COLUMNS` of a history from its existing columns (money as ``*_fen``).

    Parameters
    ----------
    seed
        The history's seed; this module draws from ``default_rng([seed, STREAM])``.
    columns
        The history's columns so far: ``application_date`` and the feature columns.
    """
    rng = np.random.default_rng([seed, STREAM])
    n = int(np.asarray(columns["application_date"]).shape[0])
    codes, intensity, va_ratio = _industries(rng, n)
    return {
        "sector": np.full(n, "industry"),
        "industry_code": codes,
        **_account_columns(rng, columns),
        **_emission_columns(rng, columns, intensity, va_ratio),
        **_project_columns(rng, n),
    }
