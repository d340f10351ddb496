"""Helpers of the report endpoint tests: issue through the API, read the registry and files."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, col, func, select

from finance_engine.services.reports import report_file
from finance_engine.tables_api import AccessDenial
from finance_engine.tables_reports import ReportRecord

from .conftest import World

OFFICER, OFFICER_B = "loan_officer", "loan_officer_b"


def issue(world: World, entity_id: str = "F01", token: str = OFFICER, **body: Any) -> Any:
    """POST /api/v1/reports as ``token``; the response."""
    return world.client().post(
        "/api/v1/reports", json={"entity_id": entity_id, **body}, headers=world.auth(token)
    )


def issue_ok(world: World, entity_id: str = "F01", **body: Any) -> dict[str, Any]:
    """Issue as lender A's loan officer, checking the 201; the registry record."""
    response = issue(world, entity_id, **body)
    assert response.status_code == 201, response.get_data(as_text=True)
    record: dict[str, Any] = response.get_json()
    return record


@pytest.fixture(scope="module")
def report(world: World) -> dict[str, Any]:
    """One bilingual report on F01 by lender A's loan officer, shared by the read-only tests."""
    return issue_ok(world, "F01", lang="bilingual", base_limit_yuan="2500000.50")


def count(world: World) -> int:
    """Registered reports."""
    with Session(world.engine) as session:
        return int(session.exec(select(func.count()).select_from(ReportRecord)).one())


def record_of(world: World, report_id: int) -> ReportRecord:
    """The registry row of ``report_id``."""
    with Session(world.engine) as session:
        record = session.get(ReportRecord, report_id)
        assert record is not None
        return record


def last_denial(world: World) -> AccessDenial:
    """The newest stored denial."""
    with Session(world.engine) as session:
        row = session.exec(select(AccessDenial).order_by(col(AccessDenial.id).desc())).first()
        assert row is not None
        return row


def stored_bytes(world: World, report_id: int) -> bytes:
    """The PDF stored for ``report_id``."""
    return report_file(world.settings, record_of(world, report_id)).read_bytes()
