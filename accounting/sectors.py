"""The sector methods behind one interface: parameters, extra energy, results, benchmark groups.

:func:`sector_result` dispatches an account's sector input (:data:`SectorData`) to
:mod:`accounting.buildings`, :mod:`accounting.transport` or :mod:`accounting.agriculture`;
:func:`load_sector_parameters` reads the versioned data files of ``accounting/data/sectors``
(:func:`default_sector_parameters` caches the packaged ones); :func:`merge_benchmark_sets` fills the
sectors a benchmark file does not cover from the period's population benchmarks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from accounting.agriculture import AgricultureData, agriculture_result
from accounting.agriculture_params import AgricultureParameters, load_agriculture_parameters
from accounting.benchmarks import BenchmarkSet, benchmark_set_from_content
from accounting.buildings import (
    BuildingData,
    BuildingParameters,
    building_energy,
    building_result,
    load_building_parameters,
)
from accounting.emissions import EnergyTotal
from accounting.factors import canonical_sha256
from accounting.intensity import (
    AGRI_PER_HA,
    AGRI_PER_HEAD,
    AGRI_PER_OUTPUT,
    BUILDING_PER_M2,
    Activity,
)
from accounting.sector_lines import DEFAULT_SECTOR_DIR, GwpSets, SectorResult, load_gwp_sets
from accounting.transport import (
    SERVICE_METRIC,
    TransportData,
    TransportParameters,
    load_transport_parameters,
    transport_result,
)
from accounting.vocab import Sector

SectorData = BuildingData | TransportData | AgricultureData
"""The sector input of a building, transport or agriculture account."""

SECTOR_DATA_TYPES: dict[Sector, type[Any]] = {
    Sector.BUILDING: BuildingData,
    Sector.TRANSPORT: TransportData,
    Sector.AGRICULTURE: AgricultureData,
}
"""Sectors with their own method, and the input each one needs."""


@dataclass(frozen=True)
class SectorParameters:
    """The data of every sector method (one version of each file)."""

    buildings: BuildingParameters
    transport: TransportParameters
    agriculture: AgricultureParameters
    gwp: GwpSets


def load_sector_parameters(path: Path | str = DEFAULT_SECTOR_DIR) -> SectorParameters:
    """Load and validate the sector data files of directory ``path``."""
    folder = Path(path)
    return SectorParameters(
        load_building_parameters(folder / "buildings-v1.json"),
        load_transport_parameters(folder / "transport-v1.json"),
        load_agriculture_parameters(folder / "agriculture-v1.json"),
        load_gwp_sets(folder / "gwp-v1.json"),
    )


@cache
def default_sector_parameters() -> SectorParameters:
    """The packaged sector data files (loaded once per process)."""
    return load_sector_parameters(DEFAULT_SECTOR_DIR)


def check_sector_data(sector: Sector, data: SectorData | None) -> None:
    """ValueError unless ``data`` is the input ``sector`` needs (None for other sectors)."""
    wanted = SECTOR_DATA_TYPES.get(sector)
    if wanted is None:
        if data is not None:
            raise ValueError(f"sector {sector.value!r} takes no sector data")
        return
    if not isinstance(data, wanted):
        raise ValueError(f"sector {sector.value!r} needs {wanted.__name__} (sector_data)")


def sector_energy(data: SectorData | None) -> tuple[EnergyTotal, ...]:
    """Energy totals a sector section adds (a building's on-site renewables)."""
    return building_energy(data) if isinstance(data, BuildingData) else ()


def sector_result(
    data: SectorData,
    *,
    energy_tco2e: float,
    activity: Activity,
    days: int,
    industry_code: str,
    region: str,
    params: SectorParameters,
) -> SectorResult:
    """The sector part of one account (lines, intensities, labels, reasons, details)."""
    if isinstance(data, BuildingData):
        return building_result(data, energy_tco2e, days, params.buildings)
    if isinstance(data, TransportData):
        return transport_result(data, energy_tco2e, region, params.transport)
    gwp = params.gwp.get(data.gwp_set)
    return agriculture_result(
        data, energy_tco2e, activity, days, (industry_code, region), params.agriculture, gwp
    )


def primary_metric(data: SectorData, activity: Activity) -> str:
    """The metric code an account with this sector input is graded on."""
    if isinstance(data, BuildingData):
        return BUILDING_PER_M2
    if isinstance(data, TransportData):
        return SERVICE_METRIC[data.service]
    if data.heads > 0:
        return AGRI_PER_HEAD
    if data.area_ha > 0:
        return AGRI_PER_HA
    return AGRI_PER_OUTPUT


def merge_benchmark_sets(
    given: BenchmarkSet, population: BenchmarkSet, sectors: Iterable[str]
) -> BenchmarkSet:
    """``given`` plus ``population``'s values of the ``sectors`` that ``given`` does not cover.

    Returns ``given`` itself when it covers them all. The merged set is versioned
    ``<given version>+POP-<8 hex of its content>`` and its source names both sets.
    """
    covered = {key[0] for key in given.values}
    added = sorted(set(sectors) - covered)
    extra = [v for v in population.content["values"] if v["sector"] in added]
    if not extra:
        return given
    values = [*given.content["values"], *extra]
    body: dict[str, Any] = {
        "method": f"{given.method}+population",
        "percentile": given.percentile,
        "period": given.period,
        "min_n": min(given.min_n, population.min_n),
        "source": f"{given.source}; sectors {', '.join(added)}: {population.version} "
        f"({population.source})",
        "values": values,
    }
    version = f"{given.version[:51]}+POP-{canonical_sha256(body)[:8]}"
    return benchmark_set_from_content({"version": version, **body}, "merged benchmark set")
