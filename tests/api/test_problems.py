"""Every failure is application/problem+json with a stable type; 422s name each field at fault;
no traceback ever reaches a client."""

from __future__ import annotations

from pathlib import Path

import pytest

from finance_engine.api.resources import decisions as decisions_resource
from finance_engine.services.keys import create_key

from .conftest import World, application, build_world, problem


def test_unknown_route_is_a_404_problem(world: World) -> None:
    response = world.client().get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert problem(response)["type"] == "tag:finance-engine,2025:problem/not-found"


def test_wrong_method_is_a_405_problem_with_allow(world: World) -> None:
    response = world.client().put("/api/v1/decisions", headers=world.auth("bank_system"))
    assert response.status_code == 405
    assert problem(response)["type"].endswith("/method-not-allowed")
    assert "POST" in response.headers["Allow"]


def test_wrong_media_type_is_a_415_problem(world: World) -> None:
    response = world.client().post(
        "/api/v1/decisions",
        data="a=b",
        content_type="text/plain",
        headers=world.auth("bank_system"),
    )
    assert response.status_code == 415
    assert "text/plain" in problem(response)["detail"]


def test_invalid_json_is_a_400_problem(world: World) -> None:
    response = world.client().post(
        "/api/v1/decisions",
        data="{not json",
        content_type="application/json",
        headers=world.auth("bank_system"),
    )
    assert response.status_code == 400
    assert problem(response)["type"].endswith("/bad-request")


def test_validation_errors_name_every_field(world: World) -> None:
    body = application()
    body["financials"]["leverage"] = "lots"
    del body["base_rate_pct"]
    body["surprise"] = 1
    response = world.client().post(
        "/api/v1/decisions", json=body, headers=world.auth("bank_system")
    )
    assert response.status_code == 422
    errors = {(e["location"], e["field"]) for e in problem(response)["errors"]}
    assert errors == {
        ("json", "financials.leverage"),
        ("json", "base_rate_pct"),
        ("json", "surprise"),
    }


def test_domain_range_errors_are_422_naming_the_field(world: World) -> None:
    body = application(base_limit_yuan="100.001")
    response = world.client().post(
        "/api/v1/decisions", json=body, headers=world.auth("bank_system")
    )
    assert response.status_code == 422
    assert problem(response)["errors"][0]["field"] == "base_limit_yuan"


def test_bad_query_parameters_are_422(world: World) -> None:
    response = world.client().get("/api/v1/accounts?colour=purple", headers=world.auth("admin"))
    assert response.status_code == 422
    assert problem(response)["errors"][0] == {
        "location": "query",
        "field": "colour",
        "message": "Must be one of: dark_green, light_green, yellow, red.",
    }


def test_bodies_over_the_limit_are_413(tmp_path: Path) -> None:
    small = build_world(tmp_path, api_max_body_bytes=2000, ingest_max_body_bytes=4000)
    client = small.client()
    big = application(application_id="X" * 10) | {"padding": "x" * 3000}
    response = client.post("/api/v1/decisions", json=big, headers=small.auth("bank_system"))
    assert response.status_code == 413
    assert problem(response)["type"].endswith("/payload-too-large")
    csv = "meter,timestamp,quantity\n" + "F01-E,2025-03-01T00:00:00+08:00,1\n" * 60
    assert len(csv) > 2000
    accepted = client.post(
        "/api/v1/reading-batches",
        data=csv,
        content_type="text/csv",
        headers=small.auth("data_provider"),
    )
    assert accepted.status_code == 201, "ingest has its own, larger limit"
    refused = client.post(
        "/api/v1/reading-batches",
        data=csv * 3,
        content_type="text/csv",
        headers=small.auth("data_provider"),
    )
    assert refused.status_code == 413
    small.engine.dispose()


def test_a_key_over_its_rate_is_429_with_retry_after(world: World) -> None:
    _, token = create_key(world.engine, role="risk_analyst", rate_limit_per_minute=2)
    headers = {"Authorization": f"Bearer {token}"}
    client = world.client()
    statuses = [client.get("/api/v1/factor-sets", headers=headers).status_code for _ in range(3)]
    assert statuses[:2] == [200, 200]
    if statuses[2] != 429:  # the minute turned between the calls: the next two fill the window
        statuses = [
            client.get("/api/v1/factor-sets", headers=headers).status_code for _ in range(3)
        ]
    assert statuses[-1] == 429
    response = client.get("/api/v1/factor-sets", headers=headers)
    assert problem(response)["type"].endswith("/rate-limited")
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_an_unexpected_error_is_a_bare_500_problem(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(*_: object, **__: object) -> None:
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(decisions_resource, "score", explode)
    response = world.client().post(
        "/api/v1/decisions", json=application(), headers=world.auth("bank_system")
    )
    assert response.status_code == 500
    body = problem(response)
    text = response.get_data(as_text=True)
    assert body["type"].endswith("/internal-error")
    assert "secret" not in text
    assert "Traceback" not in text
    assert "RuntimeError" not in text
    logged = [r for r in caplog.records if r.name == "finance_engine.api"]
    assert logged[-1].exc_info is not None
    assert logged[-1].request_id == body["request_id"]  # type: ignore[attr-defined]
