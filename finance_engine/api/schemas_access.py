"""Marshmallow schemas of the access resources: API keys and consents."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from finance_engine.api.pagination import PageQuerySchema
from finance_engine.services.keys import Role

_LENDER = validate.Length(min=1, max=64)


class KeyCreateSchema(Schema):
    """A key to create. Bank roles (bank_system, loan_officer) need a lender; others take none."""

    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))
    lender = fields.String(validate=_LENDER, metadata={"description": "Catalog lender code"})
    name = fields.String(load_default="", validate=validate.Length(max=200))
    expires_at = fields.AwareDateTime(
        metadata={"description": "ISO 8601 with offset; default never"}
    )
    rate_limit_per_minute = fields.Integer(
        validate=validate.Range(1, 1_000_000),
        metadata={"description": "Requests per minute per worker (default: the server's)"},
    )


class KeySchema(Schema):
    """A stored key (its secret is never shown again)."""

    id = fields.String(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True)
    lender = fields.String(allow_none=True, required=True)
    created_at = fields.String(required=True)
    expires_at = fields.String(allow_none=True, required=True)
    revoked_at = fields.String(allow_none=True, required=True)
    last_used_at = fields.String(
        allow_none=True, required=True, metadata={"description": "Within the key cache TTL"}
    )
    rate_limit_per_minute = fields.Integer(allow_none=True, required=True)
    created_by = fields.String(allow_none=True, required=True)


class CreatedKeySchema(KeySchema):
    token = fields.String(
        required=True, metadata={"description": "The API key: shown once, store it now"}
    )


class KeyQuerySchema(PageQuerySchema):
    include_revoked = fields.Boolean(load_default=True)


class ConsentCreateSchema(Schema):
    """An entity's consent for a lender (recorded by the platform operator)."""

    entity_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    lender = fields.String(required=True, validate=_LENDER)
    expires_at = fields.AwareDateTime(metadata={"description": "Default: until revoked"})
    reference = fields.String(
        load_default="",
        validate=validate.Length(max=200),
        metadata={"description": "The consent document or channel reference"},
    )


class ConsentSchema(Schema):
    id = fields.Integer(required=True)
    entity_id = fields.String(required=True)
    lender = fields.String(required=True)
    reference = fields.String(required=True)
    granted_at = fields.String(required=True)
    expires_at = fields.String(allow_none=True, required=True)
    revoked_at = fields.String(allow_none=True, required=True)
    granted_by = fields.String(required=True)
    revoked_by = fields.String(required=True)
    active = fields.Boolean(required=True)


class ConsentQuerySchema(PageQuerySchema):
    entity_id = fields.String(validate=validate.Length(min=1, max=64))
    lender = fields.String(
        validate=_LENDER, metadata={"description": "Admin only; bank keys see their own lender"}
    )
    active = fields.Boolean(metadata={"description": "Only active consents"})
