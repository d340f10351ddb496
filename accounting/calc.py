"""The pure carbon-account calculator behind ``finance-engine account calc``.

Input: one self-contained JSON document (no database)::

    {
      "entity": {"id", "name", "sector": "industry"|"energy"|"building"|"transport"|"agriculture",
                 "industry_code", "region", "grid_region"?},
      "period": {"start": "2024-01-01", "end": "2024-12-31"},       # local dates, inclusive
      "energy": [{"type", "unit", "quantity", "meter"?, "steam_enthalpy_kj_per_kg"?}, ...],
      "readings": [{"meter", "type", "unit", "interval_start", "quantity"}, ...],
      "activity": {"value_added_10k_yuan"?, "output_value_10k_yuan"?,
                   "products"?: [{"name", "unit", "quantity"}],
                   "electricity_supplied_mwh"?, "heat_supplied_gj"?},
      "benchmark"?: {"value" | "industry_average_intensity", "source"?, "version"?},
      "regional_intensity"?: number, "previous"?: {"intensity"}, "factor_set"?: "CN-2023",
      "building"? | "transport"? | "agriculture"?: {...}            # the sector's section
    }

A building, transport or agriculture account needs its sector's section (and no other; see
:mod:`accounting.calc_sectors` for the fields); ``activity`` is then optional (value added and
output value still count: output value is the denominator of a farm's per-10k-yuan intensity),
and a farm may have no energy at all.

``energy`` (declared totals) and/or ``readings`` (15-minute interval values, summed per meter)
must be given; a type may not appear in both. Reading timestamps are ISO 8601; naive ones are
read as Asia/Shanghai; each must start a 15-minute interval inside the period. Exact duplicate
readings are ignored, conflicting ones rejected. Completeness = distinct intervals received ÷
(96 × days × meters). Money is parsed as Decimal. Unknown keys are rejected; every error names
the field (``energy[2].unit: ...``). Without a factor set the one effective at the period start
is used; without a benchmark no carbon-efficiency grade is given (none is invented).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from accounting.account import (
    SUPPORTED_SECTORS,
    AccountInput,
    Activity,
    BenchmarkRef,
    CarbonAccountResult,
    EntityRef,
    Period,
    Product,
    compute_account,
    compute_intensities,
)
from accounting.calc_readings import CALC_TIMEZONE, CalcInputError, sum_readings
from accounting.calc_sectors import (
    SECTION_SCHEMAS,
    AgricultureSchema,
    BuildingSchema,
    TransportSchema,
    sector_data_from_section,
    sector_issues,
)
from accounting.emissions import EnergyTotal
from accounting.energy import ACCEPTED_UNITS, EnergyType
from accounting.factors import FactorSet, FactorSetError, FactorSetRegistry
from accounting.grading import GradingConfig
from accounting.quality import completeness
from accounting.schema_errors import flatten_messages
from accounting.sectors import SectorData, default_sector_parameters, primary_metric
from accounting.vocab import Sector

# --------------------------------------------------------------------------- schemas

_TEXT = validate.Length(min=1, max=200)
_NON_NEGATIVE = validate.Range(min=0)
_POSITIVE = validate.Range(min=0, min_inclusive=False)


class _EntitySchema(Schema):
    id = fields.Str(required=True, validate=validate.Length(min=1, max=64))
    name = fields.Str(required=True, validate=_TEXT)
    sector = fields.Str(
        required=True, validate=validate.OneOf(sorted(s.value for s in SUPPORTED_SECTORS))
    )
    industry_code = fields.Str(required=True, validate=validate.Length(max=16))
    region = fields.Str(required=True, validate=validate.Length(max=64))
    grid_region = fields.Str(load_default="", validate=validate.Length(max=32))


class _PeriodSchema(Schema):
    start = fields.Date(required=True)
    end = fields.Date(required=True)

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if data["end"] < data["start"]:
            raise ValidationError("must not be before start", "end")


class _EnergySchema(Schema):
    type = fields.Str(required=True, validate=validate.OneOf([t.value for t in EnergyType]))
    unit = fields.Str(required=True)
    quantity = fields.Float(required=True, validate=_NON_NEGATIVE)
    meter = fields.Str(load_default=None, validate=validate.Length(min=1, max=64))
    steam_enthalpy_kj_per_kg = fields.Float(load_default=None, validate=_POSITIVE)

    @validates_schema
    def _unit_fits(self, data: dict[str, Any], **_: Any) -> None:
        allowed = ACCEPTED_UNITS[EnergyType(data["type"])]
        if data["unit"] not in allowed:
            raise ValidationError(
                f"{data['unit']!r} is not a unit of {data['type']} "
                f"(use {', '.join(sorted(allowed))})",
                "unit",
            )


class _ProductSchema(Schema):
    name = fields.Str(required=True, validate=_TEXT)
    unit = fields.Str(required=True, validate=validate.Length(min=1, max=32))
    quantity = fields.Float(required=True, validate=_POSITIVE)


class _ActivitySchema(Schema):
    value_added_10k_yuan = fields.Decimal(load_default=None, allow_none=True)
    output_value_10k_yuan = fields.Decimal(
        load_default=None, allow_none=True, validate=_NON_NEGATIVE
    )
    products = fields.List(fields.Nested(_ProductSchema), load_default=list)
    electricity_supplied_mwh = fields.Float(
        load_default=None, allow_none=True, validate=_NON_NEGATIVE
    )
    heat_supplied_gj = fields.Float(load_default=None, allow_none=True, validate=_NON_NEGATIVE)


EnergySchema = _EnergySchema
"""Public name of the energy-total schema (reused by activity files)."""
ActivitySchema = _ActivitySchema
"""Public name of the activity schema (reused by activity files)."""
PeriodSchema = _PeriodSchema
"""Public name of the period schema (``start`` <= ``end`` dates; reused by activity files)."""


class _BenchmarkSchema(Schema):
    value = fields.Float(validate=_POSITIVE)
    industry_average_intensity = fields.Float(validate=_POSITIVE)
    source = fields.Str(load_default="given in the calculator input")
    version = fields.Str(load_default="calc-input", validate=validate.Length(min=1, max=64))

    @validates_schema
    def _exactly_one(self, data: dict[str, Any], **_: Any) -> None:
        if ("value" in data) == ("industry_average_intensity" in data):
            raise ValidationError("give exactly one of value, industry_average_intensity", "value")


class _PreviousSchema(Schema):
    intensity = fields.Float(required=True, validate=_POSITIVE)


class _CalcSchema(Schema):
    entity = fields.Nested(_EntitySchema, required=True)
    period = fields.Nested(_PeriodSchema, required=True)
    energy = fields.List(fields.Nested(_EnergySchema), load_default=list)
    readings = fields.Raw(load_default=list)
    activity = fields.Nested(_ActivitySchema, load_default=None)
    benchmark = fields.Nested(_BenchmarkSchema, load_default=None)
    regional_intensity = fields.Float(load_default=None, validate=_POSITIVE)
    previous = fields.Nested(_PreviousSchema, load_default=None)
    factor_set = fields.Str(load_default=None, validate=validate.Length(min=1, max=64))
    building = fields.Nested(BuildingSchema, load_default=None)
    transport = fields.Nested(TransportSchema, load_default=None)
    agriculture = fields.Nested(AgricultureSchema, load_default=None)

    @validates_schema
    def _some_energy(self, data: dict[str, Any], **_: Any) -> None:
        if not isinstance(data.get("readings", []), list):
            raise ValidationError("must be a list of readings", "readings")
        sector = data["entity"]["sector"] if "entity" in data else None
        if sector in (Sector.INDUSTRY.value, Sector.ENERGY.value) and data.get("activity") is None:
            raise ValidationError("Missing data for required field.", "activity")
        if sector == Sector.AGRICULTURE.value:
            return
        if not data.get("energy") and not data.get("readings"):
            raise ValidationError("give energy totals or readings (at least one entry)", "energy")


# --------------------------------------------------------------------------- parsing


def parse_calc_document(text: str) -> dict[str, Any]:
    """Parse JSON text (numbers with a fraction become Decimal, so money stays exact)."""
    try:
        doc = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise CalcInputError("document", f"not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(doc, dict):
        raise CalcInputError("document", "must be a JSON object")
    return doc


def parse_calc_input(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``doc`` against the schema; returns the loaded data (CalcInputError on error)."""
    try:
        return dict(_CalcSchema().load(dict(doc)))
    except ValidationError as exc:
        field, reason = flatten_messages(exc.messages)[0]
        raise CalcInputError(field, reason) from None


def run_calc(
    doc: Mapping[str, Any], factor_sets: FactorSetRegistry, grading: GradingConfig
) -> CarbonAccountResult:
    """Validate ``doc``, choose the factor set and compute the graded account."""
    data = parse_calc_input(doc)
    period = Period(data["period"]["start"], data["period"]["end"])
    factor_set = _choose_factor_set(data["factor_set"], period, factor_sets)
    entity = _entity(data["entity"], factor_set)
    declared = _declared(data["energy"], factor_set)
    metered, received, expected = sum_readings(data["readings"], period)
    _no_type_in_both(data["energy"], metered)
    activity = Activity() if data["activity"] is None else _activity(data["activity"])
    energy_types = {t.energy_type for t in (*metered, *declared)}
    sector_data = _sector_section(data, entity.sector, period, energy_types)
    item = AccountInput(
        entity=entity,
        period=period,
        energy=(*metered, *declared),
        activity=activity,
        benchmark=_benchmark(data["benchmark"], entity.sector, activity, sector_data),
        regional_intensity=data["regional_intensity"],
        previous_intensity=None if data["previous"] is None else data["previous"]["intensity"],
        completeness=float(completeness(received, expected)) if metered else 1.0,
        metered=bool(metered),
        received_intervals=received if metered else None,
        expected_intervals=expected if metered else None,
        sector_data=sector_data,
    )
    return compute_account(item, factor_set, grading)


def _sector_section(
    data: Mapping[str, Any], sector: Sector, period: Period, energy_types: set[EnergyType]
) -> SectorData | None:
    """The sector input of the document: its section must match the entity's sector."""
    for other in SECTION_SCHEMAS:
        if other is not sector and data[other.value] is not None:
            raise CalcInputError(
                other.value, f"only for the {other.value} sector (entity.sector is {sector.value})"
            )
    if sector not in SECTION_SCHEMAS:
        return None
    section = data[sector.value]
    if section is None:
        raise CalcInputError(sector.value, f"required for a {sector.value} account")
    sector_data = sector_data_from_section(sector, section)
    issues = sector_issues(
        sector_data,
        days=period.days,
        energy_types=energy_types,
        params=default_sector_parameters(),
    )
    if issues:
        raise CalcInputError(*issues[0])
    return sector_data


def _choose_factor_set(
    version: str | None, period: Period, registry: FactorSetRegistry
) -> FactorSet:
    try:
        return registry.get(version) if version else registry.effective_on(period.start)
    except FactorSetError as exc:
        raise CalcInputError("factor_set" if version else "period.start", str(exc)) from None


def _entity(data: Mapping[str, Any], factor_set: FactorSet) -> EntityRef:
    if data["grid_region"]:
        try:
            factor_set.grid_factor(data["grid_region"])
        except FactorSetError as exc:
            raise CalcInputError("entity.grid_region", str(exc)) from None
    return EntityRef(
        data["id"],
        data["name"],
        Sector(data["sector"]),
        data["industry_code"],
        data["region"],
        data["grid_region"],
    )


def _declared(rows: Sequence[Mapping[str, Any]], factor_set: FactorSet) -> list[EnergyTotal]:
    out = []
    for i, row in enumerate(rows):
        enthalpy = row["steam_enthalpy_kj_per_kg"]
        if enthalpy is not None and enthalpy <= factor_set.steam_reference_enthalpy_kj_per_kg:
            raise CalcInputError(
                f"energy[{i}].steam_enthalpy_kj_per_kg",
                "must exceed the reference "
                f"enthalpy {factor_set.steam_reference_enthalpy_kj_per_kg:g} kJ/kg",
            )
        out.append(
            EnergyTotal(
                EnergyType(row["type"]), row["quantity"], row["unit"], row["meter"], enthalpy
            )
        )
    return out


def _no_type_in_both(declared: Sequence[Mapping[str, Any]], metered: Sequence[EnergyTotal]) -> None:
    metered_types = {t.energy_type.value for t in metered}
    for i, row in enumerate(declared):
        if row["type"] in metered_types:
            raise CalcInputError(
                f"energy[{i}].type",
                f"{row['type']} is also given as readings (it would be counted twice)",
            )


def _activity(data: Mapping[str, Any]) -> Activity:
    return Activity(
        value_added_10k_yuan=data["value_added_10k_yuan"],
        output_value_10k_yuan=data["output_value_10k_yuan"],
        products=tuple(Product(p["name"], p["unit"], p["quantity"]) for p in data["products"]),
        electricity_supplied_mwh=data["electricity_supplied_mwh"],
        heat_supplied_gj=data["heat_supplied_gj"],
    )


def _benchmark(
    data: Mapping[str, Any] | None,
    sector: Sector,
    activity: Activity,
    sector_data: SectorData | None,
) -> BenchmarkRef | None:
    if data is None:
        return None
    value = data.get("value", data.get("industry_average_intensity"))
    metric = (
        compute_intensities(sector, 0.0, activity).primary.metric
        if sector_data is None
        else primary_metric(sector_data, activity)
    )
    return BenchmarkRef(float(value), data["version"], data["source"], metric)


__all__ = [
    "CALC_TIMEZONE",
    "CalcInputError",
    "parse_calc_document",
    "parse_calc_input",
    "run_calc",
    "sum_readings",
]
