"""Public and commercial buildings: operation-stage carbon per GB/T 51366-2019.

Operational intensity, kgCO2/(m²·a)::

    I = (E × w × a − C_p) × 1000 ÷ A

- ``E``: the period's energy emissions, tCO2 (Σ energy_i × EF_i, electricity net of on-site
  renewable generation consumed on site: the ``electricity`` total is the building's whole
  consumption and ``onsite_renewable_kwh`` is deducted, as in GB/T 51366 eq. 4.1.1);
- ``a``: annualisation, 1 for a one-year period (365 or 366 days), else 365 ÷ days (the
  sink of a period is C_p ÷ a);
- ``C_p``: green-space sink, t/a = green_space_m2 × rate (kgCO2/(m²·a) of the planting type) ÷ 1000;
- ``A``: floor area, m²;
- ``w``: weather normalisation to the reference year (1 without degree days)::

      w = 1 − s_h − s_c + s_h × HDD_ref ÷ HDD + s_c × CDD_ref ÷ CDD

  ``s_h`` and ``s_c`` are the heating- and cooling-sensitive shares of the building type's
  emissions (data file, or given), HDD/CDD the period's heating (base 18 °C) and cooling (base
  26 °C) degree days; a term whose degree days are not given keeps its share unscaled. Reference
  degree days come from the climate region for a one-year period; a shorter period must give its
  own reference degree days (the same calendar days of the reference year).

Graded metric: ``kgco2_per_m2_year`` (weather-normalised when degree days are given), against the
benchmark of the building type and climate region.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from marshmallow import Schema, fields, validate

from accounting.emissions import EnergyTotal
from accounting.energy import EnergyType
from accounting.grading_reasons import Reason
from accounting.intensity import (
    BUILDING_PER_M2,
    BUILDING_PER_M2_UNADJUSTED,
    Intensity,
    IntensityMetric,
    sector_metric,
)
from accounting.sector_lines import (
    DEFAULT_SECTOR_DIR,
    SectorDataError,
    SectorResult,
    SourceLine,
    load_data_file,
)
from accounting.vocab import Sector

BUILDING_TYPES: tuple[str, ...] = (
    "office",
    "retail",
    "hotel",
    "hospital",
    "school",
    "data_centre",
    "residential",
)
"""Building type codes (the benchmark group of a building account)."""
CLIMATE_REGIONS: tuple[str, ...] = (
    "severe_cold",
    "cold",
    "hot_summer_cold_winter",
    "hot_summer_warm_winter",
    "mild",
)
"""GB 50176-2016 thermal design zones; Quzhou is ``hot_summer_cold_winter`` (夏热冬冷)."""

_SHARE = validate.Range(min=0, max=1)


class _TypeSchema(Schema):
    name_zh = fields.Str(required=True)
    heating_share = fields.Float(required=True, validate=_SHARE)
    cooling_share = fields.Float(required=True, validate=_SHARE)
    source = fields.Str(required=True, validate=validate.Length(min=1))


class _ClimateSchema(Schema):
    name_zh = fields.Str(required=True)
    reference_hdd = fields.Float(required=True, allow_none=True, validate=validate.Range(min=0))
    reference_cdd = fields.Float(required=True, allow_none=True, validate=validate.Range(min=0))
    source = fields.Str(required=True, validate=validate.Length(min=1))


class _PlantingSchema(Schema):
    kgco2_per_m2_year = fields.Float(required=True, validate=validate.Range(min=0))
    source = fields.Str(required=True, validate=validate.Length(min=1))


class _GreenSchema(Schema):
    default_type = fields.Str(required=True)
    types = fields.Dict(keys=fields.Str(), values=fields.Nested(_PlantingSchema), required=True)


class _DegreeDaySchema(Schema):
    hdd_base_c = fields.Float(required=True)
    cdd_base_c = fields.Float(required=True)
    source = fields.Str(required=True)


class BuildingFileSchema(Schema):
    """``buildings-v1.json``."""

    version = fields.Str(required=True, validate=validate.Length(min=1, max=64))
    description = fields.Str(required=True)
    degree_days = fields.Nested(_DegreeDaySchema, required=True)
    types = fields.Dict(keys=fields.Str(), values=fields.Nested(_TypeSchema), required=True)
    climate_regions = fields.Dict(
        keys=fields.Str(), values=fields.Nested(_ClimateSchema), required=True
    )
    green_space = fields.Nested(_GreenSchema, required=True)


@dataclass(frozen=True)
class BuildingParameters:
    """The building method's data (one version of ``buildings-*.json``)."""

    version: str
    sha256: str
    types: Mapping[str, Mapping[str, Any]]
    climate_regions: Mapping[str, Mapping[str, Any]]
    green_default_type: str
    green_rates: Mapping[str, Mapping[str, Any]]
    """Planting type -> {kgco2_per_m2_year, source}."""


def load_building_parameters(
    path: Path = DEFAULT_SECTOR_DIR / "buildings-v1.json",
) -> BuildingParameters:
    """Load and validate a building data file (every type and climate region must be present)."""
    loaded = load_data_file(path, BuildingFileSchema())
    data = loaded.data
    for key, wanted in (("types", BUILDING_TYPES), ("climate_regions", CLIMATE_REGIONS)):
        missing = sorted(set(wanted) - set(data[key]))
        if missing:
            raise SectorDataError(f"{path.name}: {key}: missing {', '.join(missing)}")
    for code, t in data["types"].items():
        if t["heating_share"] + t["cooling_share"] > 1:
            raise SectorDataError(f"{path.name}: types.{code}: shares add up to more than 1")
    green = data["green_space"]
    if green["default_type"] not in green["types"]:
        raise SectorDataError(f"{path.name}: green_space.default_type: not one of the types")
    return BuildingParameters(
        loaded.version,
        loaded.sha256,
        MappingProxyType(dict(data["types"])),
        MappingProxyType(dict(data["climate_regions"])),
        green["default_type"],
        MappingProxyType(dict(green["types"])),
    )


@dataclass(frozen=True)
class BuildingData:
    """A building account's sector input (``building`` section of a document or activity)."""

    building_type: str
    """One of :data:`BUILDING_TYPES`."""
    floor_area_m2: float
    climate_region: str
    """One of :data:`CLIMATE_REGIONS`."""
    green_space_m2: float = 0.0
    green_space_type: str | None = None
    """A planting type of the data file; None uses its default."""
    onsite_renewable_kwh: float = 0.0
    """On-site renewable generation consumed on site, kWh (deducted from electricity)."""
    hdd: float | None = None
    """Heating degree days (base 18 °C) of the period."""
    cdd: float | None = None
    """Cooling degree days (base 26 °C) of the period."""
    reference_hdd: float | None = None
    reference_cdd: float | None = None
    heating_share: float | None = None
    """Overrides the type's heating-sensitive share (0-1)."""
    cooling_share: float | None = None


def building_energy(data: BuildingData) -> tuple[EnergyTotal, ...]:
    """Energy totals the building section adds: on-site renewables consumed on site, kWh."""
    if data.onsite_renewable_kwh <= 0:
        return ()
    return (EnergyTotal(EnergyType.RENEWABLE_SELF_CONSUMED, data.onsite_renewable_kwh, "kWh"),)


def year_fraction(days: int) -> float:
    """The period as a fraction of a year: 1 for 365 or 366 days, else days ÷ 365."""
    return 1.0 if days in (365, 366) else days / 365.0


def annualisation_factor(days: int) -> float:
    """1 for a one-year period (365 or 366 days), else 365 ÷ days."""
    return 1.0 / year_fraction(days)


@dataclass(frozen=True)
class WeatherAdjustment:
    """The weather normalisation applied (``factor`` = w of the module doc)."""

    applied: bool
    factor: float
    heating_share: float
    cooling_share: float
    hdd: float | None
    cdd: float | None
    reference_hdd: float | None
    reference_cdd: float | None
    note: str


def weather_adjustment(
    data: BuildingData, days: int, params: BuildingParameters
) -> WeatherAdjustment:
    """The weather factor w of ``data`` (see the module doc)."""
    btype = params.types[data.building_type]
    s_h = btype["heating_share"] if data.heating_share is None else data.heating_share
    s_c = btype["cooling_share"] if data.cooling_share is None else data.cooling_share
    climate = params.climate_regions[data.climate_region]
    ref_h, ref_c = data.reference_hdd, data.reference_cdd
    if days in (365, 366):
        ref_h = climate["reference_hdd"] if ref_h is None else ref_h
        ref_c = climate["reference_cdd"] if ref_c is None else ref_c
    heat, use_h = _scaled(s_h, ref_h, data.hdd)
    cool, use_c = _scaled(s_c, ref_c, data.cdd)
    factor = 1.0 - s_h - s_c + heat + cool
    given = data.hdd is not None or data.cdd is not None
    note = ""
    if given and not (use_h or use_c):
        note = "no reference degree days for this period and climate region"
    return WeatherAdjustment(
        use_h or use_c, factor, s_h, s_c, data.hdd, data.cdd, ref_h, ref_c, note
    )


def _scaled(share: float, reference: float | None, actual: float | None) -> tuple[float, bool]:
    """``share × reference ÷ actual`` and True, or ``share`` unscaled and False."""
    if actual is None or actual <= 0 or reference is None:
        return share, False
    return share * reference / actual, True


def green_space_rate(data: BuildingData, params: BuildingParameters) -> tuple[str, float, str]:
    """(planting type, kgCO2/(m²·a), source) of the building's green space."""
    kind = data.green_space_type or params.green_default_type
    rate = params.green_rates[kind]
    return kind, float(rate["kgco2_per_m2_year"]), str(rate["source"])


def building_result(
    data: BuildingData,
    energy_tco2e: float,
    days: int,
    params: BuildingParameters,
) -> SectorResult:
    """The building part of an account: green-space sink line, intensities, weather reason.

    Parameters
    ----------
    energy_tco2e
        The period's energy emissions (electricity net of on-site renewables), tCO2.
    days
        Days in the period.
    """
    kind, rate, source = green_space_rate(data, params)
    sink_annual_t = data.green_space_m2 * rate / 1000.0
    sink_period_t = sink_annual_t * year_fraction(days)
    lines: tuple[SourceLine, ...] = ()
    if data.green_space_m2 > 0:
        activity = data.green_space_m2 * year_fraction(days)
        lines = (
            SourceLine(
                "green_space_sink",
                kind,
                "CO2",
                activity,
                "m2 x year",
                rate / 1000.0,
                "tCO2/(m2 a)",
                sink_period_t,
                1.0,
                -sink_period_t,
                source,
            ),
        )
    weather = weather_adjustment(data, days, params)
    annual = annualisation_factor(days)
    area = data.floor_area_m2
    raw = (energy_tco2e * annual - sink_annual_t) * 1000.0
    adjusted = (energy_tco2e * weather.factor * annual - sink_annual_t) * 1000.0
    primary = sector_metric(BUILDING_PER_M2, adjusted, area, "m2")
    metrics: list[IntensityMetric] = [primary]
    if weather.applied:
        metrics.append(sector_metric(BUILDING_PER_M2_UNADJUSTED, raw, area, "m2"))
    return SectorResult(
        sector=Sector.BUILDING,
        method_version=params.version,
        lines=lines,
        intensity=Intensity(primary, tuple(metrics)),
        benchmark_group=(Sector.BUILDING.value, data.building_type, data.climate_region),
        reasons=(_weather_reason(weather),),
        details=_details(data, params, kind, rate, weather, annual, energy_tco2e - sink_period_t),
    )


def _weather_reason(w: WeatherAdjustment) -> Reason:
    if not w.applied:
        why = w.note or "no degree days given"
        return Reason(
            "WEATHER_NOT_ADJUSTED",
            f"intensity not weather-normalised ({why})",
            message_zh="未做气象修正",
        )
    parts = []
    if w.hdd is not None and w.reference_hdd is not None:
        parts.append(f"HDD {w.hdd:,.0f} vs reference {w.reference_hdd:,.0f}")
    if w.cdd is not None and w.reference_cdd is not None:
        parts.append(f"CDD {w.cdd:,.0f} vs reference {w.reference_cdd:,.0f}")
    return Reason(
        "WEATHER_ADJUSTED",
        f"weather-normalised to the reference year ({'; '.join(parts)}): energy emissions x "
        f"{w.factor:.3f} (heating share {w.heating_share:.0%}, cooling share "
        f"{w.cooling_share:.0%})",
        value=w.factor,
        message_zh=f"按度日数气象修正,修正系数 {w.factor:.3f}",
    )


def _details(
    data: BuildingData,
    params: BuildingParameters,
    kind: str,
    rate: float,
    weather: WeatherAdjustment,
    annual: float,
    net_tco2e: float,
) -> dict[str, Any]:
    return {
        "building_type": data.building_type,
        "building_type_zh": params.types[data.building_type]["name_zh"],
        "floor_area_m2": data.floor_area_m2,
        "climate_region": data.climate_region,
        "climate_region_zh": params.climate_regions[data.climate_region]["name_zh"],
        "green_space_m2": data.green_space_m2,
        "green_space_type": kind,
        "green_space_kgco2_per_m2_year": rate,
        "onsite_renewable_kwh": data.onsite_renewable_kwh,
        "annualisation_factor": annual,
        "weather": {
            "applied": weather.applied,
            "factor": weather.factor,
            "heating_share": weather.heating_share,
            "cooling_share": weather.cooling_share,
            "hdd": weather.hdd,
            "cdd": weather.cdd,
            "reference_hdd": weather.reference_hdd,
            "reference_cdd": weather.reference_cdd,
        },
        "net_tco2e": net_tco2e,
    }
