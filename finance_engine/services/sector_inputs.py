"""Sector inputs of stored activity records, and the benchmarks of the sector accounts.

Used by :mod:`finance_engine.services.accounts`: the ``building`` / ``transport`` /
``agriculture`` section stored with an activity record becomes the account's sector input
(checked against the sector data files, the period and the energy totals; a record that fails is
skipped with the reason), and a benchmark file that does not cover a sector is completed with the
period's population benchmarks for that sector.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from marshmallow import ValidationError

from accounting.account import AccountInput, CarbonAccountResult
from accounting.account_sectors import benchmark_group
from accounting.benchmarks import BenchmarkSet, compute_benchmarks
from accounting.calc_sectors import SECTION_SCHEMAS, sector_data_from_section, sector_issues
from accounting.energy import EnergyType
from accounting.schema_errors import one_line
from accounting.sectors import SectorData, default_sector_parameters, merge_benchmark_sets
from accounting.vocab import Sector


def stored_sector_data(
    sector: Sector, data: Mapping[str, Any], days: int, energy_types: Iterable[EnergyType]
) -> tuple[SectorData | None, str | None]:
    """(sector input, None) from a stored record's JSON, or (None, reason to skip the entity).

    Industry and energy producers have no sector input: (None, None).
    """
    schema = SECTION_SCHEMAS.get(sector)
    if schema is None:
        return None, None
    section = data.get(sector.value)
    if section is None:
        return None, f"no {sector.value} section in the activity data"
    try:
        loaded = schema().load(section)
    except ValidationError as exc:
        return None, f"{sector.value}: {one_line(exc.messages)}"
    sector_data = sector_data_from_section(sector, loaded)
    issues = sector_issues(
        sector_data, days=days, energy_types=energy_types, params=default_sector_parameters()
    )
    if issues:
        return None, "; ".join(f"{field}: {reason}" for field, reason in issues)
    return sector_data, None


def population_benchmarks(
    results: Sequence[CarbonAccountResult], period: str, percentile: float
) -> BenchmarkSet:
    """Benchmarks (``percentile``) from ungraded results, in each account's benchmark group."""
    groups = [benchmark_group(r.entity, r.sector) for r in results]
    return compute_benchmarks(
        [g[0] for g in groups],
        [g[1] for g in groups],
        [g[2] for g in groups],
        [r.intensity.primary.metric for r in results],
        [
            float("nan") if r.intensity.primary.value is None else r.intensity.primary.value
            for r in results
        ],
        period=period,
        percentile=percentile,
    )


def uncovered_sectors(given: BenchmarkSet, inputs: Sequence[AccountInput]) -> list[str]:
    """Sectors of ``inputs`` with no value at all in ``given``."""
    covered = {key[0] for key in given.values}
    return sorted({i.entity.sector.value for i in inputs} - covered)


def complete_benchmarks(
    given: BenchmarkSet, population: BenchmarkSet, sectors: Sequence[str]
) -> BenchmarkSet:
    """``given`` completed with the population's values of ``sectors`` (see
    :func:`accounting.sectors.merge_benchmark_sets`)."""
    return merge_benchmark_sets(given, population, sectors)


def label_tally(results: Sequence[CarbonAccountResult]) -> dict[str, dict[str, int]]:
    """Sector -> sector label -> number of accounts that earned it."""
    counts: dict[str, Counter[str]] = {}
    for r in results:
        if r.sector is not None:
            counts.setdefault(r.entity.sector.value, Counter()).update(r.sector.labels)
    return {sector: dict(sorted(c.items())) for sector, c in sorted(counts.items()) if c}
