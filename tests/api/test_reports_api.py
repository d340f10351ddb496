"""Report endpoints: issue (consent, idempotency), read, list (lender scoping), download."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from finance_engine.app import create_app
from finance_engine.db import unit_of_work
from finance_engine.models import Entity
from finance_engine.services.consents import grant_consent, revoke_consent

from .conftest import LENDER_A, World, build_world, problem
from .reports_helpers import (
    OFFICER,
    OFFICER_B,
    count,
    issue,
    issue_ok,
    last_denial,
    record_of,
    report,
    stored_bytes,
)

__all__ = ["report"]  # the module-scoped fixture

# ------------------------------------------------------------------------------------- issue


def test_an_issued_report_is_registered_stored_and_located(
    world: World, report: dict[str, Any]
) -> None:
    record = record_of(world, report["id"])
    assert report["entity_id"] == record.entity_id == "F01"
    assert report["report_number"] == record.report_number
    assert report["sha256"] == record.sha256
    assert report["lang"] == "bilingual"
    assert (report["development"], report["signature_level"]) == (True, "B-B")
    assert report["borrower_name"] == "Firm 1"
    assert report["period"] == {"start": "2025-01-01", "end": "2025-12-31", "days": 365}
    assert record.issued_by == f"lender:{LENDER_A} key:{world.key_ids[OFFICER]}"
    assert record.data["products"]["base_limit_yuan"] == "2500000.50"
    assert report["pdf_url"] == f"/api/v1/reports/{report['id']}/pdf"
    assert len(stored_bytes(world, report["id"])) == report["size_bytes"] == record.size_bytes


def test_the_qr_code_address_is_the_public_verification_endpoint(
    world: World, report: dict[str, Any]
) -> None:
    url = urlparse(report["verify_url"])
    assert url.path == f"/api/v1/reports/verify/{report['verification_code']}"
    assert world.settings.report_verify_url.endswith("/api/v1/reports/verify/")
    response = world.client().get(url.path)  # no key, as a phone scanning the QR code
    assert response.status_code == 200
    assert response.get_json()["status"] == "valid"


@pytest.mark.parametrize(
    "entity_id", ["F04", "F05", "F06"], ids=["other-lender", "none", "revoked"]
)
def test_issuing_without_an_active_consent_is_404_and_a_denial(
    world: World, entity_id: str
) -> None:
    before = count(world)
    response = issue(world, entity_id)
    assert response.status_code == 404
    assert problem(response)["type"].endswith("/not-found")
    assert entity_id in problem(response)["detail"]
    denial = last_denial(world)
    assert (denial.reason, denial.entity_id, denial.lender, denial.path) == (
        "no_consent",
        entity_id,
        LENDER_A,
        "/api/v1/reports",
    )
    assert count(world) == before


def test_an_unknown_entity_is_a_plain_404(world: World) -> None:
    assert issue(world, "NOPE").status_code == 404


def test_an_entity_without_an_account_is_422_naming_entity_id(world: World) -> None:
    with unit_of_work(world.engine) as session:
        session.add(Entity(id="R01", name="New firm", sector="industry"))
    grant_consent(world.engine, entity_id="R01", lender=LENDER_A)
    response = issue(world, "R01")
    assert response.status_code == 422
    error = problem(response)["errors"][0]
    assert error["field"] == "entity_id"
    assert "no stored carbon account" in error["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lang": "fr"}, "lang"),
        ({"base_limit_yuan": "0"}, "base_limit_yuan"),
        ({"base_limit_yuan": "1000.005"}, "base_limit_yuan"),
        ({"base_limit_yuan": "1e13"}, "base_limit_yuan"),
        ({"pages": 3}, "pages"),
    ],
)
def test_bad_issue_requests_are_422_naming_the_field(
    world: World, body: dict[str, Any], field: str
) -> None:
    response = issue(world, **body)
    assert response.status_code == 422
    assert [e["field"] for e in problem(response)["errors"]] == [field]


def test_a_retried_issue_replays_the_first_report_and_registers_one(world: World) -> None:
    client = world.client()
    headers = {**world.auth(OFFICER), "Idempotency-Key": "issue-F02"}
    before = count(world)
    first = client.post("/api/v1/reports", json={"entity_id": "F02"}, headers=headers)
    again = client.post("/api/v1/reports", json={"entity_id": "F02"}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_data() == first.get_data()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(world) == before + 1
    other = client.post("/api/v1/reports", json={"entity_id": "F03"}, headers=headers)
    assert other.status_code == 409
    assert problem(other)["type"].endswith("/idempotency-key-reused")
    assert count(world) == before + 1


def test_without_a_signing_key_issuing_is_503_and_names_no_server_path(
    world: World, tmp_path: Any
) -> None:
    bare = create_app(world.settings.with_overrides(instance_path=tmp_path / "bare"))
    response = bare.test_client().post(
        "/api/v1/reports", json={"entity_id": "F01"}, headers=world.auth(OFFICER)
    )
    assert response.status_code == 503
    detail = problem(response)["detail"]
    assert detail == "report signing is not set up on this server (logged)"
    bare.extensions["finance_engine.engine"].dispose()


# ---------------------------------------------------------------------- read, list, download


def test_download_is_the_stored_file_byte_for_byte(world: World, report: dict[str, Any]) -> None:
    response = world.client().get(report["pdf_url"], headers=world.auth(OFFICER))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.get_data() == stored_bytes(world, report["id"])
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{report["report_number"]}.pdf"'
    )
    assert response.headers["ETag"] == f'"{report["sha256"]}"'
    assert response.headers["Cache-Control"] == "private, no-store"
    inline = world.client().get(
        f"/api/v1/reports/{report['report_number']}/pdf?disposition=inline",
        headers=world.auth("admin"),
    )
    assert inline.headers["Content-Disposition"].startswith("inline; ")
    assert inline.get_data() == response.get_data()


def test_a_report_is_found_by_id_number_or_code(world: World, report: dict[str, Any]) -> None:
    code = report["verification_code"]
    refs = [str(report["id"]), report["report_number"], code, code.lower().replace("-", "")]
    for ref in refs:
        response = world.client().get(f"/api/v1/reports/{ref}", headers=world.auth(OFFICER))
        assert response.status_code == 200, ref
        assert response.get_json() == report


def test_lists_show_a_loan_officer_only_its_lenders_reports_of_consenting_entities(
    world: World, report: dict[str, Any]
) -> None:
    mine = issue_ok(world, "F03")
    client = world.client()

    def listed(token: str, query: str = "") -> set[int]:
        response = client.get(f"/api/v1/reports{query}", headers=world.auth(token))
        assert response.status_code == 200
        return {r["id"] for r in response.get_json()["items"]}

    assert {report["id"], mine["id"]} <= listed(OFFICER)
    assert listed(OFFICER, "?entity_id=F03") == {mine["id"]}
    assert listed(OFFICER_B) == set()
    assert {report["id"], mine["id"]} <= listed("admin")
    revoke_consent(world.engine, world.consent_ids["F03"])
    try:
        assert mine["id"] not in listed(OFFICER)
        assert mine["id"] in listed("admin")
        assert (
            client.get("/api/v1/reports?entity_id=F03", headers=world.auth(OFFICER)).status_code
            == 404
        )
    finally:
        world.consent_ids["F03"] = grant_consent(world.engine, entity_id="F03", lender=LENDER_A)[
            0
        ].id


@pytest.mark.parametrize("suffix", ["", "/pdf", "/verification"])
def test_another_lenders_report_is_404_and_a_denial(
    world: World, report: dict[str, Any], suffix: str
) -> None:
    response = world.client().get(
        f"/api/v1/reports/{report['id']}{suffix}", headers=world.auth(OFFICER_B)
    )
    assert response.status_code == 404
    missing = world.client().get(f"/api/v1/reports/999999{suffix}", headers=world.auth(OFFICER_B))
    assert problem(response)["detail"].replace(str(report["id"]), "X") == problem(missing)[
        "detail"
    ].replace("999999", "X"), "a refusal reads like a missing report"
    denial = last_denial(world)
    assert (denial.reason, denial.entity_id, denial.status) == ("other_lender", "F01", 404)


def test_a_report_whose_entity_withdrew_consent_is_404_to_its_own_lender(world: World) -> None:
    issued = issue_ok(world, "F02")
    consent = world.consent_ids["F02"]
    revoke_consent(world.engine, consent)
    try:
        for suffix in ("", "/pdf", "/verification"):
            response = world.client().get(
                f"/api/v1/reports/{issued['id']}{suffix}", headers=world.auth(OFFICER)
            )
            assert response.status_code == 404, suffix
            assert last_denial(world).reason == "no_consent"
        assert (
            world.client().get(f"/api/v1/reports/{issued['id']}", headers=world.auth("admin"))
        ).status_code == 200
    finally:
        world.consent_ids["F02"] = grant_consent(world.engine, entity_id="F02", lender=LENDER_A)[
            0
        ].id


@pytest.mark.parametrize("ref", ["0", "99999999999999999999999", "²", "CCR-19700101-XXXXXXXX"])
def test_odd_references_are_plain_404s(world: World, ref: str) -> None:
    response = world.client().get(f"/api/v1/reports/{ref}", headers=world.auth("admin"))
    assert response.status_code == 404
    assert problem(response)["type"].endswith("/not-found")


# ------------------------------------------------------------------------------- PostgreSQL


@pytest.mark.postgres
def test_issue_list_read_and_verify_on_postgresql(pg_schema_url: str, tmp_path: Path) -> None:
    world = build_world(tmp_path, database_url=pg_schema_url)
    try:
        issued = issue_ok(world, "F01", base_limit_yuan=3000000)
        client = world.client()
        listed = client.get("/api/v1/reports", headers=world.auth(OFFICER)).get_json()["items"]
        assert [r["id"] for r in listed] == [issued["id"]]
        assert listed[0]["issued_at"] == issued["issued_at"]
        assert (
            client.get("/api/v1/reports", headers=world.auth(OFFICER_B)).get_json()["items"] == []
        )
        by_number = client.get(
            f"/api/v1/reports/{issued['report_number']}", headers=world.auth(OFFICER)
        )
        assert by_number.get_json() == issued
        assert issue(world, "F04").status_code == 404
        result = client.get(f"/api/v1/reports/verify/{issued['verification_code']}").get_json()
        assert (result["valid"], result["status"]) == (True, "valid")
    finally:
        world.engine.dispose()
        world.app.extensions["finance_engine.engine"].dispose()
