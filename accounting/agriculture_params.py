"""Factors of the agriculture and forestry method (``accounting/data/sectors/agriculture-v1.json``).

Loaded and validated once per file; every value keeps its source. See :mod:`accounting.agriculture`
for how they are applied.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from marshmallow import Schema, fields, validate

from accounting.sector_lines import DEFAULT_SECTOR_DIR, SectorDataError, load_data_file

SPECIES: tuple[str, ...] = (
    "pig",
    "dairy_cattle",
    "other_cattle",
    "buffalo",
    "sheep",
    "goat",
    "poultry",
)
"""Livestock species codes."""
MANURE_SYSTEMS: tuple[str, ...] = (
    "liquid_slurry",
    "solid_storage",
    "dry_lot",
    "daily_spread",
    "anaerobic_digester",
    "uncovered_lagoon",
    "composting",
)
WATER_REGIMES: tuple[str, ...] = ("continuously_flooded", "single_drainage", "multiple_drainage")

_NON_NEGATIVE = validate.Range(min=0)
_FRACTION = validate.Range(min=0, max=1)
_TEXT = validate.Length(min=1)


class _SpeciesSchema(Schema):
    name_zh = fields.Str(required=True)
    enteric_ch4_kg_per_head_year = fields.Float(required=True, validate=_NON_NEGATIVE)
    vs_kg_per_head_day = fields.Float(required=True, validate=_NON_NEGATIVE)
    bo_m3_ch4_per_kg_vs = fields.Float(required=True, validate=_NON_NEGATIVE)
    source = fields.Str(required=True, validate=_TEXT)


class _SystemSchema(Schema):
    name_zh = fields.Str(required=True)
    mcf = fields.Float(required=True, validate=_FRACTION)
    ef3_kg_n2o_n_per_kg_n = fields.Float(required=True, validate=_FRACTION)
    source = fields.Str(required=True, validate=_TEXT)


class _ManureSchema(Schema):
    ch4_kg_per_m3 = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False))
    annual_mean_temperature_c = fields.Float(required=True)
    source = fields.Str(required=True, validate=_TEXT)
    systems = fields.Dict(keys=fields.Str(), values=fields.Nested(_SystemSchema), required=True)


class _RegimeSchema(Schema):
    scaling_factor = fields.Float(required=True, validate=_NON_NEGATIVE)
    source = fields.Str(required=True, validate=_TEXT)


class _RiceSchema(Schema):
    baseline_kg_ch4_per_ha_day = fields.Float(required=True, validate=_NON_NEGATIVE)
    source = fields.Str(required=True, validate=_TEXT)
    water_regimes = fields.Dict(
        keys=fields.Str(), values=fields.Nested(_RegimeSchema), required=True
    )


class _FertiliserSchema(Schema):
    ef1_kg_n2o_n_per_kg_n = fields.Float(required=True, validate=_FRACTION)
    ef1fr_kg_n2o_n_per_kg_n = fields.Float(required=True, validate=_FRACTION)
    source = fields.Str(required=True, validate=_TEXT)


class _RateSchema(Schema):
    value = fields.Float(required=True, validate=_NON_NEGATIVE)
    source = fields.Str(required=True, validate=_TEXT)


class _SinksSchema(Schema):
    forest_tco2_per_ha_year = fields.Nested(_RateSchema, required=True)
    orchard_tco2_per_ha_year = fields.Nested(_RateSchema, required=True)
    organic_fertiliser_tco2e_per_t = fields.Nested(_RateSchema, required=True)


class AgricultureFileSchema(Schema):
    """``agriculture-v1.json``."""

    version = fields.Str(required=True, validate=validate.Length(min=1, max=64))
    description = fields.Str(required=True)
    species = fields.Dict(keys=fields.Str(), values=fields.Nested(_SpeciesSchema), required=True)
    manure = fields.Nested(_ManureSchema, required=True)
    rice = fields.Nested(_RiceSchema, required=True)
    fertiliser = fields.Nested(_FertiliserSchema, required=True)
    sinks = fields.Nested(_SinksSchema, required=True)


@dataclass(frozen=True)
class AgricultureParameters:
    """One version of the agriculture factors (values and sources)."""

    version: str
    sha256: str
    species: Mapping[str, Mapping[str, Any]]
    manure_systems: Mapping[str, Mapping[str, Any]]
    manure_ch4_kg_per_m3: float
    manure_source: str
    rice_kg_ch4_per_ha_day: float
    rice_source: str
    water_regimes: Mapping[str, Mapping[str, Any]]
    ef1: float
    ef1fr: float
    fertiliser_source: str
    sinks: Mapping[str, Mapping[str, Any]]
    """``forest_tco2_per_ha_year``, ``orchard_tco2_per_ha_year``,
    ``organic_fertiliser_tco2e_per_t`` -> {value, source}."""

    def manure_ch4_kg_per_head_year(self, species: str, system: str) -> float:
        """Tier 1 manure CH4 factor: VS × 365 × Bo × 0.67 × MCF, kg CH4/head/yr."""
        s = self.species[species]
        mcf = float(self.manure_systems[system]["mcf"])
        return (
            float(
                s["vs_kg_per_head_day"]
                * 365.0
                * s["bo_m3_ch4_per_kg_vs"]
                * self.manure_ch4_kg_per_m3
            )
            * mcf
        )


def load_agriculture_parameters(
    path: Path = DEFAULT_SECTOR_DIR / "agriculture-v1.json",
) -> AgricultureParameters:
    """Load and validate an agriculture data file (every species, system and regime present)."""
    loaded = load_data_file(path, AgricultureFileSchema())
    data = loaded.data
    wanted = (
        ("species", data["species"], SPECIES),
        ("manure.systems", data["manure"]["systems"], MANURE_SYSTEMS),
        ("rice.water_regimes", data["rice"]["water_regimes"], WATER_REGIMES),
    )
    for name, table, codes in wanted:
        missing = sorted(set(codes) - set(table))
        if missing:
            raise SectorDataError(f"{path.name}: {name}: missing {', '.join(missing)}")
    manure, rice, fert = data["manure"], data["rice"], data["fertiliser"]
    return AgricultureParameters(
        version=loaded.version,
        sha256=loaded.sha256,
        species=MappingProxyType(dict(data["species"])),
        manure_systems=MappingProxyType(dict(manure["systems"])),
        manure_ch4_kg_per_m3=manure["ch4_kg_per_m3"],
        manure_source=manure["source"],
        rice_kg_ch4_per_ha_day=rice["baseline_kg_ch4_per_ha_day"],
        rice_source=rice["source"],
        water_regimes=MappingProxyType(dict(rice["water_regimes"])),
        ef1=fert["ef1_kg_n2o_n_per_kg_n"],
        ef1fr=fert["ef1fr_kg_n2o_n_per_kg_n"],
        fertiliser_source=fert["source"],
        sinks=MappingProxyType(dict(data["sinks"])),
    )
