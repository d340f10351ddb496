"""The migrations build exactly the schema the models declare, and old schemas are refused."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine
from sqlmodel import SQLModel

from finance_engine.db import SchemaOutOfDateError, check_schema, make_engine, upgrade


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_an_empty_database_is_refused_until_upgraded(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with pytest.raises(SchemaOutOfDateError, match="finance-engine init"):
            check_schema(engine)
        upgrade(engine)
        check_schema(engine)
    finally:
        engine.dispose()
