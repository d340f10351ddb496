"""SQLModel tables of residents' personal carbon accounts: behaviour events and monthly accounts.

Imported at the bottom of :mod:`finance_engine.models` so that they register on the same
metadata (and so in the migration). Residents are identified by a positive 64-bit account id
and are not rows of ``entity`` (2.33 million of them would swamp the firm tables); events are
keyed by their event id, which makes ingest idempotent. Times are epoch seconds UTC (``*_s``) and
months ``YYYYMM`` integers, so both bulk paths (SQLite ``executemany``, PostgreSQL binary
``COPY``) carry only numbers.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, SmallInteger
from sqlmodel import Field, SQLModel


class ResidentEvent(SQLModel, table=True):
    """One accepted behaviour event. Never rewritten; a repeat of its id is a duplicate."""

    __tablename__ = "resident_event"
    __table_args__ = (
        Index("ix_resident_event_occurred", "occurred_at_s"),
        Index("ix_resident_event_resident", "resident_id", "occurred_at_s"),
    )

    event_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    resident_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    occurred_at_s: int = Field(sa_column=Column(BigInteger, nullable=False))
    """When it happened, epoch seconds UTC."""
    behaviour: int = Field(sa_column=Column(SmallInteger, nullable=False))
    """:attr:`accounting.resident_behaviours.Behaviour.code`."""
    quantity: float
    """In the behaviour's canonical unit (trips, payments, kWh, m3...)."""
    batch_id: int | None = None
    """The ``ingest_batch`` that stored it."""


class ResidentMonth(SQLModel, table=True):
    """A resident's account for one month: reduction, points, cumulative figures and level.

    Recomputing a month replaces its rows; the factor table and points rules are those effective
    on the month's first day, so a recomputation with the same events gives the same figures.
    """

    __tablename__ = "resident_month"
    __table_args__ = (Index("ix_resident_month_month", "month", "level"),)

    resident_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    month: int = Field(primary_key=True)
    """``YYYYMM``, e.g. 202405."""
    reduction_g: float
    """CO2 avoided in the month, g (uncapped)."""
    capped_g: float
    """CO2 avoided that earned points after the daily caps, g."""
    points: int = Field(sa_column=Column(BigInteger, nullable=False))
    cumulative_points: int = Field(sa_column=Column(BigInteger, nullable=False))
    cumulative_reduction_g: float
    level: int = Field(sa_column=Column(SmallInteger, nullable=False))
    factor_table_version: str = Field(max_length=64)
    points_rules_version: str = Field(max_length=64)
    factor_set_version: str = Field(max_length=64)
    grid_region: str = Field(max_length=32)
