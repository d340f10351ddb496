"""Statements compiled once per dialect and run on the DBAPI cursor: the request hot path.

Executing even a cached SQLAlchemy statement costs about 20 us (SQLite) to 50 us (PostgreSQL)
of Python per call on top of the driver (cache-key generation, execution context, result
wrapping), and a Core ``select()`` built per request costs more again. The scoring endpoint
runs a handful of statements per request, so the hot ones are written once as ``text()`` with
typed bind parameters, compiled once per dialect into the driver's own SQL and parameter style
(``?`` for sqlite3, ``%(name)s`` for psycopg), and run on the raw DBAPI cursor with the same
bind processing SQLAlchemy would apply (e.g. SQLite's date and datetime storage formats).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Dialect
from sqlalchemy.sql.elements import TextClause

_COMPILED: dict[tuple[int, str, str], Prepared] = {}


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
