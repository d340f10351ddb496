"""Decision-log storage: append records to the hash chain, read them back. Never update, never
delete (there is no code path for either).

Appends are safe under concurrent writers: the appender holds a lock from reading the last
record until its own records are committed, so two writers can never both append after the same
record. PostgreSQL: a transaction-level advisory lock (``pg_advisory_xact_lock``), which also
works on an empty log where there is no last row to lock. SQLite: ``BEGIN IMMEDIATE`` (the
database write lock). The chain itself is computed by :mod:`scoring.decision_log`.

:class:`SqlDecisionLog` is the real store; :class:`InMemoryDecisionLog` its test double.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Table, insert, select, text

from finance_engine.tables_decisions import DecisionRecord
from scoring.decision_log import GENESIS_HASH, LogRecord, chain_records

_LOG: Table = DecisionRecord.__table__  # type: ignore[attr-defined]
_COLUMNS = (
    "sequence",
    "prev_hash",
    "record_hash",
    "created_at",
    "payload_json",
    "application_id",
    "entity_id",
    "product_code",
    "outcome",
)
ADVISORY_LOCK_KEY = int.from_bytes(hashlib.sha256(b"finance_engine.decision_log").digest()[:8]) >> 1
"""PostgreSQL advisory-lock key serialising appends (a fixed positive 63-bit number)."""
READ_CHUNK = 5000
"""Records read per query while verifying."""


def iso_utc(moment: datetime) -> str:
    """``2026-01-20T08:00:00.000000Z``: how a record's ``created_at`` is written."""
    if moment.tzinfo is None:
        raise ValueError("created_at: must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class DecisionLog(Protocol):
    """Where decision-log records are kept."""

    def append(
        self, payloads: Sequence[Mapping[str, Any]], *, created_at: datetime
    ) -> list[LogRecord]:
        """Append ``payloads`` as the next records; return them."""

    def records(self, *, after: int = 0) -> Iterator[LogRecord]:
        """Records with sequence above ``after``, in sequence order."""

    def get(self, sequence: int) -> LogRecord | None:
        """Record ``sequence``, or None."""

    def search(
        self, *, entity_id: str | None = None, outcome: str | None = None, limit: int = 100
    ) -> list[LogRecord]:
        """The newest records first, optionally of one entity or outcome."""


def _record(row: Any) -> LogRecord:
    return LogRecord(
        sequence=int(row.sequence),
        prev_hash=row.prev_hash,
        record_hash=row.record_hash,
        created_at=row.created_at,
        payload_json=row.payload,
        application_id=row.application_id,
        entity_id=row.entity_id,
        product_code=row.product_code,
        outcome=row.outcome,
    )


def _row(record: LogRecord) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in _COLUMNS}
    values["payload"] = values.pop("payload_json")
    return values


class SqlDecisionLog:
    """The decision log in the ``decision_log`` table (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _lock(self, conn: Connection) -> None:
        if self.engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})

    def append(
        self, payloads: Sequence[Mapping[str, Any]], *, created_at: datetime
    ) -> list[LogRecord]:
        """Append ``payloads`` in one transaction under the append lock."""
        if not payloads:
            return []
        stamp = iso_utc(created_at)
        with self.engine.connect() as conn:
            self._lock(conn)
            last = conn.execute(
                select(_LOG.c.sequence, _LOG.c.record_hash)
                .order_by(_LOG.c.sequence.desc())
                .limit(1)
            ).first()
            after_sequence, after_hash = (0, GENESIS_HASH) if last is None else tuple(last)
            records = chain_records(
                payloads,
                after_sequence=int(after_sequence),
                after_hash=str(after_hash),
                created_at=stamp,
            )
            conn.execute(insert(_LOG), [_row(r) for r in records])
            conn.commit()
        return records

    def records(self, *, after: int = 0) -> Iterator[LogRecord]:
        """Records above ``after`` in sequence order, read in chunks of :data:`READ_CHUNK`."""
        last = after
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(_LOG)
                    .where(_LOG.c.sequence > last)
                    .order_by(_LOG.c.sequence)
                    .limit(READ_CHUNK)
                ).all()
            for row in rows:
                yield _record(row)
            if len(rows) < READ_CHUNK:
                return
            last = int(rows[-1].sequence)

    def get(self, sequence: int) -> LogRecord | None:
        """Record ``sequence``, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(_LOG).where(_LOG.c.sequence == sequence)).first()
        return None if row is None else _record(row)

    def search(
        self, *, entity_id: str | None = None, outcome: str | None = None, limit: int = 100
    ) -> list[LogRecord]:
        """The newest records first, optionally of one entity or outcome."""
        query = select(_LOG).order_by(_LOG.c.sequence.desc()).limit(limit)
        if entity_id is not None:
            query = query.where(_LOG.c.entity_id == entity_id)
        if outcome is not None:
            query = query.where(_LOG.c.outcome == outcome)
        with self.engine.connect() as conn:
            return [_record(row) for row in conn.execute(query).all()]


class InMemoryDecisionLog:
    """A decision log in a list (for tests)."""

    def __init__(self) -> None:
        self.stored: list[LogRecord] = []

    def append(
        self, payloads: Sequence[Mapping[str, Any]], *, created_at: datetime
    ) -> list[LogRecord]:
        """Append ``payloads`` after the last stored record."""
        last = self.stored[-1] if self.stored else None
        records = chain_records(
            payloads,
            after_sequence=0 if last is None else last.sequence,
            after_hash=GENESIS_HASH if last is None else last.record_hash,
            created_at=iso_utc(created_at),
        )
        self.stored.extend(records)
        return records

    def records(self, *, after: int = 0) -> Iterator[LogRecord]:
        """Stored records above ``after``."""
        return iter([r for r in self.stored if r.sequence > after])

    def get(self, sequence: int) -> LogRecord | None:
        """Record ``sequence``, or None."""
        return next((r for r in self.stored if r.sequence == sequence), None)

    def search(
        self, *, entity_id: str | None = None, outcome: str | None = None, limit: int = 100
    ) -> list[LogRecord]:
        """The newest records first, optionally of one entity or outcome."""
        found = [
            r
            for r in reversed(self.stored)
            if (entity_id is None or r.entity_id == entity_id)
            and (outcome is None or r.outcome == outcome)
        ]
        return found[:limit]
