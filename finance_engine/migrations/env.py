"""Alembic environment: runs migrations on the engine handed in by :mod:`finance_engine.db`."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from finance_engine import models  # noqa: F401

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
