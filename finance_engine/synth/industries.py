"""Industry profiles of the synthetic Quzhou-like city (design parameters, not statistics).

Codes are GB/T 4754-2017 industry classes typical of Quzhou's industrial base (fluorine and
other chemicals, cement and building materials, paper, steel and non-ferrous metals, special
equipment, textiles, food, electronics and batteries). Every number here is a **synthetic design
value** [U] chosen to give a plausible spread (energy-related intensities of 0.3-6 tCO2 per 10k
yuan value added; Zhejiang's low/high carbon cut-offs are 0.6 and 2.0, domain.md §1.2); none is a
published statistic of Quzhou or its firms.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from accounting.energy import EnergyType
from accounting.factors import load_factor_set_dir

E = EnergyType


@dataclass(frozen=True)
class IndustryProfile:
    """Design parameters of one industry (industrial firms).

    Attributes
    ----------
    code, name:
        GB/T 4754-2017 class code (letter + 4 digits) and English name.
    share:
        Share of the city's industrial firms (the shares sum to 1).
    intensity_tco2_per_10k_yuan:
        The industry's median energy-related intensity, tCO2 per 10k yuan value added.
    value_added_median_10k_yuan, value_added_sigma:
        Lognormal firm value added: median (10k yuan) and log-space standard deviation.
    value_added_ratio:
        Value added ÷ output value.
    shifts:
        1, 2 or 3 shifts (3 = continuous process), which sets the daily and weekly load shape.
    mix:
        Share of the firm's emissions by energy type (sums to 1).
    pv_probability:
        Chance that a firm has on-site PV.
    summer_cooling, winter_heating:
        Seasonal amplitudes: electricity rises by ``summer_cooling`` at the height of summer;
        gas, steam and heat rise by ``winter_heating`` in midwinter.
    """

    code: str
    name: str
    share: float
    intensity_tco2_per_10k_yuan: float
    value_added_median_10k_yuan: float
    value_added_sigma: float
    value_added_ratio: float
    shifts: int
    mix: Mapping[EnergyType, float]
    pv_probability: float
    summer_cooling: float = 0.10
    winter_heating: float = 0.10


@dataclass(frozen=True)
class ProducerProfile:
    """Design parameters of one kind of energy producer.

    Attributes
    ----------
    code, name, share:
        As for :class:`IndustryProfile` (share of the city's energy producers).
    intensity:
        Median intensity in ``intensity_unit``: tCO2/MWh of electricity supplied, or tCO2/GJ of
        heat supplied, or (combined heat and power) tCO2/GJ of all energy supplied with
        electricity counted at 3.6 GJ/MWh.
    intensity_unit:
        ``tCO2/MWh`` or ``tCO2/GJ``.
    supplied_median, supplied_sigma:
        Lognormal yearly energy supplied, in the unit of the intensity's denominator.
    heat_share:
        Share of supplied energy (GJ) that is heat (0 for power only, 1 for heat only).
    value_added_per_unit_10k_yuan:
        Value added per MWh or GJ supplied, 10k yuan.
    mix:
        Share of emissions by energy type.
    """

    code: str
    name: str
    share: float
    intensity: float
    intensity_unit: str
    supplied_median: float
    supplied_sigma: float
    heat_share: float
    value_added_per_unit_10k_yuan: float
    mix: Mapping[EnergyType, float]


def _mix(**shares: float) -> Mapping[EnergyType, float]:
    total = sum(shares.values())
    return MappingProxyType({EnergyType(k): v / total for k, v in shares.items()})


def _ind(
    code: str,
    name: str,
    share: float,
    intensity: float,
    va: float,
    ratio: float,
    shifts: int,
    mix: Mapping[EnergyType, float],
    pv: float,
    cooling: float = 0.10,
    heating: float = 0.10,
) -> IndustryProfile:
    return IndustryProfile(
        code, name, share, intensity, va, 0.9, ratio, shifts, mix, pv, cooling, heating
    )


# fmt: off
INDUSTRIES: tuple[IndustryProfile, ...] = (
    # code, name, share of firms, tCO2/10k yuan VA, median VA (10k yuan), VA/output, shifts,
    # emission mix, PV probability[, summer cooling, winter heating]
    _ind("C2614", "Organic chemical raw materials (fluorochemicals)", 0.070, 3.5, 9000, 0.25, 3,
         _mix(electricity=0.45, steam=0.30, natural_gas=0.15, raw_coal=0.10), 0.10),
    _ind("C2651", "Synthetic resins (fluoropolymers)", 0.050, 2.0, 7000, 0.24, 3,
         _mix(electricity=0.55, steam=0.30, natural_gas=0.15), 0.12),
    _ind("C2611", "Inorganic acids", 0.030, 2.5, 5000, 0.22, 3,
         _mix(electricity=0.60, steam=0.25, raw_coal=0.15), 0.08),
    _ind("C2631", "Chemical pesticides", 0.030, 1.2, 4000, 0.26, 2,
         _mix(electricity=0.55, steam=0.35, natural_gas=0.10), 0.15),
    _ind("C2710", "Chemical pharmaceutical ingredients", 0.040, 0.8, 4500, 0.35, 3,
         _mix(electricity=0.60, steam=0.30, natural_gas=0.10), 0.20, heating=0.15),
    _ind("C2221", "Machine-made paper and paperboard", 0.070, 2.5, 6000, 0.20, 3,
         _mix(electricity=0.40, steam=0.35, raw_coal=0.15, natural_gas=0.10), 0.15),
    _ind("C3011", "Cement", 0.040, 6.0, 8000, 0.30, 3,
         _mix(raw_coal=0.72, electricity=0.26, diesel=0.02), 0.05, cooling=0.05),
    _ind("C3021", "Concrete products", 0.060, 0.6, 1500, 0.22, 1,
         _mix(electricity=0.70, diesel=0.30), 0.10),
    _ind("C3120", "Steelmaking (electric arc)", 0.020, 3.0, 12000, 0.18, 3,
         _mix(electricity=0.80, natural_gas=0.15, coke=0.05), 0.05, cooling=0.05),
    _ind("C3130", "Steel rolling", 0.040, 1.5, 5000, 0.18, 2,
         _mix(electricity=0.55, natural_gas=0.45), 0.10),
    _ind("C3213", "Nickel and cobalt smelting", 0.020, 2.0, 15000, 0.20, 3,
         _mix(electricity=0.60, natural_gas=0.25, steam=0.15), 0.10),
    _ind("C3311", "Structural metal products", 0.070, 0.45, 1800, 0.22, 1,
         _mix(electricity=0.85, natural_gas=0.10, diesel=0.05), 0.25),
    _ind("C3443", "Valves and cocks", 0.050, 0.30, 1600, 0.25, 1,
         _mix(electricity=0.90, natural_gas=0.10), 0.30),
    _ind("C3511", "Mining machinery (special equipment)", 0.050, 0.35, 2200, 0.24, 1,
         _mix(electricity=0.85, natural_gas=0.10, diesel=0.05), 0.25),
    _ind("C3670", "Automobile parts", 0.060, 0.40, 2500, 0.22, 2,
         _mix(electricity=0.90, natural_gas=0.10), 0.30, cooling=0.15),
    _ind("C3841", "Lithium-ion batteries", 0.040, 0.50, 6000, 0.20, 3,
         _mix(electricity=0.90, steam=0.10), 0.30, cooling=0.15),
    _ind("C3985", "Electronic special materials", 0.050, 0.80, 4000, 0.28, 3,
         _mix(electricity=0.85, natural_gas=0.15), 0.20, cooling=0.15),
    _ind("C1713", "Cotton printing and dyeing", 0.040, 2.2, 2000, 0.20, 2,
         _mix(electricity=0.35, steam=0.55, natural_gas=0.10), 0.15, heating=0.15),
    _ind("C1431", "Rice and flour products", 0.050, 0.50, 1200, 0.25, 1,
         _mix(electricity=0.60, natural_gas=0.35, lpg=0.05), 0.15, cooling=0.15),
    _ind("C2921", "Plastic film", 0.050, 1.0, 2000, 0.20, 3,
         _mix(electricity=0.95, natural_gas=0.05), 0.20, cooling=0.15),
    _ind("C2021", "Plywood", 0.070, 0.70, 1000, 0.22, 1,
         _mix(electricity=0.55, steam=0.35, diesel=0.10), 0.10),
)
"""About 20 industries; ``share`` sums to 1."""

PRODUCERS: tuple[ProducerProfile, ...] = (
    # code, name, share, intensity, unit, median supplied (MWh or GJ), sigma, heat share,
    # VA per unit supplied (10k yuan), emission mix
    ProducerProfile("D4411", "Thermal power (coal-fired)", 0.15, 0.90, "tCO2/MWh",
                    800_000, 0.8, 0.0, 0.010, _mix(raw_coal=0.98, diesel=0.02)),
    ProducerProfile("D4412", "Combined heat and power", 0.35, 0.14, "tCO2/GJ",
                    1_500_000, 0.9, 0.6, 0.0025, _mix(raw_coal=0.70, natural_gas=0.30)),
    ProducerProfile("D4430", "Heat supply", 0.40, 0.075, "tCO2/GJ",
                    300_000, 0.8, 1.0, 0.0018,
                    _mix(natural_gas=0.70, raw_coal=0.25, electricity=0.05)),
    ProducerProfile("D4416", "Solar power", 0.10, 0.010, "tCO2/MWh",
                    30_000, 0.7, 0.0, 0.015, _mix(electricity=1.0)),
)
"""Energy producers; ``share`` sums to 1. Solar farms buy grid power for station service."""
# fmt: on

COUNTIES: tuple[tuple[str, float], ...] = (
    ("Kecheng", 0.18),
    ("Qujiang", 0.28),
    ("Longyou", 0.16),
    ("Jiangshan", 0.16),
    ("Changshan", 0.12),
    ("Kaihua", 0.10),
)
"""Quzhou's districts and counties with a design share of firms."""

METERED_SHARE = 1100 / 2392
"""Share of industrial firms metered at 15 minutes (DESIGN.md: 1,100+ of 2,392)."""
INDUSTRIAL_FIRMS_FULL_SCALE = 2392
PRODUCERS_FULL_SCALE = 97


def design_factors(year: int) -> Mapping[EnergyType, float]:
    """Emission factors, tCO2 per native unit, of the packaged factor set in force on 1 January
    of ``year`` (national grid; steam at the set's default enthalpy; renewables 0).

    The city sizes its meters from these so that the intended intensities come back out of an
    account computed with the same factor set.
    """
    factor_set = load_factor_set_dir().effective_on(date(year, 1, 1))
    return MappingProxyType({t: factor_set.factor(t)[0] for t in EnergyType})


def design_benchmarks() -> dict[str, tuple[float, str]]:
    """The synthetic industry benchmarks: design median intensity and its unit by industry code.

    These are the medians the firms' intensities are spread around; grading the city against
    them reproduces the intended grade spread at any scale.
    """
    out = {p.code: (p.intensity_tco2_per_10k_yuan, "tCO2/10k yuan value added") for p in INDUSTRIES}
    out.update({p.code: (p.intensity, p.intensity_unit) for p in PRODUCERS})
    return out
