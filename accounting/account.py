"""Carbon accounts of all sectors but residents: emissions -> intensity -> grade.

Industrial firms and energy producers are accounted from energy totals and activity
denominators; buildings, road transport firms and farms carry a sector input
(:attr:`AccountInput.sector_data`) whose method (:mod:`accounting.sectors`) adds non-energy lines,
sinks and its own intensity metrics (see :mod:`accounting.account_sectors`).

:func:`compute_accounts` computes many accounts with the vectorised primitives
(:func:`accounting.emissions.emissions_batch`, :func:`accounting.grading.grade_batch`,
:func:`accounting.quality.quality_tier`); :func:`compute_account` is the one-entity form, and
:func:`account_to_dict` renders an account as JSON-ready data (what the shell stores).

Intensity metrics and the primary (graded) metric per sector: :mod:`accounting.intensity`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from accounting.account_render import account_to_dict
from accounting.account_sectors import (
    benchmark_group,
    sector_results,
    with_sector_lines,
    with_sector_reasons,
)
from accounting.benchmarks import BenchmarkSet, aggregate_intensity_by_group
from accounting.emissions import (
    ACCOUNTING_UNIT,
    COLUMN_INDEX,
    EMISSION_COLUMNS,
    Emissions,
    EnergyTotal,
    emissions_at,
    emissions_batch,
    factor_matrix,
    factor_records,
    line_emissions,
    to_accounting_quantity,
)
from accounting.energy import EnergyType
from accounting.factors import DEFAULT_GRID_REGION, FactorSet
from accounting.grading import Grade, GradeBatch, GradingConfig, grade_at, grade_batch
from accounting.intensity import (
    VALUE_ADDED,
    Activity,
    Intensity,
    Product,
    compute_intensities,
)
from accounting.quality import quality_tier
from accounting.sector_lines import SectorResult
from accounting.sectors import SectorData, SectorParameters, check_sector_data, sector_energy
from accounting.vocab import Sector

__all__ = [
    "SUPPORTED_SECTORS",
    "AccountInput",
    "Activity",
    "BenchmarkRef",
    "CarbonAccountResult",
    "DataQuality",
    "EnergyLine",
    "EntityRef",
    "Intensity",
    "Period",
    "Product",
    "SectorData",
    "SectorResult",
    "account_to_dict",
    "compute_account",
    "compute_accounts",
    "compute_intensities",
]

SUPPORTED_SECTORS: frozenset[Sector] = frozenset(
    {Sector.INDUSTRY, Sector.ENERGY, Sector.BUILDING, Sector.TRANSPORT, Sector.AGRICULTURE}
)
"""Sectors :func:`compute_accounts` accounts (residents have their own path)."""


@dataclass(frozen=True)
class EntityRef:
    """The account holder."""

    id: str
    name: str
    sector: Sector
    industry_code: str = ""
    """GB/T 4754 industry code."""
    region: str = ""
    grid_region: str = ""
    """Grid-factor region of the factor set; empty means national."""


@dataclass(frozen=True)
class Period:
    """An accounting period of local dates, both inclusive."""

    start: date
    end: date

    @property
    def days(self) -> int:
        """Days in the period (inclusive of both ends)."""
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class BenchmarkRef:
    """The benchmark an account was graded against (same unit as the primary intensity)."""

    value: float
    version: str
    source: str
    metric: str = VALUE_ADDED
    level: str | None = None
    n: int | None = None


@dataclass(frozen=True)
class DataQuality:
    """Completeness and quality tier of the energy data behind an account."""

    completeness: float
    tier: int
    metered: bool
    """True when totals come from meter readings, False for declared totals."""
    received_intervals: int | None = None
    expected_intervals: int | None = None


@dataclass(frozen=True)
class EnergyLine:
    """One energy total as given and as accounted (steam in t is converted to GJ)."""

    energy_type: str
    meter: str | None
    quantity: float
    unit: str
    accounting_quantity: float
    accounting_unit: str


@dataclass(frozen=True)
class _EntityEmissions:
    emissions: Emissions
    by_meter: dict[str, float]
    lines: tuple[EnergyLine, ...]
    totals: dict[str, float]


@dataclass(frozen=True)
class AccountInput:
    """Everything one account needs besides the factor set and grading rules."""

    entity: EntityRef
    period: Period
    energy: tuple[EnergyTotal, ...]
    activity: Activity
    benchmark: BenchmarkRef | None = None
    regional_intensity: float | None = None
    previous_intensity: float | None = None
    completeness: float = 1.0
    metered: bool = False
    received_intervals: int | None = None
    expected_intervals: int | None = None
    sector_data: SectorData | None = None
    """The sector input of a building, transport or agriculture account (None otherwise)."""


@dataclass(frozen=True)
class CarbonAccountResult:
    """A graded carbon account of one entity for one period."""

    entity: EntityRef
    period: Period
    activity: Activity
    energy_lines: tuple[EnergyLine, ...]
    energy_quantities: Mapping[str, float]
    """Totals per energy type in accounting units (:data:`accounting.emissions.ACCOUNTING_UNIT`)."""
    emissions: Emissions
    emissions_by_meter_tco2e: Mapping[str, float]
    intensity: Intensity
    grade: Grade
    data_quality: DataQuality
    factor_set_version: str
    factor_set_sha256: str
    benchmark: BenchmarkRef | None
    regional_intensity: float | None
    previous_intensity: float | None
    grading_version: str
    sector: SectorResult | None = None
    """The sector method's part (lines, sinks, net, labels...), None for industry and energy."""


def compute_accounts(
    inputs: Sequence[AccountInput],
    factor_set: FactorSet,
    grading: GradingConfig,
    *,
    benchmark_set: BenchmarkSet | None = None,
    regional_from_population: bool = False,
    sector_parameters: SectorParameters | None = None,
) -> list[CarbonAccountResult]:
    """Compute and grade many accounts; grading and data quality run vectorised.

    Parameters
    ----------
    benchmark_set
        Used (fallback industry+region -> industry -> sector) for inputs without a benchmark.
    regional_from_population
        For inputs without a regional intensity, use Σ emissions ÷ Σ denominator of the inputs
        sharing the entity's region and primary metric.
    sector_parameters
        Sector method data; None uses the packaged files (only read when a sector input exists).
    """
    for item in inputs:
        if item.entity.sector not in SUPPORTED_SECTORS:
            raise ValueError(f"sector {item.entity.sector.value!r} is not supported yet")
        check_sector_data(item.entity.sector, item.sector_data)
    emissions = _emissions_all(inputs, factor_set)
    sectors = sector_results(inputs, [e.emissions for e in emissions], sector_parameters)
    emissions = [
        replace(e, emissions=with_sector_lines(e.emissions, s))
        for e, s in zip(emissions, sectors, strict=True)
    ]
    intensities = [
        s.intensity
        if s is not None
        else compute_intensities(i.entity.sector, e.emissions.total_tco2e, i.activity)
        for i, e, s in zip(inputs, emissions, sectors, strict=True)
    ]
    benchmarks = [
        _benchmark(i, m.primary.metric, benchmark_set, s)
        for i, m, s in zip(inputs, intensities, sectors, strict=True)
    ]
    regional = _regional(inputs, intensities, regional_from_population)
    batch = _grade_all(inputs, intensities, benchmarks, regional, grading)
    tiers = quality_tier(
        batch.completeness, np.array([i.metered for i in inputs], dtype=bool), grading.quality
    )
    return [
        _result(
            item,
            emissions[j],
            intensities[j],
            with_sector_reasons(grade_at(batch, j, grading), sectors[j]),
            int(tiers[j]),
            benchmarks[j],
            _opt(regional[j]),
            factor_set,
            grading,
            sectors[j],
        )
        for j, item in enumerate(inputs)  # assembling result objects, one per entity
    ]


def _grade_all(
    inputs: Sequence[AccountInput],
    intensities: list[Intensity],
    benchmarks: list[BenchmarkRef | None],
    regional: np.ndarray,
    grading: GradingConfig,
) -> GradeBatch:
    return grade_batch(
        grading,
        _floats([m.primary.value for m in intensities]),
        benchmark=_floats([None if b is None else b.value for b in benchmarks]),
        regional_intensity=regional,
        previous_intensity=_floats([i.previous_intensity for i in inputs]),
        label_intensity=_floats([_va(m) for m in intensities]),
        completeness=np.array([i.completeness for i in inputs], dtype=np.float64),
    )


def compute_account(
    item: AccountInput,
    factor_set: FactorSet,
    grading: GradingConfig,
    *,
    benchmark_set: BenchmarkSet | None = None,
    sector_parameters: SectorParameters | None = None,
) -> CarbonAccountResult:
    """Compute and grade one account (see :func:`compute_accounts`)."""
    return compute_accounts(
        [item],
        factor_set,
        grading,
        benchmark_set=benchmark_set,
        sector_parameters=sector_parameters,
    )[0]


def _emissions_all(inputs: Sequence[AccountInput], factor_set: FactorSet) -> list[_EntityEmissions]:
    """Emissions of all inputs in one vectorised pass (totals matrix, per-line meter shares)."""
    lines = [_energy_lines(item, factor_set) for item in inputs]
    entity_idx = np.array([j for j, ls in enumerate(lines) for _ in ls], dtype=np.int64)
    flat = [line for ls in lines for line in ls]
    columns = np.array([COLUMN_INDEX[EnergyType(x.energy_type)] for x in flat], dtype=np.int64)
    qty = np.array([x.accounting_quantity for x in flat], dtype=np.float64)
    matrix = np.zeros((len(inputs), len(EMISSION_COLUMNS)))
    np.add.at(matrix, (entity_idx, columns), qty)
    regions = [item.entity.grid_region or DEFAULT_GRID_REGION for item in inputs]
    factors = factor_matrix(factor_set, regions)
    batch = emissions_batch(matrix, factors)
    per_line = line_emissions(entity_idx, columns, qty, matrix, factors)
    records = {r: factor_records(factor_set, r) for r in set(regions)}
    out: list[_EntityEmissions] = []
    start = 0
    for j, ls in enumerate(lines):  # assembling one result per entity
        by_meter: dict[str, float] = {}
        totals: dict[str, float] = {}
        for line, value in zip(ls, per_line[start : start + len(ls)], strict=True):
            totals[line.energy_type] = totals.get(line.energy_type, 0.0) + line.accounting_quantity
            if line.meter:
                by_meter[line.meter] = by_meter.get(line.meter, 0.0) + float(value)
        start += len(ls)
        present = [EnergyType(t) for t in totals]
        emissions = emissions_at(batch, j, present, records[regions[j]])
        out.append(_EntityEmissions(emissions, by_meter, ls, totals))
    return out


def _energy_lines(item: AccountInput, factor_set: FactorSet) -> tuple[EnergyLine, ...]:
    return tuple(
        EnergyLine(
            t.energy_type.value,
            t.meter,
            t.quantity,
            t.unit,
            to_accounting_quantity(t, factor_set),
            ACCOUNTING_UNIT[t.energy_type],
        )
        for t in (*item.energy, *sector_energy(item.sector_data))  # a handful per entity
    )


def _va(intensity: Intensity) -> float | None:
    metric = intensity.get(VALUE_ADDED)
    return None if metric is None else metric.value


def _floats(values: Sequence[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _opt(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def _benchmark(
    item: AccountInput,
    metric: str,
    benchmark_set: BenchmarkSet | None,
    sector: SectorResult | None,
) -> BenchmarkRef | None:
    if item.benchmark is not None or benchmark_set is None:
        return item.benchmark
    found = benchmark_set.lookup(*benchmark_group(item.entity, sector), metric)
    if found is None:
        return None
    return BenchmarkRef(found.value, found.version, found.source, metric, found.level, found.n)


def _regional(
    inputs: Sequence[AccountInput],
    intensities: list[Intensity],
    from_population: bool,
) -> np.ndarray:
    given = _floats([i.regional_intensity for i in inputs])
    if not from_population or not inputs:
        return given
    groups = [
        f"{i.entity.region}|{m.primary.metric}" for i, m in zip(inputs, intensities, strict=True)
    ]
    # the numerator of each primary metric (emissions for industry; kgCO2 annualised net of
    # sinks for buildings, kgCO2 x 100 for transport...), so the aggregate is in the same unit
    totals = [
        np.nan if m.primary.value is None else m.primary.value * (m.primary.denominator or 0.0)
        for m in intensities
    ]
    dens = _floats([m.primary.denominator for m in intensities])
    computed = aggregate_intensity_by_group(groups, totals, dens)
    return np.where(np.isnan(given), computed, given)


def _result(
    item: AccountInput,
    em: _EntityEmissions,
    intensity: Intensity,
    grade: Grade,
    tier: int,
    benchmark: BenchmarkRef | None,
    regional: float | None,
    factor_set: FactorSet,
    grading: GradingConfig,
    sector: SectorResult | None,
) -> CarbonAccountResult:
    quality = DataQuality(
        item.completeness, tier, item.metered, item.received_intervals, item.expected_intervals
    )
    return CarbonAccountResult(
        entity=item.entity,
        period=item.period,
        activity=item.activity,
        energy_lines=em.lines,
        energy_quantities=em.totals,
        emissions=em.emissions,
        emissions_by_meter_tco2e=em.by_meter,
        intensity=intensity,
        grade=grade,
        data_quality=quality,
        factor_set_version=factor_set.version,
        factor_set_sha256=factor_set.sha256,
        benchmark=benchmark,
        regional_intensity=regional,
        previous_intensity=item.previous_intensity,
        grading_version=grading.version,
        sector=sector,
    )
