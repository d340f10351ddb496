"""Shared fixtures: storage on SQLite and PostgreSQL, settings in a temporary instance folder.

PostgreSQL tests read ``FINANCE_ENGINE_TEST_DATABASE_URL``. Outside CI they are skipped with a
visible reason when it is unset; under CI (``CI=true``) a missing URL is an error, so the
PostgreSQL half of the suite can never silently vanish.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from finance_engine.config import Settings, load_settings
from finance_engine.db import make_engine, upgrade

PG_URL_VAR = "FINANCE_ENGINE_TEST_DATABASE_URL"


def postgres_url() -> str:
    """The PostgreSQL URL for tests, or skip (outside CI) / fail (in CI) without one."""
    url = os.environ.get(PG_URL_VAR, "")
    if not url:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{PG_URL_VAR} is not set under CI: PostgreSQL tests must run")
        pytest.skip(
            f"PostgreSQL tests skipped: set {PG_URL_VAR} (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)"
        )
    return url


def _with_schema(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped after the test."""
    base = postgres_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _with_schema(base, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL on each backend: a SQLite file, and a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    url: str = request.getfixturevalue("pg_schema_url")
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on a migrated, empty database (both backends)."""
    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    """Settings with a temporary instance folder and the parametrised database."""
    return load_settings(
        {}, instance_path=tmp_path / "instance", database_url=db_url, environment="test"
    )
