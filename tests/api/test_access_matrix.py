"""Every endpoint x every role: allowed -> 2xx, wrong role -> 403, no or bad key -> 401.

Public operations (``x-public: true``: report verification by code, where a report's QR code
points) answer every caller, with or without a key, and ignore a bad one.

The table below names, for each operation of the OpenAPI document, a request that succeeds for
an allowed role; a test checks that the table covers every documented operation and that its
roles are the ones the document lists in ``x-roles``. Bank keys here act for lender A and touch
only entity F01, which consents to A (the consent cases are in ``test_consent_scoping.py``).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import Session, col, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from finance_engine.api.state import EXTENSION
from finance_engine.models import CarbonAccount, Entity, Meter
from finance_engine.services.consents import grant_consent
from finance_engine.services.keys import create_key
from finance_engine.services.reports import report_file
from finance_engine.tables_api import AccessDenial
from finance_engine.tables_backtests import BacktestJob
from finance_engine.tables_reports import ReportRecord

from .conftest import LENDER_B, PRODUCT_A, ROLES, World, application, problem

ADMIN, DATA, RISK, BANK, OFFICER = ROLES
EVERYONE = set(ROLES)
PLATFORM_AND_BANKS = {ADMIN, DATA, BANK, OFFICER}


@dataclass(frozen=True)
class Op:
    method: str
    path: str
    """OpenAPI path template."""
    allowed: frozenset[str]
    url: Callable[[World], str]
    body: Callable[[World], dict[str, Any]] | None = None
    raw: Callable[[World], tuple[bytes, str]] | None = None
    """A non-JSON body and its media type."""
    public: bool = False
    """Open without a key (``x-public``)."""


def _ids(world: World) -> dict[str, Any]:
    with Session(world.engine) as session:
        account = session.exec(
            select(CarbonAccount).where(CarbonAccount.entity_id == "F01")
        ).first()
        assert account is not None
        return {"account": account.id}


def _reading_body(_: World) -> dict[str, Any]:
    return {
        "readings": [{"meter": "M01-E", "timestamp": "2025-03-01T00:00:00+08:00", "quantity": 5}]
    }


def _report(world: World) -> ReportRecord:
    """The report the matrix's loan officer (lender A) issued on F01."""
    with Session(world.engine) as session:
        record = session.exec(
            select(ReportRecord)
            .where(ReportRecord.entity_id == "F01")
            .order_by(col(ReportRecord.id))
        ).first()
        assert record is not None
        return record


def _report_pdf(world: World) -> tuple[bytes, str]:
    return report_file(world.settings, _report(world)).read_bytes(), "application/pdf"


def _throwaway_key(world: World) -> str:
    view, _ = create_key(world.engine, role="risk_analyst", name="throwaway")
    return view.id


def _throwaway_consent(world: World) -> int:
    view, _ = grant_consent(world.engine, entity_id="F05", lender=LENDER_B)
    return view.id


def _backtest_form(_: World) -> tuple[bytes, str]:
    from .test_backtests_api import PATCH, history_bytes

    fields = {
        "history": FileStorage(io.BytesIO(history_bytes()), "history.csv"),
        "challenger": FileStorage(io.BytesIO(json.dumps(PATCH).encode()), "patch.json"),
    }
    boundary, body = encode_multipart(fields, boundary="matrix-boundary")
    return body, f"multipart/form-data; boundary={boundary}"


def _backtest(world: World) -> int:
    """A succeeded backtest job (submitted once, run in the request)."""
    with Session(world.engine) as session:
        job = session.exec(
            select(BacktestJob)
            .where(BacktestJob.status == "succeeded")
            .order_by(col(BacktestJob.id))
        ).first()
        if job is not None and job.id is not None:
            return job.id
    st = world.app.extensions[EXTENSION]
    before, st.settings = st.settings, st.settings.with_overrides(backtest_jobs="inline")
    try:
        body, media_type = _backtest_form(world)
        response = world.client().post(
            "/api/v1/backtests", data=body, content_type=media_type, headers=world.auth(RISK)
        )
    finally:
        st.settings = before
    assert response.status_code == 202, response.get_data(as_text=True)
    job_id: int = response.get_json()["id"]
    return job_id


OPS: list[Op] = [
    Op("GET", "/api/v1/entities", frozenset(PLATFORM_AND_BANKS), lambda w: "/api/v1/entities"),
    Op(
        "POST",
        "/api/v1/entities",
        frozenset({DATA}),
        lambda w: "/api/v1/entities",
        lambda w: {
            "entities": [{"id": "M01", "name": "Matrix firm", "sector": "industry"}],
            "meters": [{"code": "M01-E", "entity": "M01", "energy_type": "electricity"}],
        },
    ),
    Op(
        "GET",
        "/api/v1/entities/{entity_id}",
        frozenset(PLATFORM_AND_BANKS),
        lambda w: "/api/v1/entities/F01",
    ),
    Op(
        "GET",
        "/api/v1/entities/{entity_id}/meters",
        frozenset({ADMIN, DATA}),
        lambda w: "/api/v1/entities/F01/meters",
    ),
    Op(
        "POST",
        "/api/v1/reading-batches",
        frozenset({DATA}),
        lambda w: "/api/v1/reading-batches",
        _reading_body,
    ),
    Op(
        "GET",
        "/api/v1/reading-batches",
        frozenset({ADMIN, DATA}),
        lambda w: "/api/v1/reading-batches",
    ),
    Op(
        "GET",
        "/api/v1/reading-batches/{batch_id}",
        frozenset({ADMIN, DATA}),
        lambda w: "/api/v1/reading-batches/1",
    ),
    Op(
        "POST",
        "/api/v1/activity",
        frozenset({DATA}),
        lambda w: "/api/v1/activity",
        lambda w: {
            "activity": [
                {
                    "entity_id": "F01",
                    "period": {"start": "2025-01-01", "end": "2025-12-31"},
                    "value_added_10k_yuan": "1000.00",
                }
            ]
        },
    ),
    Op("GET", "/api/v1/activity", frozenset({ADMIN, DATA}), lambda w: "/api/v1/activity"),
    Op(
        "POST",
        "/api/v1/accounts/compute",
        frozenset({ADMIN, DATA}),
        lambda w: "/api/v1/accounts/compute",
        lambda w: {"period": {"start": "2024-01-01", "end": "2024-12-31"}},
    ),
    Op("GET", "/api/v1/accounts", frozenset(PLATFORM_AND_BANKS), lambda w: "/api/v1/accounts"),
    Op(
        "GET",
        "/api/v1/accounts/{account_id}",
        frozenset(PLATFORM_AND_BANKS),
        lambda w: f"/api/v1/accounts/{_ids(w)['account']}",
    ),
    Op(
        "GET",
        "/api/v1/entities/{entity_id}/accounts/latest",
        frozenset(PLATFORM_AND_BANKS),
        lambda w: "/api/v1/entities/F01/accounts/latest",
    ),
    Op(
        "GET",
        "/api/v1/accounts/aggregates",
        frozenset({ADMIN, DATA, RISK}),
        lambda w: "/api/v1/accounts/aggregates",
    ),
    Op(
        "GET",
        "/api/v1/alerts",
        frozenset(PLATFORM_AND_BANKS),
        lambda w: "/api/v1/alerts?entity_id=F01",
    ),
    Op("GET", "/api/v1/products", frozenset(EVERYONE), lambda w: "/api/v1/products?on=2026-06-01"),
    Op(
        "GET",
        "/api/v1/products/{code}",
        frozenset(EVERYONE),
        lambda w: f"/api/v1/products/{PRODUCT_A}",
    ),
    Op(
        "GET",
        "/api/v1/factor-sets",
        frozenset({ADMIN, DATA, RISK}),
        lambda w: "/api/v1/factor-sets",
    ),
    Op(
        "POST",
        "/api/v1/decisions",
        frozenset({BANK}),
        lambda w: "/api/v1/decisions",
        lambda w: application(),
    ),
    Op(
        "GET", "/api/v1/decisions", frozenset({ADMIN, BANK, OFFICER}), lambda w: "/api/v1/decisions"
    ),
    Op(
        "POST",
        "/api/v1/decisions/offers",
        frozenset({BANK}),
        lambda w: "/api/v1/decisions/offers",
        lambda w: application(product=None),
    ),
    Op(
        "POST",
        "/api/v1/decisions/batch",
        frozenset({BANK}),
        lambda w: "/api/v1/decisions/batch",
        lambda w: {"applications": [application("F01"), application("F02")]},
    ),
    Op(
        "GET",
        "/api/v1/decisions/{sequence}",
        frozenset({ADMIN, BANK, OFFICER}),
        lambda w: "/api/v1/decisions/1",
    ),
    Op(
        "POST",
        "/api/v1/keys",
        frozenset({ADMIN}),
        lambda w: "/api/v1/keys",
        lambda w: {"role": "data_provider", "name": "matrix"},
    ),
    Op("GET", "/api/v1/keys", frozenset({ADMIN}), lambda w: "/api/v1/keys"),
    Op(
        "GET",
        "/api/v1/keys/{key_id}",
        frozenset({ADMIN}),
        lambda w: f"/api/v1/keys/{w.key_ids['admin']}",
    ),
    Op(
        "DELETE",
        "/api/v1/keys/{key_id}",
        frozenset({ADMIN}),
        lambda w: f"/api/v1/keys/{_throwaway_key(w)}",
    ),
    Op(
        "POST",
        "/api/v1/consents",
        frozenset({ADMIN}),
        lambda w: "/api/v1/consents",
        lambda w: {"entity_id": "F05", "lender": LENDER_B, "reference": "matrix"},
    ),
    Op("GET", "/api/v1/consents", frozenset({ADMIN, BANK, OFFICER}), lambda w: "/api/v1/consents"),
    Op(
        "GET",
        "/api/v1/consents/{consent_id}",
        frozenset({ADMIN, BANK, OFFICER}),
        lambda w: f"/api/v1/consents/{w.consent_ids['F01']}",
    ),
    Op(
        "DELETE",
        "/api/v1/consents/{consent_id}",
        frozenset({ADMIN}),
        lambda w: f"/api/v1/consents/{_throwaway_consent(w)}",
    ),
    Op(
        "POST",
        "/api/v1/reports",
        frozenset({OFFICER}),
        lambda w: "/api/v1/reports",
        lambda w: {"entity_id": "F01", "lang": "en"},
    ),
    Op("GET", "/api/v1/reports", frozenset({ADMIN, OFFICER}), lambda w: "/api/v1/reports"),
    Op(
        "GET",
        "/api/v1/reports/{report}",
        frozenset({ADMIN, OFFICER}),
        lambda w: f"/api/v1/reports/{_report(w).id}",
    ),
    Op(
        "GET",
        "/api/v1/reports/{report}/pdf",
        frozenset({ADMIN, OFFICER}),
        lambda w: f"/api/v1/reports/{_report(w).report_number}/pdf",
    ),
    Op(
        "GET",
        "/api/v1/reports/{report}/verification",
        frozenset({ADMIN, OFFICER}),
        lambda w: f"/api/v1/reports/{_report(w).verification_code}/verification",
    ),
    Op(
        "POST",
        "/api/v1/reports/verify",
        frozenset(EVERYONE),
        lambda w: "/api/v1/reports/verify",
        raw=_report_pdf,
    ),
    Op(
        "GET",
        "/api/v1/reports/verify/{verification_code}",
        frozenset(EVERYONE),
        lambda w: f"/api/v1/reports/verify/{_report(w).verification_code}",
        public=True,
    ),
    Op(
        "POST",
        "/api/v1/backtests",
        frozenset({RISK}),
        lambda w: "/api/v1/backtests",
        raw=_backtest_form,
    ),
    Op("GET", "/api/v1/backtests", frozenset({ADMIN, RISK}), lambda w: "/api/v1/backtests"),
    Op(
        "GET",
        "/api/v1/backtests/{job_id}",
        frozenset({ADMIN, RISK}),
        lambda w: f"/api/v1/backtests/{_backtest(w)}",
    ),
    Op(
        "GET",
        "/api/v1/backtests/{job_id}/result",
        frozenset({ADMIN, RISK}),
        lambda w: f"/api/v1/backtests/{_backtest(w)}/result",
    ),
    Op(
        "GET",
        "/api/v1/backtests/{job_id}/report.pdf",
        frozenset({ADMIN, RISK}),
        lambda w: f"/api/v1/backtests/{_backtest(w)}/report.pdf",
    ),
]
KEYED = [op for op in OPS if not op.public]


@pytest.fixture(scope="module")
def matrix_world(world: World) -> World:
    """The shared world plus entity M01 and its meter, one reading batch, one decision and one
    report (lender A's loan officer on F01)."""
    client = world.client()
    registered = client.post(
        "/api/v1/entities",
        json={
            "entities": [{"id": "M01", "name": "Matrix firm", "sector": "industry"}],
            "meters": [{"code": "M01-E", "entity": "M01", "energy_type": "electricity"}],
        },
        headers=world.auth(DATA),
    )
    assert registered.status_code == 200, registered.get_data(as_text=True)
    ingested = client.post(
        "/api/v1/reading-batches", json=_reading_body(world), headers=world.auth(DATA)
    )
    assert ingested.status_code == 201, ingested.get_data(as_text=True)
    decided = client.post("/api/v1/decisions", json=application(), headers=world.auth(BANK))
    assert decided.status_code == 201, decided.get_data(as_text=True)
    issued = client.post("/api/v1/reports", json={"entity_id": "F01"}, headers=world.auth(OFFICER))
    assert issued.status_code == 201, issued.get_data(as_text=True)
    return world


def _call(world: World, op: Op, headers: dict[str, str]) -> Any:
    if op.raw is not None:
        data, media_type = op.raw(world)
        return world.client().open(
            op.url(world), method=op.method, data=data, content_type=media_type, headers=headers
        )
    body = op.body(world) if op.body is not None else None
    return world.client().open(op.url(world), method=op.method, json=body, headers=headers)


def test_the_table_covers_every_documented_operation_with_its_roles(world: World) -> None:
    spec = world.client().get("/api/v1/openapi.json").get_json()
    documented = {
        (method.upper(), path): set(operation["x-roles"])
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    }
    tabled = {(op.method, op.path): set(op.allowed) for op in OPS}
    assert tabled == documented
    public = {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and operation.get("x-public")
    }
    assert public == {(op.method, op.path) for op in OPS if op.public}


@pytest.mark.parametrize("op", OPS, ids=lambda op: f"{op.method} {op.path}")
@pytest.mark.parametrize("role", ROLES)
def test_allowed_roles_succeed_and_others_get_403(matrix_world: World, op: Op, role: str) -> None:
    response = _call(matrix_world, op, matrix_world.auth(role))
    if role in op.allowed:
        assert 200 <= response.status_code < 300, response.get_data(as_text=True)
    else:
        assert response.status_code == 403
        assert problem(response)["type"].endswith("/forbidden")


@pytest.mark.parametrize("op", KEYED, ids=lambda op: f"{op.method} {op.path}")
@pytest.mark.parametrize(
    "credential", ["none", "malformed", "unknown", "revoked", "expired", "basic"]
)
def test_missing_or_bad_keys_get_401(matrix_world: World, op: Op, credential: str) -> None:
    real = matrix_world.tokens[BANK]
    headers = {
        "none": {},
        "malformed": {"Authorization": "Bearer not-a-key"},
        "unknown": {"Authorization": f"Bearer {real[:-4]}AAAA"},
        "revoked": matrix_world.auth("revoked") if credential == "revoked" else {},
        "expired": matrix_world.auth("expired") if credential == "expired" else {},
        "basic": {"Authorization": "Basic dXNlcjpwYXNz"},
    }[credential]
    response = _call(matrix_world, op, headers)
    assert response.status_code == 401
    assert problem(response)["type"].endswith("/unauthenticated")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "op", [op for op in OPS if op.public], ids=lambda op: f"{op.method} {op.path}"
)
@pytest.mark.parametrize("credential", ["none", "malformed", "revoked"])
def test_public_operations_answer_without_a_key_and_ignore_bad_ones(
    matrix_world: World, op: Op, credential: str
) -> None:
    headers = {
        "none": {},
        "malformed": {"Authorization": "Bearer not-a-key"},
        "revoked": matrix_world.auth("revoked"),
    }[credential]
    response = _call(matrix_world, op, headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "WWW-Authenticate" not in response.headers


def test_a_wrong_role_is_recorded_as_a_denial(matrix_world: World) -> None:
    with Session(matrix_world.engine) as session:
        before = len(session.exec(select(AccessDenial)).all())
    response = matrix_world.client().get("/api/v1/keys", headers=matrix_world.auth(RISK))
    assert response.status_code == 403
    with Session(matrix_world.engine) as session:
        rows = session.exec(select(AccessDenial).order_by(col(AccessDenial.id))).all()
    assert len(rows) == before + 1
    last = rows[-1]
    assert (last.key_id, last.role, last.reason, last.status, last.method, last.path) == (
        matrix_world.key_ids[RISK],
        RISK,
        "role",
        403,
        "GET",
        "/api/v1/keys",
    )
    assert last.request_id == response.headers["X-Request-ID"]


def test_registration_created_the_matrix_entity(matrix_world: World) -> None:
    with Session(matrix_world.engine) as session:
        assert session.get(Entity, "M01") is not None
        assert session.exec(select(Meter).where(Meter.code == "M01-E")).one().entity_id == "M01"
