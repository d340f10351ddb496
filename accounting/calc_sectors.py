"""The sector sections of calculator documents and activity records: schemas and checks.

Sections (all quantities for the account's period)::

    "building": {"type", "floor_area_m2", "climate_region", "green_space_m2"?,
                 "green_space_type"?, "onsite_renewable_kwh"?, "hdd"?, "cdd"?,
                 "reference_hdd"?, "reference_cdd"?, "heating_share"?, "cooling_share"?}
    "transport": {"service": "freight"|"passenger",
                  "fleet": [{"vehicle_type", "fuel", "count"}, ...],
                  "freight_tkm"?, "passenger_pkm"?, "new_energy_share"?}
    "agriculture": {"livestock"?: {species: head}, "manure"?: [{"species", "system", "share"?,
                    "n_excretion_kg_per_head_year"?}], "rice"?: [{"area_ha", "season_days",
                    "water_regime"?, "scaling_factor"?}], "fertiliser_n_kg"?,
                    "flooded_rice_n_share"?, "cropland_ha"?, "orchard_ha"?, "forest_ha"?,
                    "organic_fertiliser_t"?, "gwp_set"?}

The schemas check each section on its own (types, ranges, codes, internal consistency); the
checks that need the sector data files, the period or the energy totals are in
:func:`sector_issues`. Every problem is reported as ``(field path, reason)``, e.g.
``building.floor_area_m2: required for a building account``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from accounting.agriculture import AgricultureData, ManureEntry, RiceSeason
from accounting.agriculture_params import MANURE_SYSTEMS, SPECIES, WATER_REGIMES
from accounting.buildings import BUILDING_TYPES, CLIMATE_REGIONS, BuildingData
from accounting.energy import EnergyType
from accounting.sectors import SectorData, SectorParameters
from accounting.transport import (
    SERVICES,
    VEHICLE_FUELS,
    VEHICLE_TYPES,
    TransportData,
    Vehicle,
    fleet_energy_issues,
    new_energy_share,
)
from accounting.vocab import Sector

_POSITIVE = validate.Range(min=0, min_inclusive=False)
_NON_NEGATIVE = validate.Range(min=0)
_SHARE = validate.Range(min=0, max=1)


def _required(sector: str) -> dict[str, str | list[Any] | dict[Any, Any]]:
    return {"required": f"required for a {sector} account"}


def _optional(validator: validate.Validator | None = None) -> fields.Float:
    return fields.Float(load_default=None, validate=validator)


class BuildingSchema(Schema):
    """The ``building`` section."""

    type = fields.Str(
        required=True, validate=validate.OneOf(BUILDING_TYPES), error_messages=_required("building")
    )
    floor_area_m2 = fields.Float(
        required=True, validate=_POSITIVE, error_messages=_required("building")
    )
    climate_region = fields.Str(
        required=True,
        validate=validate.OneOf(CLIMATE_REGIONS),
        error_messages=_required("building"),
    )
    green_space_m2 = fields.Float(load_default=0.0, validate=_NON_NEGATIVE)
    green_space_type = fields.Str(load_default=None)
    onsite_renewable_kwh = fields.Float(load_default=0.0, validate=_NON_NEGATIVE)
    hdd = _optional(_NON_NEGATIVE)
    cdd = _optional(_NON_NEGATIVE)
    reference_hdd = _optional(_POSITIVE)
    reference_cdd = _optional(_POSITIVE)
    heating_share = _optional(_SHARE)
    cooling_share = _optional(_SHARE)

    @validates_schema
    def _shares(self, data: dict[str, Any], **_: Any) -> None:
        h, c = data.get("heating_share"), data.get("cooling_share")
        if h is not None and c is not None and h + c > 1:
            raise ValidationError(
                "heating_share + cooling_share must not exceed 1", "cooling_share"
            )


class _VehicleSchema(Schema):
    vehicle_type = fields.Str(required=True, validate=validate.OneOf(VEHICLE_TYPES))
    fuel = fields.Str(required=True, validate=validate.OneOf(VEHICLE_FUELS))
    count = fields.Int(required=True, strict=True, validate=validate.Range(min=1))


class TransportSchema(Schema):
    """The ``transport`` section."""

    service = fields.Str(
        required=True, validate=validate.OneOf(SERVICES), error_messages=_required("transport")
    )
    fleet = fields.List(
        fields.Nested(_VehicleSchema),
        required=True,
        validate=validate.Length(min=1),
        error_messages=_required("transport"),
    )
    freight_tkm = _optional(_POSITIVE)
    passenger_pkm = _optional(_POSITIVE)
    new_energy_share = _optional(_SHARE)

    @validates_schema
    def _denominator(self, data: dict[str, Any], **_: Any) -> None:
        wanted = {"freight": "freight_tkm", "passenger": "passenger_pkm"}[data["service"]]
        if data.get(wanted) is None:
            raise ValidationError(f"required for a {data['service']} account", wanted)


class _ManureSchema(Schema):
    species = fields.Str(required=True, validate=validate.OneOf(SPECIES))
    system = fields.Str(required=True, validate=validate.OneOf(MANURE_SYSTEMS))
    share = fields.Float(
        load_default=1.0, validate=validate.Range(min=0, max=1, min_inclusive=False)
    )
    n_excretion_kg_per_head_year = _optional(_NON_NEGATIVE)


class _RiceSchema(Schema):
    area_ha = fields.Float(required=True, validate=_POSITIVE)
    season_days = fields.Int(required=True, strict=True, validate=validate.Range(min=1, max=366))
    water_regime = fields.Str(
        load_default="continuously_flooded", validate=validate.OneOf(WATER_REGIMES)
    )
    scaling_factor = _optional(_POSITIVE)


class AgricultureSchema(Schema):
    """The ``agriculture`` section."""

    livestock = fields.Dict(
        keys=fields.Str(validate=validate.OneOf(SPECIES)),
        values=fields.Float(validate=_NON_NEGATIVE),
        load_default=dict,
    )
    manure = fields.List(fields.Nested(_ManureSchema), load_default=list)
    rice = fields.List(fields.Nested(_RiceSchema), load_default=list)
    fertiliser_n_kg = fields.Float(load_default=0.0, validate=_NON_NEGATIVE)
    flooded_rice_n_share = fields.Float(load_default=0.0, validate=_SHARE)
    cropland_ha = _optional(_NON_NEGATIVE)
    orchard_ha = fields.Float(load_default=0.0, validate=_NON_NEGATIVE)
    forest_ha = fields.Float(load_default=0.0, validate=_NON_NEGATIVE)
    organic_fertiliser_t = fields.Float(load_default=0.0, validate=_NON_NEGATIVE)
    gwp_set = fields.Str(load_default=None, validate=validate.Length(min=1, max=16))

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        errors = _manure_errors(data) or _rice_errors(data)
        if errors:
            raise ValidationError(errors)


def _manure_errors(data: Mapping[str, Any]) -> dict[str, Any]:
    shares: dict[str, float] = {}
    for i, entry in enumerate(data["manure"]):
        species = entry["species"]
        if not data["livestock"].get(species):
            return {"manure": {i: {"species": [f"no {species} in livestock"]}}}
        shares[species] = shares.get(species, 0.0) + entry["share"]
        if shares[species] > 1 + 1e-9:
            return {"manure": {i: {"share": [f"shares of {species} add up to more than 1"]}}}
    return {}


def _rice_errors(data: Mapping[str, Any]) -> dict[str, Any]:
    if data["flooded_rice_n_share"] > 0 and not data["rice"]:
        return {"flooded_rice_n_share": ["nitrogen on flooded rice but no rice season is given"]}
    largest = max((s["area_ha"] for s in data["rice"]), default=0.0)
    cropland = data.get("cropland_ha")
    if cropland is not None and cropland < largest:
        return {"cropland_ha": [f"smaller than the rice area ({largest:g} ha)"]}
    return {}


SECTION_SCHEMAS: dict[Sector, type[Schema]] = {
    Sector.BUILDING: BuildingSchema,
    Sector.TRANSPORT: TransportSchema,
    Sector.AGRICULTURE: AgricultureSchema,
}
"""The section of each sector with its own method; the section's name is the sector's code."""


def sector_data_from_section(sector: Sector, section: Mapping[str, Any]) -> SectorData:
    """The sector input from a section *loaded* by its schema (or read back from storage)."""
    if sector is Sector.BUILDING:
        return BuildingData(
            building_type=section["type"],
            floor_area_m2=section["floor_area_m2"],
            climate_region=section["climate_region"],
            green_space_m2=section.get("green_space_m2") or 0.0,
            green_space_type=section.get("green_space_type"),
            onsite_renewable_kwh=section.get("onsite_renewable_kwh") or 0.0,
            **{k: section.get(k) for k in _WEATHER_KEYS},
        )
    if sector is Sector.TRANSPORT:
        return TransportData(
            section["service"],
            tuple(Vehicle(v["vehicle_type"], v["fuel"], int(v["count"])) for v in section["fleet"]),
            section.get("freight_tkm"),
            section.get("passenger_pkm"),
            section.get("new_energy_share"),
        )
    return _agriculture(section)


_WEATHER_KEYS = (
    "hdd",
    "cdd",
    "reference_hdd",
    "reference_cdd",
    "heating_share",
    "cooling_share",
)


def _agriculture(section: Mapping[str, Any]) -> AgricultureData:
    return AgricultureData(
        livestock={k: float(v) for k, v in section.get("livestock", {}).items()},
        manure=tuple(
            ManureEntry(
                m["species"], m["system"], m["share"], m.get("n_excretion_kg_per_head_year")
            )
            for m in section.get("manure", [])
        ),
        rice=tuple(
            RiceSeason(
                r["area_ha"], int(r["season_days"]), r["water_regime"], r.get("scaling_factor")
            )
            for r in section.get("rice", [])
        ),
        fertiliser_n_kg=section.get("fertiliser_n_kg", 0.0),
        flooded_rice_n_share=section.get("flooded_rice_n_share", 0.0),
        cropland_ha=section.get("cropland_ha"),
        orchard_ha=section.get("orchard_ha", 0.0),
        forest_ha=section.get("forest_ha", 0.0),
        organic_fertiliser_t=section.get("organic_fertiliser_t", 0.0),
        gwp_set=section.get("gwp_set"),
    )


def sector_issues(
    data: SectorData,
    *,
    days: int,
    energy_types: Iterable[EnergyType],
    params: SectorParameters,
) -> list[tuple[str, str]]:
    """(field, reason) for what the section gets wrong against the data files, the period and
    the energy totals (empty when the section is usable)."""
    types = set(energy_types)
    if isinstance(data, BuildingData):
        return _building_issues(data, days, types, params)
    if isinstance(data, TransportData):
        issues = fleet_energy_issues(data, types, params.transport)
        declared = data.declared_new_energy_share
        new, total, share = new_energy_share(data.fleet, params.transport)
        if declared is not None and share is not None and abs(declared - share) > 0.005:
            issues.append(
                (
                    "transport.new_energy_share",
                    f"{declared:g} does not match the fleet ({new} of {total} = {share:.3f})",
                )
            )
        return issues
    if data.gwp_set is not None and data.gwp_set not in params.gwp.sets:
        known = ", ".join(sorted(params.gwp.sets))
        return [("agriculture.gwp_set", f"unknown GWP set {data.gwp_set!r} (known: {known})")]
    return []


def _building_issues(
    data: BuildingData, days: int, types: set[EnergyType], params: SectorParameters
) -> list[tuple[str, str]]:
    p = params.buildings
    issues = []
    if data.green_space_type is not None and data.green_space_type not in p.green_rates:
        known = ", ".join(sorted(p.green_rates))
        issues.append(("building.green_space_type", f"must be one of {known}"))
    if data.onsite_renewable_kwh > 0 and EnergyType.RENEWABLE_SELF_CONSUMED in types:
        issues.append(
            (
                "building.onsite_renewable_kwh",
                "renewable_self_consumed is also in the energy totals (it would be counted twice)",
            )
        )
    climate = p.climate_regions[data.climate_region]
    for kind in ("hdd", "cdd"):
        if getattr(data, kind) is None or getattr(data, f"reference_{kind}") is not None:
            continue
        if days not in (365, 366):
            issues.append(
                (
                    f"building.reference_{kind}",
                    f"required to weather-adjust a period shorter than a year ({days} days)",
                )
            )
        elif climate[f"reference_{kind}"] is None:
            issues.append(
                (
                    f"building.reference_{kind}",
                    f"climate region {data.climate_region} has no reference {kind.upper()}",
                )
            )
    return issues
