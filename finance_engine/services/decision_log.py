"""Decision-log storage: append records to the hash chain, read them back. Never update, never
delete (there is no code path for either).

Appends are safe under concurrent writers: the appender holds a lock from reading the last
record until its own records are committed, so two writers can never both append after the same
record. PostgreSQL: a transaction-level advisory lock (``pg_advisory_xact_lock``), which also
works on an empty log where there is no last row to lock; the last record is read by the next
statement of the append function, whose READ COMMITTED snapshot (the PostgreSQL default) is
taken after the lock is held. SQLite: ``BEGIN IMMEDIATE`` (the database write lock), entered
while holding an exclusive ``flock`` on ``<database>.decision-log.lock``, so concurrent
appenders (gunicorn workers, threads) queue in the kernel and wake the moment the lock is free,
instead of polling in SQLite's busy handler, which sleeps 1-100 ms between retries. The chain
itself is computed by :mod:`scoring.decision_log`.

Appends are on the request path. On PostgreSQL an append is one statement, the
``decision_log_append`` function of migration 0002 (lock, head, chain, insert; one round trip
in autocommit mode, the lock held until the transaction ends); the hashes it computes are
checked against :func:`scoring.decision_log.chain_records` before the records are returned. On
SQLite the statements are compiled once and run on the DBAPI cursor
(:mod:`finance_engine.services.prepared`).

:class:`SqlDecisionLog` is the real store; :class:`InMemoryDecisionLog` its test double.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Engine, Table, select, text
from sqlalchemy.pool import PoolProxiedConnection

from finance_engine.services.prepared import prepared, request_connection
from finance_engine.tables_decisions import DecisionRecord
from scoring.decision_log import (
    GENESIS_HASH,
    INDEXED_FIELDS,
    LogRecord,
    canonical_json,
    chain_records,
)

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
_HEAD = "SELECT sequence, record_hash FROM decision_log ORDER BY sequence DESC LIMIT 1"
_PG_APPEND = (
    "SELECT appended_sequence, appended_prev_hash, appended_hash "
    "FROM decision_log_append(%s, %s, %s, %s, %s, %s)"
)
"""The append on PostgreSQL (the function's lock key is :data:`ADVISORY_LOCK_KEY`)."""
_INSERT_COLUMNS = tuple("payload" if c == "payload_json" else c for c in _COLUMNS)
_INSERT = text(
    f"INSERT INTO decision_log ({', '.join(_INSERT_COLUMNS)})"
    f" VALUES ({', '.join(':' + c for c in _INSERT_COLUMNS)})"
)


def iso_utc(moment: datetime) -> str:
    """``2026-01-20T08:00:00.000000Z``: how a record's ``created_at`` is written."""
    if moment.tzinfo is None:
        raise ValueError("created_at: must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ------------------------------------------------------------------------ SQLite append lock


class _FileLock:
    """An exclusive lock shared by the threads of this process and, through ``flock`` on
    ``path`` (when given), by every process of the host."""

    def __init__(self, path: str | None) -> None:
        self.threads = threading.Lock()
        self.fd = None if path is None else os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    @contextmanager
    def held(self) -> Iterator[None]:
        with self.threads:
            if self.fd is None:
                yield
                return
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self.fd, fcntl.LOCK_UN)


_FILE_LOCKS: dict[str, _FileLock] = {}
_FILE_LOCKS_GUARD = threading.Lock()


def _forget_file_locks() -> None:
    """After a fork: the child opens its own lock files (a ``flock`` belongs to the open file,
    which an inherited descriptor shares with the parent, so it would not exclude it)."""
    for lock in _FILE_LOCKS.values():
        if lock.fd is not None:
            os.close(lock.fd)
    _FILE_LOCKS.clear()


os.register_at_fork(after_in_child=_forget_file_locks)


def lock_path(engine: Engine) -> str | None:
    """The append-lock file of a SQLite database file; None for an in-memory database."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return f"{os.path.abspath(database)}.decision-log.lock"


def appender_lock(engine: Engine) -> AbstractContextManager[None]:
    """A context manager serialising the decision-log appenders of a SQLite database."""
    path = lock_path(engine)
    key = path or f"memory:{id(engine)}"
    lock = _FILE_LOCKS.get(key)
    if lock is None:
        with _FILE_LOCKS_GUARD:
            lock = _FILE_LOCKS.get(key) or _FILE_LOCKS.setdefault(key, _FileLock(path))
    return lock.held()


# ------------------------------------------------------------------------------------ stores


class DecisionLog(Protocol):
    """Where decision-log records are kept."""

    def append(
        self,
        payloads: Sequence[Mapping[str, Any]],
        *,
        created_at: datetime,
        connection: PoolProxiedConnection | None = None,
    ) -> list[LogRecord]:
        """Append ``payloads`` as the next records; return them (``connection``: a pooled
        DBAPI connection to append on, for stores that use one)."""

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


class DecisionLogError(RuntimeError):
    """The database chained records differently from :mod:`scoring.decision_log`."""


def _append_postgresql(
    dbapi: PoolProxiedConnection, payloads: Sequence[Mapping[str, Any]], stamp: str
) -> list[LogRecord]:
    """One call of ``decision_log_append``; its records, checked against the Python chain."""
    texts = [canonical_json(p) for p in payloads]
    columns = [[str(p.get(name) or "") for p in payloads] for name in INDEXED_FIELDS]
    cursor = dbapi.cursor()
    try:
        cursor.execute(_PG_APPEND, (stamp, texts, *columns))
        appended = cursor.fetchall()
        dbapi.commit()  # nothing to do in autocommit mode: the statement has committed
    except BaseException:
        dbapi.rollback()
        raise
    finally:
        cursor.close()
    first_sequence, first_prev, _ = appended[0]
    records = chain_records(
        payloads,
        after_sequence=int(first_sequence) - 1,
        after_hash=str(first_prev),
        created_at=stamp,
        payload_texts=texts,
    )
    stored = [(r.sequence, r.prev_hash, r.record_hash) for r in records]
    if stored != [(int(s), str(p), str(h)) for s, p, h in appended]:
        raise DecisionLogError(
            f"decision_log_append chained records {appended[0][0]}.. unlike scoring.decision_log;"
            " run 'finance-engine decisions verify' and check the database's migration 0002"
        )
    return records


class SqlDecisionLog:
    """The decision log in the ``decision_log`` table (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def append(
        self,
        payloads: Sequence[Mapping[str, Any]],
        *,
        created_at: datetime,
        connection: PoolProxiedConnection | None = None,
    ) -> list[LogRecord]:
        """Append ``payloads`` in one transaction under the append lock.

        ``connection``: a pooled DBAPI connection of this engine to append on, with no write
        pending (the caller's reads on it may share the transaction); by default one is
        checked out for the append.
        """
        if not payloads:
            return []
        stamp = iso_utc(created_at)
        if connection is not None:
            return self._append(connection, payloads, stamp)
        with request_connection(self.engine) as dbapi:
            return self._append(dbapi, payloads, stamp)

    def _append(
        self, dbapi: PoolProxiedConnection, payloads: Sequence[Mapping[str, Any]], stamp: str
    ) -> list[LogRecord]:
        if self.engine.dialect.name != "sqlite":
            return _append_postgresql(dbapi, payloads, stamp)
        with appender_lock(self.engine):
            return self._append_sqlite(dbapi, payloads, stamp)

    def _append_sqlite(
        self, dbapi: PoolProxiedConnection, payloads: Sequence[Mapping[str, Any]], stamp: str
    ) -> list[LogRecord]:
        insert = prepared(_INSERT, self.engine.dialect)
        cursor = dbapi.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE")
            cursor.execute(_HEAD)
            last = cursor.fetchone()
            after_sequence, after_hash = (0, GENESIS_HASH) if last is None else last
            records = chain_records(
                payloads, after_sequence=after_sequence, after_hash=after_hash, created_at=stamp
            )
            rows = [insert.params(_row(r)) for r in records]
            cursor.executemany(insert.sql, rows)  # type: ignore[arg-type]
            dbapi.commit()
        except BaseException:
            dbapi.rollback()
            raise
        finally:
            cursor.close()
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
        self,
        payloads: Sequence[Mapping[str, Any]],
        *,
        created_at: datetime,
        connection: PoolProxiedConnection | None = None,
    ) -> list[LogRecord]:
        """Append ``payloads`` after the last stored record (``connection`` is ignored)."""
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
