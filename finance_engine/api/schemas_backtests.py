"""Marshmallow schemas of backtest jobs: the job record, its list filters, the upload form."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from finance_engine.api.pagination import PageQuerySchema
from finance_engine.tables_backtests import JOB_STATUSES


class BacktestQuerySchema(PageQuerySchema):
    """Filters of the job list."""

    status = fields.String(validate=validate.OneOf(JOB_STATUSES))


class BacktestJobSchema(Schema):
    """A backtest job: status, last stage finished, times (UTC), failure reason, headline."""

    id = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(JOB_STATUSES))
    stage = fields.String(
        required=True, metadata={"description": "The last stage finished; empty before any"}
    )
    submitted_by = fields.String(required=True, metadata={"description": "Id of the API key"})
    created_at = fields.DateTime(required=True)
    started_at = fields.DateTime(required=True, allow_none=True)
    finished_at = fields.DateTime(required=True, allow_none=True)
    error = fields.String(
        required=True, allow_none=True, metadata={"description": "Why the job failed"}
    )
    headline = fields.Dict(
        required=True,
        allow_none=True,
        metadata={
            "description": "When succeeded: champion, challenger and delta headline figures "
            "and the swap-set sizes (the full summary is at /result)"
        },
    )


UPLOAD_FORM = {
    "required": True,
    "description": "The history (CSV or Parquet, docs/backtests.md) and the challenger rule "
    "patch (`finance-engine/rule-patch@1`); the champion is the packaged catalog.",
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["history", "challenger"],
                "properties": {
                    "history": {"type": "string", "format": "binary"},
                    "challenger": {"type": "string", "format": "binary"},
                    "champion": {"type": "string", "enum": ["packaged"]},
                },
                "additionalProperties": False,
            }
        }
    },
}
"""The OpenAPI request body of ``POST /backtests`` (multipart, documented by hand)."""
