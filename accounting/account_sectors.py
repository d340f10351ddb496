"""How :func:`accounting.account.compute_accounts` applies the sector methods.

For an account with sector input (buildings, road transport, agriculture) the energy emissions
are computed as for any account; then the sector method adds its non-energy lines (scope 1:
livestock CH4, manure, rice CH4, fertiliser N2O) to the totals, replaces the intensities with the
sector's metrics, sets the benchmark group and appends its reasons to the grade.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from accounting.emissions import Emissions
from accounting.grading import Grade
from accounting.sector_lines import SectorResult
from accounting.sectors import SectorParameters, default_sector_parameters, sector_result

if TYPE_CHECKING:
    from accounting.account import AccountInput, EntityRef


def sector_results(
    inputs: Sequence[AccountInput],
    energy: Sequence[Emissions],
    params: SectorParameters | None,
) -> list[SectorResult | None]:
    """The sector part of each account (None for industry and energy producers)."""
    if all(item.sector_data is None for item in inputs):
        return [None] * len(inputs)
    params = params or default_sector_parameters()
    return [
        None
        if item.sector_data is None
        else sector_result(
            item.sector_data,
            energy_tco2e=e.total_tco2e,
            activity=item.activity,
            days=item.period.days,
            industry_code=item.entity.industry_code,
            region=item.entity.region,
            params=params,
        )
        for item, e in zip(inputs, energy, strict=True)  # one per entity
    ]


def with_sector_lines(emissions: Emissions, sector: SectorResult | None) -> Emissions:
    """Energy emissions plus the sector's non-energy emission lines (scope 1); sinks are kept
    out of the totals (they make the net figure)."""
    if sector is None or not sector.lines:
        return emissions
    extra = sector.non_energy_tco2e
    return replace(
        emissions,
        total_tco2e=emissions.total_tco2e + extra,
        scope1_tco2e=emissions.scope1_tco2e + extra,
    )


def benchmark_group(entity: EntityRef, sector: SectorResult | None) -> tuple[str, str, str]:
    """(sector, group code, region) an account is benchmarked in (see
    :attr:`accounting.sector_lines.SectorResult.benchmark_group`)."""
    if sector is not None:
        return sector.benchmark_group
    return entity.sector.value, entity.industry_code, entity.region


def with_sector_reasons(grade: Grade, sector: SectorResult | None) -> Grade:
    """The grade with the sector's reasons appended."""
    if sector is None or not sector.reasons:
        return grade
    return replace(grade, reasons=(*grade.reasons, *sector.reasons))
