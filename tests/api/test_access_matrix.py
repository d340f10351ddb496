"""Every endpoint x every role: allowed -> 2xx, wrong role -> 403, no or bad key -> 401.

The table below names, for each operation of the OpenAPI document, a request that succeeds for
an allowed role; a test checks that the table covers every documented operation and that its
roles are the ones the document lists in ``x-roles``. Bank keys here act for lender A and touch
only entity F01, which consents to A (the consent cases are in ``test_consent_scoping.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import Session, col, select

from finance_engine.models import CarbonAccount, Entity, Meter
from finance_engine.services.consents import grant_consent
from finance_engine.services.keys import create_key
from finance_engine.tables_api import AccessDenial

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


def _throwaway_key(world: World) -> str:
    view, _ = create_key(world.engine, role="risk_analyst", name="throwaway")
    return view.id


def _throwaway_consent(world: World) -> int:
    view, _ = grant_consent(world.engine, entity_id="F05", lender=LENDER_B)
    return view.id


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
]


@pytest.fixture(scope="module")
def matrix_world(world: World) -> World:
    """The shared world plus entity M01 and its meter, one reading batch and one decision."""
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
    return world


def _call(world: World, op: Op, headers: dict[str, str]) -> Any:
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


@pytest.mark.parametrize("op", OPS, ids=lambda op: f"{op.method} {op.path}")
@pytest.mark.parametrize("role", ROLES)
def test_allowed_roles_succeed_and_others_get_403(matrix_world: World, op: Op, role: str) -> None:
    response = _call(matrix_world, op, matrix_world.auth(role))
    if role in op.allowed:
        assert 200 <= response.status_code < 300, response.get_data(as_text=True)
    else:
        assert response.status_code == 403
        assert problem(response)["type"].endswith("/forbidden")


@pytest.mark.parametrize("op", OPS, ids=lambda op: f"{op.method} {op.path}")
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
