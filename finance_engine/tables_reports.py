"""The report registry: one row per issued carbon credit report. Rows are never rewritten."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel


class ReportRecord(SQLModel, table=True):
    """An issued, signed report: identity, borrower, issuer, hash, versions and where it is."""

    __tablename__ = "report"
    __table_args__ = (Index("ix_report_entity_issued", "entity_id", "issued_at"),)

    id: int | None = Field(default=None, primary_key=True)
    report_number: str = Field(max_length=40, unique=True)
    verification_code: str = Field(max_length=32, unique=True)
    """Printed on the report and in its QR code; the key of public verification."""
    entity_id: str = Field(foreign_key="entity.id", max_length=64)
    account_id: int | None = Field(default=None, foreign_key="carbon_account.id")
    issuer: str = Field(max_length=200)
    issued_by: str = Field(default="", max_length=200)
    """Who asked for the report (user or API key name), empty from the CLI."""
    issued_at: datetime
    valid_until: date
    lang: str = Field(max_length=16)
    sha256: str = Field(max_length=64, index=True)
    """SHA-256 of the signed PDF as stored, hex."""
    size_bytes: int
    pages: int
    path: str = Field(max_length=500)
    """File name under the reports folder."""
    signer_subject: str = Field(max_length=500)
    signer_cert_sha256: str = Field(max_length=64)
    development: bool = False
    """Signed with a development certificate."""
    signature_level: str = Field(max_length=8)
    """``B-B`` or ``B-T``."""
    versions: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    """Factor set, benchmark, grading, catalog, LPR, methodology and report-format versions."""
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    """The report data as embedded in the PDF."""
