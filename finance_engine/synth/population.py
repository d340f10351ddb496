"""Firms of the synthetic city: who they are, their value added, emissions and trend.

Intensities are spread around each industry's design median (the synthetic industry benchmark,
:data:`~finance_engine.synth.industries.INDUSTRIES`) so that every Zhejiang carbon-efficiency grade
occurs: K = firm intensity ÷ industry median is lognormal (log-space σ = 0.55, giving grades 1-5 to
about 18 / 17 / 29 / 27 / 10 % of firms), drawn by stratified sampling over the whole city (so even
a small city reaches both tails) and shuffled over the firms. Energy producers use σ = 0.3. The
year-on-year intensity change is stratified normal too (mean −3 %, σ 10 %).

Graded against benchmarks computed from a small city's own firms (the median of two or three
firms of an industry) K is compressed towards 1; the design medians are the benchmarks that
reproduce the intended spread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from statistics import NormalDist

import numpy as np
from numpy.typing import NDArray

from accounting.energy import EnergyType
from accounting.vocab import Sector
from finance_engine.synth.industries import (
    COUNTIES,
    INDUSTRIES,
    PRODUCERS,
    IndustryProfile,
    ProducerProfile,
)

K_SIGMA = 0.55
"""Log-space spread of firm intensity around the industry median."""
PRODUCER_K_SIGMA = 0.30
"""The same for energy producers (physically narrower)."""
TREND_MEAN, TREND_SIGMA = -0.03, 0.10
"""Year-on-year relative change of intensity."""


@dataclass(frozen=True)
class EntitySpec:
    """A firm of the city (maps to the ``entity`` table)."""

    id: str
    name: str
    sector: Sector
    industry_code: str
    region: str
    metered: bool
    """True if its energy is metered at 15 minutes; otherwise it declares yearly totals."""
    has_pv: bool


@dataclass(frozen=True)
class ActivitySpec:
    """A firm's activity data for the year and the year before, with the intended intensity.

    ``intensity`` is what an account computed from the firm's meters (or declared totals) with
    the design factors must give: tCO2 per 10k yuan value added for industry; per MWh or GJ
    supplied for energy producers (``intensity_unit``).
    """

    entity_id: str
    year: int
    value_added_10k_yuan: Decimal
    output_value_10k_yuan: Decimal
    previous_value_added_10k_yuan: Decimal
    previous_output_value_10k_yuan: Decimal
    emissions_tco2e: float
    intensity: float
    intensity_unit: str
    previous_intensity: float
    electricity_supplied_mwh: float | None = None
    heat_supplied_gj: float | None = None


@dataclass(frozen=True)
class FirmPlan:
    """Everything the meter builder needs about one firm."""

    entity: EntitySpec
    activity: ActivitySpec
    mix: Mapping[EnergyType, float]
    shifts: int
    summer: float
    winter: float
    pv_self_fraction: float
    """Share of the firm's electricity use covered by its own PV (0 without PV)."""
    pv_export_ratio: float
    """PV exported ÷ PV self-consumed."""


def _money(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


def stratified_normal(rng: np.random.Generator, n: int) -> NDArray[np.float64]:
    """``n`` standard normal draws, one from each of ``n`` equal-probability strata, shuffled."""
    u = (rng.permutation(n) + rng.random(n)) / max(n, 1)
    inv = NormalDist().inv_cdf
    return np.array([inv(min(max(x, 1e-9), 1 - 1e-9)) for x in u])


def allocate(total: int, shares: list[float]) -> NDArray[np.int64]:
    """Split ``total`` by ``shares`` (largest remainder); every share gets one if total allows."""
    raw = np.asarray(shares) * total
    counts: NDArray[np.int64] = np.floor(raw).astype(np.int64)
    if total >= len(shares):
        counts = np.maximum(counts, 1)
    while counts.sum() > total:  # only after the minimum of one: take from the largest
        counts[np.argmax(counts)] -= 1
    order = np.argsort(-(raw - np.floor(raw)), kind="stable")
    counts[order[: total - counts.sum()]] += 1
    return counts


def plan_industry(
    rng: np.random.Generator, n_firms: int, metered_share: float, year: int
) -> list[FirmPlan]:
    """Industrial firms ``IND-0001`` ... spread over :data:`INDUSTRIES`."""
    counts = allocate(n_firms, [p.share for p in INDUSTRIES])
    profile_of = np.repeat(np.arange(len(INDUSTRIES)), counts)
    draws = {
        "relative": np.exp(K_SIGMA * stratified_normal(rng, n_firms)),
        "trend": TREND_MEAN + TREND_SIGMA * stratified_normal(rng, n_firms),
        "value_added": np.array(
            [INDUSTRIES[i].value_added_median_10k_yuan for i in profile_of], dtype=np.float64
        )
        * np.exp(0.9 * rng.standard_normal(n_firms)),
    }
    weight = np.sqrt(draws["value_added"])
    metered = np.zeros(n_firms, dtype=bool)
    chosen = rng.choice(
        n_firms, round(n_firms * metered_share), replace=False, p=weight / weight.sum()
    )
    metered[chosen] = True
    draws["county"] = rng.choice(len(COUNTIES), size=n_firms, p=[w for _, w in COUNTIES])
    draws["growth"] = 0.05 + 0.08 * rng.standard_normal(n_firms)
    draws["pv_draw"] = rng.random(n_firms)
    draws["pv_fraction"] = rng.uniform(0.05, 0.2, n_firms)
    draws["export"] = rng.uniform(0.2, 0.6, n_firms)
    return [  # one record per firm (thousands), not per reading
        _industry_plan(rng, i, INDUSTRIES[profile_of[i]], bool(metered[i]), draws, year)
        for i in range(n_firms)
    ]


def _industry_plan(
    rng: np.random.Generator,
    i: int,
    profile: IndustryProfile,
    metered: bool,
    draws: Mapping[str, NDArray[np.float64]],
    year: int,
) -> FirmPlan:
    has_pv = bool(draws["pv_draw"][i] < profile.pv_probability)
    entity = EntitySpec(
        id=f"IND-{i + 1:04d}",
        name=f"Quzhou {profile.name} firm {i + 1:04d}",
        sector=Sector.INDUSTRY,
        industry_code=profile.code,
        region=COUNTIES[int(draws["county"][i])][0],
        metered=metered,
        has_pv=has_pv,
    )
    activity = _industry_activity(
        entity.id, profile, year, *(float(draws[k][i]) for k in _ACTIVITY_DRAWS)
    )
    return FirmPlan(
        entity=entity,
        activity=activity,
        mix=_jitter(rng, profile.mix),
        shifts=profile.shifts,
        summer=profile.summer_cooling,
        winter=profile.winter_heating,
        pv_self_fraction=float(draws["pv_fraction"][i]) if has_pv else 0.0,
        pv_export_ratio=float(draws["export"][i]),
    )


_ACTIVITY_DRAWS = ("value_added", "relative", "trend", "growth")


def _industry_activity(
    entity_id: str,
    profile: IndustryProfile,
    year: int,
    value_added: float,
    relative: float,
    trend: float,
    growth: float,
) -> ActivitySpec:
    intensity = profile.intensity_tco2_per_10k_yuan * relative
    output = value_added / profile.value_added_ratio
    previous_va = value_added / (1.0 + growth)
    return ActivitySpec(
        entity_id=entity_id,
        year=year,
        value_added_10k_yuan=_money(value_added),
        output_value_10k_yuan=_money(output),
        previous_value_added_10k_yuan=_money(previous_va),
        previous_output_value_10k_yuan=_money(previous_va / profile.value_added_ratio),
        emissions_tco2e=intensity * float(_money(value_added)),
        intensity=intensity,
        intensity_unit="tCO2/10k yuan value added",
        previous_intensity=intensity / (1.0 + max(trend, -0.5)),
    )


def _jitter(rng: np.random.Generator, mix: Mapping[EnergyType, float]) -> dict[EnergyType, float]:
    """The industry's emission mix varied per firm (lognormal factor, renormalised)."""
    types = list(mix)
    raw = np.array([mix[t] for t in types]) * np.exp(0.2 * rng.standard_normal(len(types)))
    shares = raw / raw.sum()
    return {t: float(s) for t, s in zip(types, shares, strict=True)}


def plan_producers(rng: np.random.Generator, n_producers: int, year: int) -> list[FirmPlan]:
    """Energy producers ``ENE-001`` ... spread over :data:`PRODUCERS` (all metered)."""
    counts = allocate(n_producers, [p.share for p in PRODUCERS])
    profile_of = np.repeat(np.arange(len(PRODUCERS)), counts)
    relative = np.exp(PRODUCER_K_SIGMA * stratified_normal(rng, n_producers))
    trend = TREND_MEAN + TREND_SIGMA * stratified_normal(rng, n_producers)
    county = rng.choice(len(COUNTIES), size=n_producers, p=[w for _, w in COUNTIES])
    supplied_noise = rng.standard_normal(n_producers)
    growth = 0.03 + 0.05 * rng.standard_normal(n_producers)
    plans = []
    for i in range(n_producers):
        profile = PRODUCERS[profile_of[i]]
        supplied = profile.supplied_median * float(
            np.exp(profile.supplied_sigma * supplied_noise[i])
        )
        entity = EntitySpec(
            id=f"ENE-{i + 1:03d}",
            name=f"Quzhou {profile.name} plant {i + 1:03d}",
            sector=Sector.ENERGY,
            industry_code=profile.code,
            region=COUNTIES[county[i]][0],
            metered=True,
            has_pv=False,
        )
        activity = _producer_activity(
            entity.id,
            profile,
            year,
            supplied,
            float(relative[i]),
            float(trend[i]),
            float(growth[i]),
        )
        summer = 0.15 if profile.heat_share < 1 else 0.0
        winter = 0.35 if profile.heat_share > 0 else 0.10
        plans.append(FirmPlan(entity, activity, dict(profile.mix), 3, summer, winter, 0.0, 0.0))
    return plans


def _producer_activity(
    entity_id: str,
    profile: ProducerProfile,
    year: int,
    supplied: float,
    relative: float,
    trend: float,
    growth: float,
) -> ActivitySpec:
    """``supplied`` is in the unit of the intensity's denominator (MWh, or GJ of all energy)."""
    intensity = profile.intensity * relative
    electricity_mwh: float | None = supplied
    heat_gj: float | None = None
    if profile.intensity_unit != "tCO2/MWh":
        heat_gj = supplied * profile.heat_share
        electricity_mwh = supplied * (1.0 - profile.heat_share) / 3.6 or None
    value_added = supplied * profile.value_added_per_unit_10k_yuan
    return ActivitySpec(
        entity_id=entity_id,
        year=year,
        value_added_10k_yuan=_money(value_added),
        output_value_10k_yuan=_money(value_added / 0.3),
        previous_value_added_10k_yuan=_money(value_added / (1.0 + growth)),
        previous_output_value_10k_yuan=_money(value_added / (1.0 + growth) / 0.3),
        emissions_tco2e=intensity * supplied,
        intensity=intensity,
        intensity_unit=profile.intensity_unit,
        previous_intensity=intensity / (1.0 + max(trend, -0.5)),
        electricity_supplied_mwh=electricity_mwh,
        heat_supplied_gj=heat_gj,
    )
