"""Marshmallow schemas of carbon credit reports: issue requests, registry records, verification.

A report is named in paths by its id, its report number (``CCR-YYYYMMDD-XXXXXXXX``) or its
verification code (``XXXX-XXXX-XXXX-XXXX``, Crockford base 32). Money is decimal yuan.
"""

from __future__ import annotations

from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate

from finance_engine.api.pagination import PageQuerySchema
from reports import Lang

_ID = validate.Length(min=1, max=64)
MAX_BASE_LIMIT_YUAN = 10**12
"""The largest base limit a report accepts: one trillion yuan."""


def _base_limit(value: Decimal) -> None:
    """Positive, at most one trillion yuan, at most 2 decimal places (validated here, and
    documented in the field's metadata: apispec would render Decimal bounds as strings)."""
    if not 0 < value <= MAX_BASE_LIMIT_YUAN:
        raise ValidationError(f"must be more than 0 and at most {MAX_BASE_LIMIT_YUAN} yuan")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValidationError("at most 2 decimal places (yuan and fen)")


class ReportIssueSchema(Schema):
    """A report to issue on an entity's latest stored carbon account."""

    entity_id = fields.String(required=True, validate=_ID)
    lang = fields.String(
        load_default=Lang.BILINGUAL.value,
        validate=validate.OneOf([lang.value for lang in Lang]),
        metadata={"description": "zh, en, or bilingual (Chinese with English labels)"},
    )
    base_limit_yuan = fields.Decimal(
        allow_nan=False,
        validate=_base_limit,
        metadata={
            "description": "Base credit limit the indicative limits multiply, yuan, at most 2 "
            "decimals (default: the server's FINANCE_ENGINE_REPORT_BASE_LIMIT_YUAN)",
            "minimum": 0,
            "exclusiveMinimum": True,
            "maximum": MAX_BASE_LIMIT_YUAN,
        },
    )


class ReportQuerySchema(PageQuerySchema):
    """Filters of the report list."""

    entity_id = fields.String(validate=_ID)


class PdfQuerySchema(Schema):
    """How the PDF is offered to a browser."""

    disposition = fields.String(
        load_default="attachment",
        validate=validate.OneOf(["attachment", "inline"]),
        metadata={"description": "attachment (save, default) or inline (open in the browser)"},
    )


class ReportSchema(Schema):
    """A registered report (the registry record, without the report's data)."""

    id = fields.Integer(required=True)
    report_number = fields.String(required=True)
    verification_code = fields.String(required=True)
    entity_id = fields.String(required=True)
    borrower_name = fields.String(required=True)
    account_id = fields.Integer(required=True, allow_none=True)
    period = fields.Dict(required=True, metadata={"description": "Accounting period reported"})
    issuer = fields.String(required=True)
    issued_by = fields.String(
        required=True, metadata={"description": "lender:<code> key:<key id> for API issues"}
    )
    issued_at = fields.String(required=True, metadata={"description": "ISO 8601, UTC"})
    valid_until = fields.String(required=True, metadata={"description": "Last valid day"})
    lang = fields.String(required=True)
    sha256 = fields.String(required=True, metadata={"description": "Of the signed PDF, hex"})
    size_bytes = fields.Integer(required=True)
    pages = fields.Integer(required=True)
    signer = fields.String(required=True, metadata={"description": "Signing certificate"})
    signature_level = fields.String(required=True, metadata={"description": "PAdES B-B or B-T"})
    development = fields.Boolean(
        required=True, metadata={"description": "Signed with a development key: not for lending"}
    )
    versions = fields.Dict(required=True)
    verify_url = fields.String(required=True, metadata={"description": "The QR code's address"})
    pdf_url = fields.String(required=True)


class PublicReportSchema(Schema):
    """What verification shows of a registered report: its registry summary, no content."""

    report_number = fields.String(required=True)
    verification_code = fields.String(required=True)
    borrower = fields.Dict(required=True, metadata={"description": "id and name"})
    period = fields.Dict(required=True, metadata={"description": "Accounting period reported"})
    issuer = fields.String(required=True)
    issued_at = fields.String(required=True)
    valid_until = fields.String(required=True)
    in_validity_period = fields.Boolean(required=True)
    lang = fields.String(required=True)
    sha256 = fields.String(
        required=True, metadata={"description": "Registered SHA-256: compare with your copy"}
    )
    size_bytes = fields.Integer(required=True)
    pages = fields.Integer(required=True)
    signer = fields.String(required=True)
    signature_level = fields.String(required=True)
    development = fields.Boolean(required=True)
    versions = fields.Dict(required=True)


class CheckSchema(Schema):
    """One verification check."""

    name = fields.String(required=True)
    ok = fields.Boolean(required=True)
    detail = fields.String(required=True, metadata={"description": "Why it passed or failed"})


class VerificationSchema(Schema):
    """The outcome of verifying a report PDF, with the registry summary when it is known."""

    valid = fields.Boolean(
        required=True, metadata={"description": "Every check passed (signature, trust, registry)"}
    )
    status = fields.String(
        required=True,
        validate=validate.OneOf(["valid", "expired", "invalid"]),
        metadata={"description": "valid; expired (valid, but past valid_until); invalid"},
    )
    sha256 = fields.String(required=True, metadata={"description": "Of the PDF checked"})
    report_number = fields.String(required=True, allow_none=True)
    verification_code = fields.String(required=True, allow_none=True)
    signer = fields.String(required=True, allow_none=True)
    signing_time = fields.String(required=True, allow_none=True)
    timestamp_time = fields.String(required=True, allow_none=True)
    checks = fields.List(fields.Nested(CheckSchema), required=True)
    failures = fields.List(fields.String(), required=True)
    report = fields.Nested(PublicReportSchema, required=True, allow_none=True)
