"""Road transport firms: fuel- and electricity-based emissions, turnover intensity, new energy.

Emissions are those of the fleet's energy totals (diesel, gasoline, CNG, LNG, electricity...)
with the factor set, as for any account. Intensity::

    kgCO2 per 100 t-km = emissions_tco2e × 1000 × 100 ÷ freight_tkm      (freight firms)
    kgCO2 per 100 p-km = emissions_tco2e × 1000 × 100 ÷ passenger_pkm    (passenger firms)

The firm's service type picks the graded metric; it is benchmarked against firms of the same
service type. The new-energy share of the fleet (battery-electric and plug-in hybrid vehicles ÷
all vehicles, by count) is reported as a reason, and a fleet at or above the configured share is
labelled ``new_energy_fleet``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from marshmallow import Schema, fields, validate

from accounting.energy import EnergyType
from accounting.grading_reasons import Reason
from accounting.intensity import (
    FREIGHT_PER_100_TKM,
    PASSENGER_PER_100_PKM,
    Intensity,
    IntensityMetric,
    sector_metric,
)
from accounting.sector_lines import (
    DEFAULT_SECTOR_DIR,
    SectorDataError,
    SectorResult,
    load_data_file,
)
from accounting.vocab import Sector

SERVICES: tuple[str, ...] = ("freight", "passenger")
"""Service types (the benchmark group of a transport account)."""
VEHICLE_TYPES: tuple[str, ...] = (
    "heavy_truck",
    "medium_truck",
    "light_truck",
    "van",
    "bus",
    "coach",
    "taxi",
    "car",
)
VEHICLE_FUELS: tuple[str, ...] = ("diesel", "gasoline", "cng", "lng", "hybrid", "phev", "electric")
"""Powertrain / fuel of a vehicle."""
SERVICE_METRIC: dict[str, str] = {
    "freight": FREIGHT_PER_100_TKM,
    "passenger": PASSENGER_PER_100_PKM,
}
COMBUSTION_FUELS: frozenset[EnergyType] = frozenset(
    {EnergyType.DIESEL, EnergyType.GASOLINE, EnergyType.CNG, EnergyType.LNG}
)
"""Vehicle fuels whose presence in the energy totals needs a vehicle that burns them."""


class _ServiceSchema(Schema):
    name_zh = fields.Str(required=True)
    metric = fields.Str(required=True, validate=validate.OneOf(sorted(SERVICE_METRIC.values())))
    source = fields.Str(required=True, validate=validate.Length(min=1))


class _FuelSchema(Schema):
    name_zh = fields.Str(required=True)
    energy_types = fields.List(
        fields.Str(validate=validate.OneOf([t.value for t in EnergyType])),
        required=True,
        validate=validate.Length(min=1),
    )
    new_energy = fields.Bool(required=True)


class _ShareSchema(Schema):
    value = fields.Float(required=True, validate=validate.Range(min=0, max=1))
    source = fields.Str(required=True, validate=validate.Length(min=1))


class TransportFileSchema(Schema):
    """``transport-v1.json``."""

    version = fields.Str(required=True, validate=validate.Length(min=1, max=64))
    description = fields.Str(required=True)
    services = fields.Dict(keys=fields.Str(), values=fields.Nested(_ServiceSchema), required=True)
    vehicle_types = fields.Dict(keys=fields.Str(), values=fields.Str(), required=True)
    fuels = fields.Dict(keys=fields.Str(), values=fields.Nested(_FuelSchema), required=True)
    new_energy_source = fields.Str(required=True)
    new_energy_label_min_share = fields.Nested(_ShareSchema, required=True)


@dataclass(frozen=True)
class TransportParameters:
    """The transport method's data (one version of ``transport-*.json``)."""

    version: str
    sha256: str
    fuel_energy: Mapping[str, frozenset[EnergyType]]
    """Vehicle fuel -> energy types it uses (one of them must be in the energy totals)."""
    new_energy_fuels: frozenset[str]
    label_min_share: float
    label_source: str


def load_transport_parameters(
    path: Path = DEFAULT_SECTOR_DIR / "transport-v1.json",
) -> TransportParameters:
    """Load and validate a transport data file (every service, vehicle type and fuel present)."""
    loaded = load_data_file(path, TransportFileSchema())
    data = loaded.data
    wanted = (("services", SERVICES), ("vehicle_types", VEHICLE_TYPES), ("fuels", VEHICLE_FUELS))
    for key, codes in wanted:
        missing = sorted(set(codes) - set(data[key]))
        if missing:
            raise SectorDataError(f"{path.name}: {key}: missing {', '.join(missing)}")
    for code, service in data["services"].items():
        if code in SERVICE_METRIC and service["metric"] != SERVICE_METRIC[code]:
            raise SectorDataError(
                f"{path.name}: services.{code}.metric: must be {SERVICE_METRIC[code]}"
            )
    fuels = data["fuels"]
    return TransportParameters(
        loaded.version,
        loaded.sha256,
        MappingProxyType(
            {k: frozenset(EnergyType(t) for t in v["energy_types"]) for k, v in fuels.items()}
        ),
        frozenset(k for k, v in fuels.items() if v["new_energy"]),
        data["new_energy_label_min_share"]["value"],
        data["new_energy_label_min_share"]["source"],
    )


@dataclass(frozen=True)
class Vehicle:
    """Vehicles of one type and fuel in the fleet."""

    vehicle_type: str
    fuel: str
    count: int


@dataclass(frozen=True)
class TransportData:
    """A transport account's sector input (``transport`` section)."""

    service: str
    """``freight`` or ``passenger``."""
    fleet: tuple[Vehicle, ...]
    freight_tkm: float | None = None
    passenger_pkm: float | None = None
    declared_new_energy_share: float | None = None
    """The share the firm declares, checked against the fleet (None: not declared)."""


def new_energy_share(
    fleet: Iterable[Vehicle], params: TransportParameters
) -> tuple[int, int, float | None]:
    """(new-energy vehicles, all vehicles, share) of a fleet; share None for an empty fleet."""
    vehicles = list(fleet)
    total = sum(v.count for v in vehicles)
    new = sum(v.count for v in vehicles if v.fuel in params.new_energy_fuels)
    return new, total, (new / total if total else None)


def fleet_energy_issues(
    data: TransportData, energy_types: Iterable[EnergyType], params: TransportParameters
) -> list[tuple[str, str]]:
    """(field, reason) for each inconsistency between the fleet and the energy totals.

    A vehicle fuel needs one of its energy types among the totals, and a combustion fuel among
    the totals needs a vehicle that burns it.
    """
    present = set(energy_types)
    issues = [
        (
            f"transport.fleet[{i}].fuel",
            f"{v.fuel} vehicles but no {' or '.join(sorted(params.fuel_energy[v.fuel]))} in the "
            "energy totals",
        )
        for i, v in enumerate(data.fleet)
        if not params.fuel_energy[v.fuel] & present
    ]
    burnt = set().union(*(params.fuel_energy[v.fuel] for v in data.fleet)) if data.fleet else set()
    issues += [
        ("transport.fleet", f"{t.value} is in the energy totals but no vehicle uses it")
        for t in sorted(present & COMBUSTION_FUELS - burnt)
    ]
    return issues


def transport_result(
    data: TransportData, energy_tco2e: float, region: str, params: TransportParameters
) -> SectorResult:
    """The transport part of an account: intensities, new-energy share, label and reason."""
    kg = energy_tco2e * 1000.0 * 100.0
    freight = sector_metric(FREIGHT_PER_100_TKM, kg, data.freight_tkm, "t-km")
    passenger = sector_metric(PASSENGER_PER_100_PKM, kg, data.passenger_pkm, "p-km")
    primary = freight if data.service == "freight" else passenger
    metrics: list[IntensityMetric] = [primary]
    other = passenger if primary is freight else freight
    if other.denominator is not None:
        metrics.append(other)
    new, total, share = new_energy_share(data.fleet, params)
    labelled = share is not None and share >= params.label_min_share
    return SectorResult(
        sector=Sector.TRANSPORT,
        method_version=params.version,
        lines=(),
        intensity=Intensity(primary, tuple(metrics)),
        benchmark_group=(Sector.TRANSPORT.value, data.service, region),
        labels=("new_energy_fleet",) if labelled else (),
        reasons=(_share_reason(new, total, share, params),),
        details=_details(data, new, total, share, labelled),
    )


def _share_reason(new: int, total: int, share: float | None, params: TransportParameters) -> Reason:
    if share is None:
        return Reason("NEW_ENERGY_SHARE", "the fleet is empty: no new-energy share")
    label = (
        f"; at least {params.label_min_share:.0%}: labelled new-energy fleet"
        if share >= params.label_min_share
        else ""
    )
    return Reason(
        "NEW_ENERGY_SHARE",
        f"new-energy vehicles (battery-electric, plug-in hybrid) are {share:.1%} of the fleet "
        f"({new} of {total}){label}",
        value=share,
        message_zh=f"新能源车辆占比 {share:.1%}({new}/{total})",
    )


def _details(
    data: TransportData, new: int, total: int, share: float | None, labelled: bool
) -> dict[str, Any]:
    return {
        "service": data.service,
        "fleet": [
            {"vehicle_type": v.vehicle_type, "fuel": v.fuel, "count": v.count} for v in data.fleet
        ],
        "vehicles": total,
        "new_energy_vehicles": new,
        "new_energy_share": share,
        "new_energy_fleet": labelled,
        "freight_tkm": data.freight_tkm,
        "passenger_pkm": data.passenger_pkm,
    }
