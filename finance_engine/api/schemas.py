"""Marshmallow schemas of the API's data resources (entities, readings, activity, accounts,
alerts, products); keys and consents are in :mod:`finance_engine.api.schemas_access`.

Request schemas reject unknown fields (marshmallow's default); every field states its unit.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from accounting.alerts import AlertKind, Severity
from accounting.energy import EnergyType
from accounting.vocab import Colour, Sector
from finance_engine.api.pagination import PageQuerySchema

_SECTORS = [s.value for s in Sector]
_ID = validate.Length(min=1, max=64)


class EntityInSchema(Schema):
    """An entity to create or update."""

    id = fields.String(required=True, validate=_ID)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    sector = fields.String(required=True, validate=validate.OneOf(_SECTORS))
    industry_code = fields.String(validate=validate.Length(max=16))
    region = fields.String(validate=validate.Length(max=64))
    grid_region = fields.String(validate=validate.Length(max=32))


class MeterInSchema(Schema):
    """A meter to create or update (energy type, unit and reading kind never change)."""

    code = fields.String(required=True, validate=_ID)
    entity = fields.String(required=True, validate=_ID)
    energy_type = fields.String(
        required=True, validate=validate.OneOf([e.value for e in EnergyType])
    )
    unit = fields.String(validate=validate.Length(max=16))
    reading_kind = fields.String(validate=validate.OneOf(["interval", "cumulative"]))
    rated_max_per_interval = fields.Float(
        allow_none=True, validate=validate.Range(min=0, min_inclusive=False)
    )
    counter_rollover = fields.Float(
        allow_none=True, validate=validate.Range(min=0, min_inclusive=False)
    )
    steam_enthalpy_kj_per_kg = fields.Float(
        allow_none=True, validate=validate.Range(min=0, min_inclusive=False)
    )


class RegistryInSchema(Schema):
    """Entities and meters to register (``docs/ingest-formats.md``, Meters)."""

    entities = fields.List(fields.Nested(EntityInSchema), load_default=list)
    meters = fields.List(fields.Nested(MeterInSchema), load_default=list)


class RegistryOutcomeSchema(Schema):
    entities_created = fields.Integer(required=True)
    entities_updated = fields.Integer(required=True)
    meters_created = fields.Integer(required=True)
    meters_updated = fields.Integer(required=True)


class EntitySchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    sector = fields.String(required=True)
    industry_code = fields.String()
    region = fields.String()
    grid_region = fields.String()


class EntityQuerySchema(PageQuerySchema):
    sector = fields.String(validate=validate.OneOf(_SECTORS))


class MeterSchema(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    entity_id = fields.String(required=True)
    energy_type = fields.String(required=True)
    unit = fields.String(required=True)
    reading_kind = fields.String(required=True)
    rated_max_per_interval = fields.Float(allow_none=True)
    counter_rollover = fields.Float(allow_none=True)
    steam_enthalpy_kj_per_kg = fields.Float(allow_none=True)


class RejectionSchema(Schema):
    row = fields.Integer(required=True)
    field = fields.String(required=True)
    reason = fields.String(required=True)


class GapSchema(Schema):
    meter = fields.String(required=True)
    start_s = fields.Integer(required=True, metadata={"description": "Epoch seconds UTC"})
    end_s = fields.Integer(required=True, metadata={"description": "Epoch seconds UTC, exclusive"})
    intervals = fields.Integer(required=True)


class BatchReportSchema(Schema):
    """The outcome of one ingest batch: ``rows = accepted + duplicates + len(rejected)``."""

    batch_id = fields.Integer(required=True)
    source = fields.String(required=True)
    rows = fields.Integer(required=True)
    accepted = fields.Integer(required=True)
    duplicates = fields.Integer(required=True)
    rejected = fields.List(fields.Nested(RejectionSchema), required=True)
    gaps = fields.List(fields.Nested(GapSchema), required=True)
    revised = fields.Integer(required=True)
    meter_ids = fields.List(fields.Integer(), required=True)
    start_s = fields.Integer(allow_none=True, required=True)
    end_s = fields.Integer(allow_none=True, required=True)
    alerts = fields.Integer(allow_none=True, required=True)


class ReadingBatchSchema(Schema):
    """A stored ingest batch; ``report`` is the full batch report (null in lists)."""

    batch_id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"description": "running or complete"})
    source = fields.String(required=True)
    received_at = fields.String(required=True)
    rows = fields.Integer(required=True)
    accepted = fields.Integer(required=True)
    duplicates = fields.Integer(required=True)
    rejected_count = fields.Integer(required=True)
    report = fields.Dict(allow_none=True, required=True)


class PeriodSchema(Schema):
    start = fields.Date(required=True)
    end = fields.Date(required=True)

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if data["end"] < data["start"]:
            raise ValidationError("must not be before start", "end")


class PeriodOutSchema(Schema):
    """A period of local dates, both inclusive (ISO 8601)."""

    start = fields.String(required=True)
    end = fields.String(required=True)


class ActivityInSchema(Schema):
    """Activity records (validated one by one: a bad record is rejected, not the batch)."""

    activity = fields.List(
        fields.Dict(),
        required=True,
        validate=validate.Length(max=100_000),
        metadata={"description": "Records as in `finance-engine activity import` files"},
    )
    replace = fields.Boolean(
        load_default=False,
        metadata={"description": "Replace a stored record of the same entity and period"},
    )


class ActivityRejectionSchema(Schema):
    record = fields.Integer(required=True)
    error = fields.String(required=True)


class ActivityReportSchema(Schema):
    records = fields.Integer(required=True)
    stored = fields.Integer(required=True)
    replaced = fields.Integer(required=True)
    duplicates = fields.Integer(required=True)
    rejected = fields.List(fields.Nested(ActivityRejectionSchema), required=True)


class ActivityQuerySchema(PageQuerySchema):
    entity_id = fields.String(validate=_ID)
    period_start = fields.Date()
    period_end = fields.Date()


class ActivitySchema(Schema):
    entity_id = fields.String(required=True)
    period = fields.Nested(PeriodOutSchema, required=True)
    value_added_10k_yuan = fields.String(allow_none=True, required=True)
    output_value_10k_yuan = fields.String(allow_none=True, required=True)
    data = fields.Dict(required=True)


class ComputeAccountsSchema(Schema):
    """Compute, grade and store the industry and energy accounts of a period."""

    period = fields.Nested(PeriodSchema, required=True)
    factor_set = fields.String(
        validate=validate.Regexp(r"^[A-Za-z0-9._:-]{1,64}$"),
        metadata={"description": "Factor-set version (default: the one in force at the start)"},
    )
    benchmark = fields.String(
        validate=validate.Regexp(r"^[A-Za-z0-9._:-]{1,64}$"),
        metadata={"description": "A stored benchmark version (default: the period's population)"},
    )
    percentile = fields.Float(
        load_default=50.0,
        validate=validate.Range(0, 100, min_inclusive=False),
        metadata={"description": "Population benchmark percentile, percent"},
    )


class AccountRunSchema(Schema):
    period = fields.Dict(required=True)
    factor_set = fields.String(required=True)
    benchmark = fields.String(required=True)
    grading = fields.String(required=True)
    stored = fields.Integer(required=True)
    already_stored = fields.Integer(required=True)
    provisional = fields.Integer(required=True)
    skipped = fields.List(fields.Dict(), required=True)
    colours = fields.Dict(required=True)
    grades = fields.Dict(required=True)


class AccountSummarySchema(Schema):
    id = fields.Integer(required=True)
    entity_id = fields.String(required=True)
    sector = fields.String(required=True)
    period = fields.Dict(required=True)
    emissions_tco2e = fields.Float(required=True)
    intensity = fields.Float(allow_none=True, required=True)
    intensity_unit = fields.String(required=True)
    carbon_efficiency_grade = fields.Integer(allow_none=True, required=True)
    carbon_label = fields.String(required=True)
    colour = fields.String(required=True)
    score = fields.Float(allow_none=True, required=True)
    provisional = fields.Boolean(required=True)
    completeness = fields.Float(required=True, metadata={"description": "Share 0-1"})
    quality_tier = fields.Integer(required=True)
    factor_set = fields.String(required=True)
    benchmark = fields.String(required=True)
    grading = fields.String(required=True)


class AccountQuerySchema(PageQuerySchema):
    entity_id = fields.String(validate=_ID)
    sector = fields.String(validate=validate.OneOf(_SECTORS))
    period_end = fields.Date()
    colour = fields.String(validate=validate.OneOf([c.value for c in Colour]))


class AccountSchema(Schema):
    """A full stored account (as ``finance-engine account calc --json`` prints it)."""

    id = fields.Integer(required=True)
    entity = fields.Dict(required=True)
    period = fields.Dict(required=True)
    activity = fields.Dict()
    energy = fields.Dict()
    purchased_electricity_kwh = fields.Raw(allow_none=True)
    emissions_tco2e = fields.Dict(required=True)
    intensity = fields.Raw(allow_none=True)
    grade = fields.Dict(required=True)
    data_quality = fields.Dict()
    factor_set = fields.String()
    factor_set_sha256 = fields.String()
    factors_used = fields.List(fields.Dict())
    benchmark = fields.Raw(allow_none=True)
    regional_intensity = fields.Raw(allow_none=True)
    previous_intensity = fields.Raw(allow_none=True)
    grading_version = fields.String()


class AggregateQuerySchema(Schema):
    period_end = fields.Date()


class AggregateSchema(Schema):
    period = fields.Dict(required=True)
    sector = fields.String(required=True)
    colour = fields.String(allow_none=True, required=True)
    accounts = fields.Integer(required=True)
    emissions_tco2e = fields.Float(required=True)
    provisional = fields.Integer(required=True)


class AggregateListSchema(Schema):
    items = fields.List(fields.Nested(AggregateSchema), required=True)


class AlertQuerySchema(PageQuerySchema):
    entity_id = fields.String(validate=_ID)
    kind = fields.String(validate=validate.OneOf([k.value for k in AlertKind]))
    severity = fields.String(validate=validate.OneOf([s.value for s in Severity]))
    since_s = fields.Integer(
        validate=validate.Range(0, 10**11),
        metadata={"description": "Only alerts starting at or after this epoch second (UTC)"},
    )


class AlertSchema(Schema):
    """An alert; quantities in the meter's native ``unit`` per 15-minute interval."""

    id = fields.Integer(required=True)
    meter_id = fields.Integer(required=True)
    meter_code = fields.String(required=True)
    entity_id = fields.String(required=True)
    energy_type = fields.String(required=True)
    unit = fields.String(required=True)
    kind = fields.String(required=True)
    severity = fields.String(required=True)
    interval_start_s = fields.Integer(required=True)
    interval_end_s = fields.Integer(required=True)
    expected = fields.Float(allow_none=True, required=True)
    actual = fields.Float(allow_none=True, required=True)
    message = fields.String(required=True)
    status = fields.String(required=True)
    batch_id = fields.Integer(allow_none=True, required=True)


class ProductQuerySchema(PageQuerySchema):
    sector = fields.String(validate=validate.OneOf(_SECTORS))
    lender = fields.String(validate=validate.Length(min=1, max=64))
    on = fields.Date(metadata={"description": "In force on this date (default today)"})


class ProductOnSchema(Schema):
    on = fields.Date(metadata={"description": "The version in force on this date (default latest)"})


class ProductSchema(Schema):
    """A product version (the full document of ``docs/products.md`` plus its lender)."""

    code = fields.String(required=True)
    version = fields.Integer(required=True)
    lender = fields.String(required=True)
    name_zh = fields.String(required=True)
    name_en = fields.String(required=True)
    sectors = fields.List(fields.String(), required=True)
    purpose = fields.String(required=True)
    min_amount_yuan = fields.String(required=True)
    max_amount_yuan = fields.String(required=True)
    min_term_months = fields.Integer(required=True)
    max_term_months = fields.Integer(required=True)
    rate = fields.Dict(required=True)
    grade_basis = fields.String(required=True)
    grade_table = fields.Dict(required=True)
    adjustments = fields.List(fields.Dict(), required=True)
    max_total_discount_bp = fields.Integer(allow_none=True)
    eligibility = fields.Dict(required=True)
    cerf_eligible = fields.Boolean(required=True)
    cerf_category = fields.String(allow_none=True)
    effective_from = fields.String(required=True)
    effective_to = fields.String(allow_none=True)
    source = fields.String(required=True)
    notes = fields.String(required=True)
    illustrative = fields.Boolean(required=True)


class FactorSetSchema(Schema):
    version = fields.String(required=True)
    effective_from = fields.String(allow_none=True)
    effective_to = fields.String(allow_none=True)
    sha256 = fields.String(required=True)
    used_by_accounts = fields.Boolean(required=True)


class FactorSetListSchema(Schema):
    items = fields.List(fields.Nested(FactorSetSchema), required=True)
