"""Statements compiled once per dialect and run on the DBAPI cursor: the request hot path.

Executing even a cached SQLAlchemy statement costs about 20 us (SQLite) to 50 us (PostgreSQL)
of Python per call on top of the driver (cache-key generation, execution context, result
wrapping), and a Core ``select()`` built per request costs more again. The scoring endpoint
runs a handful of statements per request, so the hot ones are written once as ``text()`` with
typed bind parameters, compiled once per dialect into the driver's own SQL and parameter style
(``?`` for sqlite3, ``%(name)s`` for psycopg), and run on the raw DBAPI cursor with the same
bind processing SQLAlchemy would apply (e.g. SQLite's date and datetime storage formats).
Statements are module-level constants (compiled forms are cached by their identity).

:func:`request_connection` lends one pooled connection for all of a request's statements; on
PostgreSQL in autocommit mode, so that a read is one round trip and psycopg keeps its
server-side prepared statements (it drops them all on every ``ROLLBACK``, which is how a pooled
connection that only read would otherwise be returned).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Dialect, Engine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql.elements import TextClause

_COMPILED: dict[tuple[int, str, str], Prepared] = {}
_IDLE = 0
"""libpq's ``PQTRANS_IDLE``: no transaction open."""


class Prepared:
    """One ``text()`` statement compiled for one dialect.

    Parameters
    ----------
    statement:
        The statement, with ``bindparams(...)`` typing the parameters that need conversion.
    dialect:
        The engine's dialect.
    """

    def __init__(self, statement: TextClause, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql: str = compiled.string
        self.positional: tuple[str, ...] | None = (
            tuple(compiled.positiontup) if compiled.positiontup is not None else None
        )
        self.processors: dict[str, Callable[[Any], Any]] = {}
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self.processors[name] = processor

    def params(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The DBAPI parameters for ``values`` (by name), converted like SQLAlchemy would."""
        processors = self.processors
        converted = {
            name: processors[name](value) if name in processors else value
            for name, value in values.items()
        }
        if self.positional is None:
            return converted
        return tuple(converted[name] for name in self.positional)


def prepared(statement: TextClause, dialect: Dialect) -> Prepared:
    """``statement`` compiled for ``dialect`` (once per process, dialect and driver)."""
    key = (id(statement), dialect.name, dialect.driver)
    found = _COMPILED.get(key)
    if found is None:
        found = _COMPILED[key] = Prepared(statement, dialect)
    return found


@contextmanager
def request_connection(engine: Engine) -> Iterator[PoolProxiedConnection]:
    """One pooled DBAPI connection for a request's statements, returned to the pool after.

    On PostgreSQL it is in autocommit mode while lent: a read is one round trip instead of two
    (psycopg sends ``BEGIN`` on its own before the first statement otherwise), and a writer
    opens its transaction explicitly in its first message (see
    :func:`finance_engine.services.decision_log.SqlDecisionLog.append`). The pool gets the
    connection back as it lent it.
    """
    dbapi = engine.raw_connection()
    try:
        driver = dbapi.driver_connection
        if engine.dialect.name != "postgresql" or driver is None:
            yield dbapi
            return
        driver.autocommit = True
        try:
            yield dbapi
        finally:
            try:
                if driver.info.transaction_status != _IDLE:
                    dbapi.rollback()
                driver.autocommit = False
            except Exception:  # a broken connection: the pool must not lend it again
                dbapi.invalidate()
    finally:
        dbapi.close()


def autocommit(dbapi: PoolProxiedConnection) -> bool:
    """Whether ``dbapi`` is a psycopg connection in autocommit mode."""
    return bool(getattr(dbapi.driver_connection, "autocommit", False))
