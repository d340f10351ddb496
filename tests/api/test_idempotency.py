"""Idempotency-Key: same key and body -> the stored response; different body -> 409."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from sqlmodel import Session, func, select

from finance_engine.models import IngestBatch
from finance_engine.services.keys import create_key
from finance_engine.tables_api import IdempotencyRecord
from finance_engine.tables_decisions import DecisionRecord

from .conftest import LENDER_A, PRODUCT_B, World, application, problem


def _count(world: World, table: type) -> int:
    with Session(world.engine) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def test_a_retried_decision_replays_the_stored_response(world: World) -> None:
    client = world.client()
    headers = {**world.auth("bank_system"), "Idempotency-Key": "score-1"}
    before = _count(world, DecisionRecord)
    first = client.post("/api/v1/decisions", json=application("F02"), headers=headers)
    second = client.post("/api/v1/decisions", json=application("F02"), headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.get_data() == first.get_data()
    assert second.headers["Location"] == first.headers["Location"]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _count(world, DecisionRecord) == before + 1


def test_the_same_key_with_another_body_is_409(world: World) -> None:
    client = world.client()
    headers = {**world.auth("bank_system"), "Idempotency-Key": "score-2"}
    assert (
        client.post("/api/v1/decisions", json=application("F02"), headers=headers).status_code
        == 201
    )
    other = client.post("/api/v1/decisions", json=application("F03"), headers=headers)
    assert other.status_code == 409
    assert problem(other)["type"].endswith("/idempotency-key-reused")


def test_keys_are_scoped_by_lender_and_survive_key_rotation(world: World) -> None:
    client = world.client()
    _, rotated = create_key(world.engine, role="bank_system", lender=LENDER_A, name="rotated")
    body = application("F03")
    first = client.post(
        "/api/v1/decisions",
        json=body,
        headers={**world.auth("bank_system"), "Idempotency-Key": "k3"},
    )
    again = client.post(
        "/api/v1/decisions",
        json=body,
        headers={"Authorization": f"Bearer {rotated}", "Idempotency-Key": "k3"},
    )
    assert again.get_data() == first.get_data()
    other_lender = client.post(
        "/api/v1/decisions",
        json=application("F04", PRODUCT_B),
        headers={**world.auth("bank_system_b"), "Idempotency-Key": "k3"},
    )
    assert other_lender.status_code == 201
    assert other_lender.get_json()["lender_code"] != first.get_json()["lender_code"]


def test_a_rejected_request_does_not_use_up_the_key(world: World) -> None:
    client = world.client()
    headers = {**world.auth("bank_system"), "Idempotency-Key": "fix-me"}
    bad = application("F01")
    del bad["base_rate_pct"]
    assert client.post("/api/v1/decisions", json=bad, headers=headers).status_code == 422
    assert (
        client.post("/api/v1/decisions", json=application("F01"), headers=headers).status_code
        == 201
    )


def test_a_request_still_running_under_the_key_is_409_with_retry_after(world: World) -> None:
    body = json.dumps(application("F01")).encode()
    digest = hashlib.sha256(b"POST\0/api/v1/decisions\0\0" + body).hexdigest()
    with Session(world.engine) as session:
        session.add(
            IdempotencyRecord(
                scope=f"lender:{LENDER_A}",
                key="in-flight",
                method="POST",
                path="/api/v1/decisions",
                request_sha256=digest,
                created_at=datetime.now(UTC),
            )
        )
        session.commit()
    response = world.client().post(
        "/api/v1/decisions",
        data=body,
        content_type="application/json",
        headers={**world.auth("bank_system"), "Idempotency-Key": "in-flight"},
    )
    assert response.status_code == 409
    assert problem(response)["type"].endswith("/idempotency-in-progress")
    assert response.headers["Retry-After"] == "1"


def test_a_retried_ingest_stores_one_batch(world: World) -> None:
    client = world.client()
    csv = "meter,timestamp,quantity\nF02-E,2025-04-01T00:00:00+08:00,7\n"
    headers = {**world.auth("data_provider"), "Idempotency-Key": "ingest-1"}
    before = _count(world, IngestBatch)
    first = client.post(
        "/api/v1/reading-batches", data=csv, content_type="text/csv", headers=headers
    )
    second = client.post(
        "/api/v1/reading-batches", data=csv, content_type="text/csv", headers=headers
    )
    assert first.status_code == 201
    assert second.get_json() == first.get_json()
    assert second.get_json()["accepted"] == 1
    assert _count(world, IngestBatch) == before + 1


def test_a_bad_key_is_422(world: World) -> None:
    response = world.client().post(
        "/api/v1/decisions",
        json=application("F01"),
        headers={**world.auth("bank_system"), "Idempotency-Key": "x" * 256},
    )
    assert response.status_code == 422
    assert problem(response)["errors"][0]["field"] == "Idempotency-Key"
