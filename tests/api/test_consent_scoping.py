"""Lender scoping: a bank key sees an entity's account, alerts and decisions only while the
entity consents to its lender, and only its own lender's decisions and consents. Every refusal
is a 404 (indistinguishable from a missing resource) and is stored as a denial."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, col, select

from finance_engine.models import CarbonAccount
from finance_engine.tables_api import AccessDenial

from .conftest import LENDER_A, LENDER_B, PRODUCT_B, World, application, problem


def _account_id(world: World, entity_id: str) -> int:
    with Session(world.engine) as session:
        row = session.exec(select(CarbonAccount).where(CarbonAccount.entity_id == entity_id)).one()
        assert row.id is not None
        return row.id


def _denials(world: World) -> list[AccessDenial]:
    with Session(world.engine) as session:
        return list(session.exec(select(AccessDenial).order_by(col(AccessDenial.id))).all())


@pytest.mark.parametrize(
    "entity_id", ["F04", "F05", "F06"], ids=["other-lender", "none", "revoked"]
)
@pytest.mark.parametrize("role", ["bank_system", "loan_officer"])
def test_entities_without_an_active_consent_are_not_found(
    world: World, entity_id: str, role: str
) -> None:
    client, headers = world.client(), world.auth(role)
    urls = [
        f"/api/v1/entities/{entity_id}",
        f"/api/v1/entities/{entity_id}/accounts/latest",
        f"/api/v1/accounts/{_account_id(world, entity_id)}",
        f"/api/v1/alerts?entity_id={entity_id}",
    ]
    for url in urls:
        before = len(_denials(world))
        response = client.get(url, headers=headers)
        assert response.status_code == 404, url
        assert problem(response)["type"].endswith("/not-found")
        denials = _denials(world)
        assert len(denials) == before + 1, url
        assert (denials[-1].reason, denials[-1].entity_id, denials[-1].lender) == (
            "no_consent",
            entity_id,
            LENDER_A,
        )


def test_the_same_entities_are_visible_to_the_consented_lender(world: World) -> None:
    client = world.client()
    assert (
        client.get("/api/v1/entities/F04", headers=world.auth("bank_system_b")).status_code == 200
    )
    latest = client.get(
        "/api/v1/entities/F04/accounts/latest", headers=world.auth("loan_officer_b")
    )
    assert latest.status_code == 200
    assert latest.get_json()["entity"]["id"] == "F04"


def test_a_missing_entity_is_a_plain_404_and_no_denial(world: World) -> None:
    before = len(_denials(world))
    response = world.client().get("/api/v1/entities/NOPE", headers=world.auth("bank_system"))
    assert response.status_code == 404
    assert len(_denials(world)) == before


@pytest.mark.parametrize(
    ("token", "expected"),
    [("bank_system", {"F01", "F02", "F03"}), ("bank_system_b", {"F04"}), ("admin", None)],
)
def test_lists_hold_only_consenting_entities(
    world: World, token: str, expected: set[str] | None
) -> None:
    client = world.client()
    entities = {
        e["id"]
        for e in client.get("/api/v1/entities", headers=world.auth(token)).get_json()["items"]
    }
    accounts = {
        a["entity_id"]
        for a in client.get("/api/v1/accounts", headers=world.auth(token)).get_json()["items"]
    }
    if expected is None:  # platform keys see everything
        assert {"F01", "F04", "F05", "F06"} <= entities
        assert accounts == {f"F0{n}" for n in range(1, 7)}
    else:
        assert entities == expected
        assert accounts == expected


def test_scoring_an_entity_without_consent_is_refused_and_logged(world: World) -> None:
    before = len(_denials(world))
    response = world.client().post(
        "/api/v1/decisions", json=application("F04"), headers=world.auth("bank_system")
    )
    assert response.status_code == 404
    assert "F04" in problem(response)["detail"]
    assert _denials(world)[-1].reason == "no_consent"
    assert len(_denials(world)) == before + 1


def test_a_lender_cannot_score_another_lenders_product(world: World) -> None:
    response = world.client().post(
        "/api/v1/decisions", json=application("F01", PRODUCT_B), headers=world.auth("bank_system")
    )
    assert response.status_code == 422
    assert problem(response)["errors"][0]["field"] == "lender_code"


def test_a_batch_refuses_only_the_applications_without_consent(world: World) -> None:
    body = {"applications": [application("F01"), application("F05"), application("F02")]}
    response = world.client().post(
        "/api/v1/decisions/batch", json=body, headers=world.auth("bank_system")
    )
    assert response.status_code == 200
    result = response.get_json()
    assert [d["entity_id"] for d in result["items"]] == ["F01", "F02"]
    assert [r["entity_id"] for r in result["refused"]] == ["F05"]
    assert _denials(world)[-1].entity_id == "F05"


def _decide(world: World, token: str, body: dict[str, Any]) -> int:
    response = world.client().post("/api/v1/decisions", json=body, headers=world.auth(token))
    assert response.status_code == 201, response.get_data(as_text=True)
    sequence: int = response.get_json()["log"]["sequence"]
    return sequence


def test_a_lender_reads_back_only_its_own_decisions(world: World) -> None:
    mine = _decide(world, "bank_system", application("F01"))
    theirs = _decide(world, "bank_system_b", application("F04", PRODUCT_B))
    client = world.client()
    assert (
        client.get(f"/api/v1/decisions/{mine}", headers=world.auth("loan_officer")).status_code
        == 200
    )
    refused = client.get(f"/api/v1/decisions/{theirs}", headers=world.auth("loan_officer"))
    assert refused.status_code == 404
    assert _denials(world)[-1].reason == "other_lender"
    listed = client.get(
        "/api/v1/decisions?limit=1000", headers=world.auth("bank_system")
    ).get_json()
    sequences = {d["sequence"] for d in listed["items"]}
    assert mine in sequences
    assert theirs not in sequences
    everything = client.get("/api/v1/decisions?limit=1000", headers=world.auth("admin")).get_json()
    assert {mine, theirs} <= {d["sequence"] for d in everything["items"]}


def test_a_lender_sees_only_its_own_consents(world: World) -> None:
    client = world.client()
    listed = client.get("/api/v1/consents?lender=" + LENDER_B, headers=world.auth("bank_system"))
    assert {c["lender"] for c in listed.get_json()["items"]} == {LENDER_A}
    other = client.get(
        f"/api/v1/consents/{world.consent_ids['F04']}", headers=world.auth("bank_system")
    )
    assert other.status_code == 404


def test_revoking_a_consent_takes_effect_at_once(fresh_world: World) -> None:
    client, admin, bank = (
        fresh_world.client(),
        fresh_world.auth("admin"),
        fresh_world.auth("bank_system"),
    )
    assert client.get("/api/v1/entities/F03/accounts/latest", headers=bank).status_code == 200
    revoked = client.delete(f"/api/v1/consents/{fresh_world.consent_ids['F03']}", headers=admin)
    assert revoked.status_code == 200
    assert revoked.get_json()["active"] is False
    assert client.get("/api/v1/entities/F03/accounts/latest", headers=bank).status_code == 404
    granted = client.post(
        "/api/v1/consents", json={"entity_id": "F03", "lender": LENDER_A}, headers=admin
    )
    assert granted.status_code == 201
    assert granted.headers["Location"] == f"/api/v1/consents/{granted.get_json()['id']}"
    again = client.post(
        "/api/v1/consents", json={"entity_id": "F03", "lender": LENDER_A}, headers=admin
    )
    assert (again.status_code, again.get_json()["id"]) == (200, granted.get_json()["id"])
    assert client.get("/api/v1/entities/F03/accounts/latest", headers=bank).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"entity_id": "NOPE", "lender": LENDER_A}, "entity_id"),
        ({"entity_id": "F01", "lender": "no-such-bank"}, "lender"),
        (
            {"entity_id": "F01", "lender": LENDER_A, "expires_at": "2001-01-01T00:00:00+08:00"},
            "expires_at",
        ),
    ],
)
def test_bad_consents_name_the_field(world: World, body: dict[str, Any], field: str) -> None:
    response = world.client().post("/api/v1/consents", json=body, headers=world.auth("admin"))
    assert response.status_code == 422
    assert problem(response)["errors"][0]["field"] == field
