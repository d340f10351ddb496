"""SQLModel table of the decision log: append-only, hash-chained (see :mod:`scoring.decision_log`).

``sequence`` is the primary key (1, 2, 3... without gaps); the code only ever inserts rows
(:mod:`finance_engine.services.decisions`), never updates or deletes them.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Text
from sqlmodel import Field, SQLModel

__all__ = ["DecisionRecord"]


class DecisionRecord(SQLModel, table=True):
    """One decision in the append-only, hash-chained decision log."""

    __tablename__ = "decision_log"
    __table_args__ = (
        Index("ix_decision_log_entity", "entity_id", "sequence"),
        Index("ix_decision_log_application", "application_id"),
    )

    sequence: int = Field(
        sa_column=Column(BigInteger, primary_key=True, autoincrement=False, nullable=False)
    )
    prev_hash: str = Field(max_length=64)
    """``record_hash`` of the record before (64 zeros for record 1)."""
    record_hash: str = Field(max_length=64, unique=True)
    """SHA-256 (hex) of the canonical JSON of (sequence, prev_hash, created_at, payload)."""
    created_at: str = Field(max_length=32)
    """Append time, ISO 8601 UTC with microseconds (``2026-01-20T08:00:00.000000Z``)."""
    application_id: str = Field(max_length=64)
    entity_id: str = Field(max_length=64)
    product_code: str = Field(max_length=64)
    outcome: str = Field(max_length=16, index=True)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    """The decision as canonical JSON text (what the hash covers)."""
