"""Marshmallow schemas of credit decisions: applications in, logged decisions out.

Money is decimal yuan (JSON number or string, at most 2 decimals), rates percent a year. The
calling lender is the API key's: an application never names it.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from finance_engine.api.pagination import PageQuerySchema
from scoring.applications import Application, Financials
from scoring.carbon_features import ProjectMetrics

_ID = validate.Length(min=1, max=64)


def _money(**kwargs: Any) -> fields.Decimal:
    """A decimal number (JSON number or string), never NaN or infinite."""
    return fields.Decimal(allow_nan=False, **kwargs)


class FinancialsSchema(Schema):
    """The risk model's financial features (ranges in ``docs/risk-model.md``)."""

    revenue_10k_yuan = _money(required=True)
    leverage = fields.Float(required=True, allow_nan=False, metadata={"description": "Debt/assets"})
    current_ratio = fields.Float(required=True, allow_nan=False)
    return_on_assets = fields.Float(required=True, allow_nan=False, metadata={"example": 0.05})
    years_operating = fields.Float(required=True, allow_nan=False)
    overdue_count_24m = fields.Integer(required=True, strict=True)


class ProjectSchema(Schema):
    """What the borrower declares about the financed project (some adjustments test it)."""

    emissions_cut_tco2e = _money(allow_none=True)
    renewable_share_pct = _money(allow_none=True)
    green_building_stars = fields.Integer(allow_none=True, validate=validate.Range(0, 3))


class OfferApplicationSchema(Schema):
    """An application asking for the best offers among the lender's products."""

    application_id = fields.String(required=True, validate=_ID)
    entity_id = fields.String(required=True, validate=_ID)
    base_limit_yuan = _money(required=True)
    base_rate_pct = _money(required=True)
    requested_amount_yuan = _money(allow_none=True)
    requested_term_months = fields.Integer(allow_none=True, validate=validate.Range(1, 360))
    financials = fields.Nested(FinancialsSchema, required=True)
    project = fields.Nested(ProjectSchema)


class ApplicationSchema(OfferApplicationSchema):
    """An application for one product of the calling lender."""

    product_code = fields.String(required=True, validate=_ID)


class DecisionBatchSchema(Schema):
    applications = fields.List(
        fields.Nested(ApplicationSchema), required=True, validate=validate.Length(1, 1000)
    )


def to_application(doc: dict[str, Any], lender: str | None) -> Application:
    """Build the domain application (raises ``ApplicationError`` naming a field)."""
    project = doc.get("project") or {}
    return Application(
        application_id=doc["application_id"],
        entity_id=doc["entity_id"],
        base_limit_yuan=doc["base_limit_yuan"],
        base_rate_pct=doc["base_rate_pct"],
        financials=Financials.from_mapping(doc["financials"]),
        product_code=doc.get("product_code"),
        requested_amount_yuan=doc.get("requested_amount_yuan"),
        requested_term_months=doc.get("requested_term_months"),
        lender_code=lender,
        project=ProjectMetrics(
            emissions_cut_tco2e=project.get("emissions_cut_tco2e"),
            renewable_share_pct=project.get("renewable_share_pct"),
            green_building_stars=project.get("green_building_stars"),
        ),
    )


class LogRefSchema(Schema):
    sequence = fields.Integer(required=True)
    record_hash = fields.String(required=True)
    prev_hash = fields.String()
    created_at = fields.String(required=True)


class DecisionSchema(Schema):
    """A logged decision (the decision-log payload plus its place in the chain)."""

    application_id = fields.String(required=True)
    entity_id = fields.String(required=True)
    product_code = fields.String(required=True)
    product_version = fields.Integer(required=True)
    lender_code = fields.String(required=True)
    decided_on = fields.String(required=True)
    outcome = fields.String(required=True, metadata={"description": "approve, refer, decline"})
    eligible = fields.Boolean(required=True)
    grade_basis = fields.String(allow_none=True)
    grade = fields.String(allow_none=True)
    pd = fields.Float(allow_none=True, metadata={"description": "12-month default probability"})
    risk_band = fields.String(allow_none=True)
    terms = fields.Dict(allow_none=True, required=True)
    reasons = fields.List(fields.Dict(), required=True)
    versions = fields.Dict(required=True)
    application = fields.Dict(required=True)
    account = fields.Dict(allow_none=True, required=True)
    log = fields.Nested(LogRefSchema, required=True)


class DecisionListSchema(Schema):
    items = fields.List(fields.Nested(DecisionSchema), required=True)


class RefusedSchema(Schema):
    application_id = fields.String(required=True)
    entity_id = fields.String(required=True)
    reason = fields.String(required=True)


class BatchResultSchema(Schema):
    """Decisions in application order; applications whose entity is not visible are refused."""

    items = fields.List(fields.Nested(DecisionSchema), required=True)
    refused = fields.List(fields.Nested(RefusedSchema), required=True)


class DecisionSummarySchema(Schema):
    sequence = fields.Integer(required=True)
    created_at = fields.String(required=True)
    application_id = fields.String(required=True)
    entity_id = fields.String(required=True)
    product_code = fields.String(required=True)
    outcome = fields.String(required=True)
    grade = fields.String(allow_none=True)
    pd = fields.Float(allow_none=True)
    final_limit_yuan = fields.String(allow_none=True)
    final_rate_pct = fields.String(allow_none=True)
    record_hash = fields.String(required=True)


class DecisionQuerySchema(PageQuerySchema):
    entity_id = fields.String(validate=_ID)
    outcome = fields.String(validate=validate.OneOf(["approve", "refer", "decline"]))
