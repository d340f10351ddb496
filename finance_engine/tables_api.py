"""SQLModel tables of the HTTP API: API keys, consents, idempotency records, access denials.

Imported at the bottom of :mod:`finance_engine.models` so that they register on the same
metadata (and so in the migration). Times are timezone-aware UTC (``TIMESTAMP WITH TIME ZONE``
on PostgreSQL; SQLite keeps them as naive UTC text, which :func:`as_utc` restores).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Index, Text
from sqlmodel import Field, SQLModel


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(*, nullable: bool, index: bool = False) -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=nullable, index=index)


def as_utc(value: datetime | None) -> datetime | None:
    """A stored time as timezone-aware UTC (SQLite hands back naive UTC datetimes)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ApiKey(SQLModel, table=True):
    """An API key: a public id (the token's prefix) and the SHA-256 of its 256-bit secret."""

    __tablename__ = "api_key"

    id: str = Field(primary_key=True, max_length=32)
    """The public key id, e.g. ``3f9c2a7b1d04`` (also the token's second part)."""
    name: str = Field(default="", max_length=200)
    role: str = Field(max_length=32)
    lender: str | None = Field(default=None, max_length=64, index=True)
    """The lender (catalog lender code) a bank key acts for; None for platform roles."""
    secret_sha256: str = Field(max_length=64)
    rate_limit_per_minute: int | None = None
    """Requests per minute per worker for this key; None means the configured default."""
    created_at: datetime = Field(default_factory=_utcnow, sa_column=_ts(nullable=False))
    expires_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    last_used_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_by: str | None = Field(default=None, max_length=32)
    """The key id (or ``cli``) that created this key."""


class Consent(SQLModel, table=True):
    """An entity's consent for one lender to see its account, alerts and reports."""

    __tablename__ = "consent"
    __table_args__ = (Index("ix_consent_entity_lender", "entity_id", "lender"),)

    id: int | None = Field(default=None, primary_key=True)
    entity_id: str = Field(foreign_key="entity.id", max_length=64)
    lender: str = Field(max_length=64, index=True)
    reference: str = Field(default="", max_length=200)
    """The consent document or channel reference (e.g. a signed form number)."""
    granted_at: datetime = Field(default_factory=_utcnow, sa_column=_ts(nullable=False))
    expires_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    granted_by: str = Field(default="", max_length=32)
    revoked_by: str = Field(default="", max_length=32)


class IdempotencyRecord(SQLModel, table=True):
    """The stored response of a POST sent with an ``Idempotency-Key``, per caller scope."""

    __tablename__ = "idempotency_record"

    scope: str = Field(primary_key=True, max_length=80)
    """``lender:<code>`` for bank keys (survives key rotation), else ``key:<key id>``."""
    key: str = Field(primary_key=True, max_length=255)
    method: str = Field(max_length=8)
    path: str = Field(max_length=500)
    request_sha256: str = Field(max_length=64)
    """SHA-256 of method, path, query string and body: a different request under the key is
    refused with 409."""
    completed: bool = False
    status_code: int | None = None
    content_type: str = Field(default="", max_length=100)
    location: str = Field(default="", max_length=500)
    body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=_utcnow, sa_column=_ts(nullable=False, index=True))


class AccessDenial(SQLModel, table=True):
    """One refused request of an authenticated key (wrong role, other lender, no consent)."""

    __tablename__ = "access_denial"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=_utcnow, sa_column=_ts(nullable=False, index=True))
    request_id: str = Field(default="", max_length=128)
    key_id: str = Field(default="", max_length=32, index=True)
    role: str = Field(default="", max_length=32)
    lender: str | None = Field(default=None, max_length=64)
    method: str = Field(max_length=8)
    path: str = Field(max_length=500)
    reason: str = Field(max_length=32)
    """``role`` (403), ``no_consent`` or ``other_lender`` (404)."""
    entity_id: str | None = Field(default=None, max_length=64)
    status: int
