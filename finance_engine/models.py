"""SQLModel tables. Repositories convert rows to the frozen dataclasses of the pure packages.

Conventions: interval timestamps are ``BIGINT`` epoch seconds in UTC (``*_s``) so that bulk
ingest stays on the fast native route; calendar days are local days in the configured time zone
(``DATE``); quantities are in the meter's native unit (see :mod:`accounting.energy`); money is
``NUMERIC`` (yuan, or 10k yuan where the name says so).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    LargeBinary,
    Numeric,
    SmallInteger,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class Entity(SQLModel, table=True):
    """A carbon-account holder: firm, energy producer, building, transport firm, farm, resident."""

    __tablename__ = "entity"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    sector: str = Field(max_length=32, index=True)
    industry_code: str = Field(default="", max_length=16, index=True)
    region: str = Field(default="", max_length=64)
    grid_region: str = Field(default="", max_length=32)
    created_at: datetime = Field(default_factory=utcnow)


class Meter(SQLModel, table=True):
    """A meter of one energy type belonging to one entity."""

    __tablename__ = "meter"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    entity_id: str = Field(foreign_key="entity.id", index=True, max_length=64)
    energy_type: str = Field(max_length=32)
    unit: str = Field(max_length=16)
    reading_kind: str = Field(default="interval", max_length=16)
    """``interval`` (quantity per 15 minutes) or ``cumulative`` (a counter)."""
    rated_max_per_interval: float | None = None
    """Most the meter can register in 15 minutes, native unit; above that is implausible."""
    counter_rollover: float | None = None
    """For cumulative meters, the value at which the counter wraps to zero."""
    steam_enthalpy_kj_per_kg: float | None = None


class ReadingDay(SQLModel, table=True):
    """The accepted 15-minute readings of one meter on one UTC day. Keyed (meter, day).

    One row holds up to 96 readings, so ingest maintains one primary-key entry per meter-day
    instead of one per reading (the b-tree was most of PostgreSQL's ingest cost). ``day`` is
    the UTC day number ``interval_start_s // 86400``; slot ``s`` of the packed columns is the
    interval starting at ``day * 86400 + 900 * s``. The packed columns are 96 little-endian
    values each (layout and empty-slot values: :mod:`finance_engine.storage.daypack`); a
    reading is stored where ``quantity`` is not NaN.

    ``meter_id`` deliberately has no foreign-key constraint: PostgreSQL checks a foreign key
    with a per-row trigger, which tripled the cost of bulk ingest (about 3.5 s per million
    readings, when readings were rows). Ingest is the only writer; it validates every meter
    code against the meter table and holds a row lock on each meter it writes (see
    :mod:`finance_engine.storage.readings`), and no code path deletes meters.

    On PostgreSQL ``toast_tuple_target`` is raised to the page maximum so that a row (about
    1.4 KB, 2.2 KB with counters) stays inline and uncompressed: by default rows over 2 KB are
    pglz-compressed on every write, which made ingest of counter meters about 30% slower
    (measured against STORAGE EXTERNAL, MAIN and PLAIN too; PLAIN was as fast).
    """

    __tablename__ = "reading_day"
    __table_args__ = {"postgresql_with": {"toast_tuple_target": 8160}}

    meter_id: int = Field(primary_key=True)
    day: int = Field(primary_key=True)
    """UTC day number: days since 1970-01-01 UTC."""
    readings: int = Field(sa_column=Column(SmallInteger, nullable=False))
    """How many of the 96 slots hold a reading."""
    quantity: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    """float64[96]: consumption per interval, native unit of the meter; NaN where none."""
    counter_value: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    """float64[96]: the raw counter at each interval end (NaN where none); NULL for a day
    without counter readings."""
    flags: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    """int16[96]: bit flags from :mod:`accounting.readings` (snapped, spans a gap...)."""
    batch_id: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    """int32[96]: the ``ingest_batch`` that stored each reading (0: none)."""


class IngestBatch(SQLModel, table=True):
    """One ingest call and its report."""

    __tablename__ = "ingest_batch"

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(default="", max_length=500)
    content_sha256: str = Field(max_length=64, index=True)
    received_at: datetime = Field(default_factory=utcnow)
    rows: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    report: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class DailyRollup(SQLModel, table=True):
    """Per-meter daily totals (local day), the accounting input."""

    __tablename__ = "daily_rollup"

    meter_id: int = Field(primary_key=True, foreign_key="meter.id")
    day: date = Field(primary_key=True)
    quantity: float
    intervals: int
    """How many of the day's 15-minute intervals were received (96 on a full day)."""


class ActivityData(SQLModel, table=True):
    """Sector activity data of one entity for one period (the denominators of intensities)."""

    __tablename__ = "activity_data"
    __table_args__ = (UniqueConstraint("entity_id", "period_start", "period_end"),)

    id: int | None = Field(default=None, primary_key=True)
    entity_id: str = Field(foreign_key="entity.id", max_length=64)
    period_start: date
    period_end: date
    value_added_10k_yuan: Decimal | None = Field(default=None, sa_column=Column(Numeric(18, 2)))
    output_value_10k_yuan: Decimal | None = Field(default=None, sa_column=Column(Numeric(18, 2)))
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    """Further activity: products (name, unit, quantity), energy supplied, sector data."""


class FactorSetRecord(SQLModel, table=True):
    """A factor set as it was when first used, so an account can always be recomputed."""

    __tablename__ = "factor_set"

    version: str = Field(primary_key=True, max_length=64)
    sha256: str = Field(max_length=64)
    content: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    recorded_at: datetime = Field(default_factory=utcnow)


class BenchmarkSetRecord(SQLModel, table=True):
    """A versioned set of sector benchmarks (computed from a period's accounts or loaded)."""

    __tablename__ = "benchmark_set"

    version: str = Field(primary_key=True, max_length=64)
    sha256: str = Field(max_length=64)
    content: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    recorded_at: datetime = Field(default_factory=utcnow)


class CarbonAccount(SQLModel, table=True):
    """A graded carbon-account snapshot of one entity for one period. Never rewritten."""

    __tablename__ = "carbon_account"
    __table_args__ = (
        UniqueConstraint(
            "entity_id", "period_start", "period_end", "factor_set_version", "benchmark_version"
        ),
        Index("ix_carbon_account_entity_period", "entity_id", "period_end"),
    )

    id: int | None = Field(default=None, primary_key=True)
    entity_id: str = Field(foreign_key="entity.id", max_length=64)
    sector: str = Field(max_length=32)
    period_start: date
    period_end: date
    factor_set_version: str = Field(max_length=64)
    benchmark_version: str = Field(max_length=64)
    grading_version: str = Field(max_length=64)
    emissions_tco2e: float
    scope1_tco2e: float
    scope2_tco2e: float
    intensity: float | None = None
    intensity_unit: str = Field(default="", max_length=32)
    carbon_efficiency_grade: int | None = None
    carbon_label: str = Field(default="", max_length=16)
    colour: str = Field(default="", max_length=16)
    score: float | None = None
    provisional: bool = False
    completeness: float = 1.0
    quality_tier: int = 1
    result: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    """The full account as :func:`accounting.account.account_to_dict` renders it."""
    computed_at: datetime = Field(default_factory=utcnow)


class Alert(SQLModel, table=True):
    """An abnormal-use or data alert on one meter. Evaluated at ingest; idempotent by key."""

    __tablename__ = "alert"
    __table_args__ = (UniqueConstraint("meter_id", "kind", "interval_start_s"),)

    id: int | None = Field(default=None, primary_key=True)
    meter_id: int = Field(foreign_key="meter.id", index=True)
    entity_id: str = Field(foreign_key="entity.id", index=True, max_length=64)
    kind: str = Field(max_length=32)
    severity: str = Field(max_length=16)
    interval_start_s: int = Field(sa_column=Column(BigInteger, nullable=False))
    interval_end_s: int = Field(sa_column=Column(BigInteger, nullable=False))
    expected: float | None = None
    actual: float | None = None
    message: str = Field(default="", max_length=500)
    status: str = Field(default="open", max_length=16)
    batch_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow)


# Tables of other features live in their own modules; importing them here registers them on
# SQLModel.metadata, which the migrations and the schema check use.
from finance_engine import (  # noqa: E402
    tables_api,  # noqa: F401  (API keys, consents, idempotency, access denials)
    tables_backtests,  # noqa: F401  (backtest jobs)
    tables_decisions,  # noqa: F401  (the decision log)
    tables_reports,  # noqa: F401  (the report registry)
    tables_residents,  # noqa: F401  (resident events and months)
)
