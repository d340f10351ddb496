"""Pagination, request ids, JSON access logs, metrics, health and readiness, the OpenAPI
document and the offline docs page, and the key lifecycle through the API."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from finance_engine.api.observe import JsonFormatter, log_event
from finance_engine.app import create_app
from finance_engine.config import load_settings
from finance_engine.services.models import FileModelStore

from .conftest import World, application, problem


def test_pages_follow_next_offset_and_the_link_header(world: World) -> None:
    client, headers = world.client(), world.auth("admin")
    seen: list[str] = []
    url: str | None = "/api/v1/entities?limit=2&sector=industry"
    while url is not None:
        response = client.get(url, headers=headers)
        assert response.status_code == 200
        body = response.get_json()
        assert body["pagination"]["returned"] == len(body["items"]) <= 2
        seen += [e["id"] for e in body["items"]]
        link = response.headers.get("Link")
        if body["pagination"]["next_offset"] is None:
            assert link is None
            url = None
        else:
            assert link is not None
            assert link.endswith('; rel="next"')
            url = link[1 : link.index(">")]
            assert f"offset={body['pagination']['next_offset']}" in url
            assert "sector=industry" in url
    assert seen == sorted(seen)
    assert {f"F0{n}" for n in range(1, 7)} <= set(seen)
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "offset=-1", "limit=x"])
def test_bad_page_parameters_are_422(world: World, query: str) -> None:
    response = world.client().get(f"/api/v1/entities?{query}", headers=world.auth("admin"))
    assert response.status_code == 422
    assert problem(response)["errors"][0]["location"] == "query"


def test_request_ids_are_echoed_when_sane_and_generated_otherwise(world: World) -> None:
    client = world.client()
    echoed = client.get("/healthz", headers={"X-Request-ID": "bank-7f3:retry.2"})
    assert echoed.headers["X-Request-ID"] == "bank-7f3:retry.2"
    generated = client.get("/healthz", headers={"X-Request-ID": 'has spaces <and> "quotes"'})
    assert len(generated.headers["X-Request-ID"]) == 32
    assert client.get("/healthz").headers["X-Request-ID"] != generated.headers["X-Request-ID"]


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict[str, object]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(dict(record.fields))  # type: ignore[attr-defined]


def test_each_request_writes_one_json_access_line(world: World) -> None:
    logger = logging.getLogger("finance_engine.access")
    handler, level = _Lines(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        response = world.client().get(
            "/api/v1/entities/F01", headers={**world.auth("bank_system"), "X-Request-ID": "r-1"}
        )
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert response.status_code == 200
    [line] = handler.lines
    assert line["request_id"] == "r-1"
    assert (line["method"], line["path"], line["route"], line["status"]) == (
        "GET",
        "/api/v1/entities/F01",
        "/api/v1/entities/{entity_id}",
        200,
    )
    assert line["key_id"] == world.key_ids["bank_system"]
    assert isinstance(line["duration_ms"], float)


def test_metrics_count_requests_latency_and_decisions(world: World) -> None:
    client = world.client()
    client.post("/api/v1/decisions", json=application("F01"), headers=world.auth("bank_system"))
    text = client.get("/metrics").get_data(as_text=True)
    assert (
        'finance_engine_http_requests_total{method="POST",route="/api/v1/decisions",status="201"}'
        in text
    )
    assert "finance_engine_http_request_duration_seconds_bucket{" in text
    assert 'finance_engine_decisions_total{outcome="approve"}' in text


def test_health_and_readiness(world: World) -> None:
    client = world.client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"] == {"database": "ok", "schema": "ok", "model": "ok"}


def test_not_ready_on_an_unmigrated_database_or_a_broken_model(tmp_path: Path) -> None:
    settings = load_settings({}, instance_path=tmp_path, environment="test", access_log=False)
    app = create_app(settings)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["database"] == "ok"
    assert "finance-engine init" in checks["schema"]
    store = FileModelStore.for_settings(settings)
    store.root.mkdir(parents=True)
    (store.root / "current").write_text("missing-version\n")
    assert "cannot load" in app.test_client().get("/readyz").get_json()["checks"]["model"]
    app.extensions["finance_engine.engine"].dispose()


def test_the_openapi_document_is_valid_and_describes_security(world: World) -> None:
    spec = world.client().get("/api/v1/openapi.json").get_json()
    validate(spec)
    assert spec["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            where = f"{method.upper()} {path}"
            assert operation["x-roles"], where
            if operation.get("x-public"):  # report verification by code: the QR code's target
                assert (method, path) == ("get", "/api/v1/reports/verify/{verification_code}"), (
                    where
                )
                assert operation["security"] == [], where
                assert {"429", "default"} <= set(map(str, operation["responses"])), where
                continue
            assert operation["security"] == [{"ApiKey": []}], where
            assert {"401", "403", "429", "default"} <= set(map(str, operation["responses"])), where
    problem_doc = spec["components"]["responses"]["DEFAULT_ERROR"]["content"]
    assert list(problem_doc) == ["application/problem+json"]


def test_the_docs_page_works_offline(world: World) -> None:
    client = world.client()
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in page
    assert "/api/v1/openapi.json" in page
    assert "http://" not in page
    assert "https://" not in page
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js"):
        with client.get(f"/api/v1/docs/assets/{asset}") as response:
            assert response.status_code == 200
    assert client.get("/api/v1/docs/assets/../../secret").status_code == 404


def test_a_key_is_shown_once_works_and_stops_when_revoked(world: World) -> None:
    client, admin = world.client(), world.auth("admin")
    created = client.post(
        "/api/v1/keys",
        json={"role": "loan_officer", "lender": "icbc-quzhou", "name": "officer 9"},
        headers=admin,
    )
    assert created.status_code == 201
    key = created.get_json()
    token = key.pop("token")
    assert token.startswith(f"fe_{key['id']}_")
    listed = client.get("/api/v1/keys?limit=1000", headers=admin).get_data(as_text=True)
    assert key["id"] in listed
    assert token not in listed
    assert token.split("_", 2)[2] not in listed
    mine = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/entities/F01", headers=mine).status_code == 200
    revoked = client.delete(f"/api/v1/keys/{key['id']}", headers=admin)
    assert revoked.get_json()["revoked_at"] is not None
    assert client.get("/api/v1/entities/F01", headers=mine).status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "bank_system"}, "lender"),
        ({"role": "admin", "lender": "icbc-quzhou"}, "lender"),
        ({"role": "bank_system", "lender": "no-such-bank"}, "lender"),
        ({"role": "root"}, "role"),
        ({"role": "admin", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
    ],
)
def test_bad_key_requests_name_the_field(world: World, body: dict[str, str], field: str) -> None:
    response = world.client().post("/api/v1/keys", json=body, headers=world.auth("admin"))
    assert response.status_code == 422
    assert problem(response)["errors"][0]["field"] == field


def test_json_formatter_writes_structured_and_plain_lines_as_one_json_object() -> None:
    formatter = JsonFormatter()
    captured: list[logging.LogRecord] = []
    logger = logging.getLogger("finance_engine.test-formatter")
    handler = logging.Handler()
    handler.emit = captured.append  # type: ignore[method-assign]
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        log_event(logger, logging.WARNING, {"event": "access_denied", "status": 403, "n": None})
        logger.info("plain text")
        logger.info('{"event": "legacy", "x": 1}')
    finally:
        logger.removeHandler(handler)
    structured, plain, legacy = (json.loads(formatter.format(r)) for r in captured)
    assert structured["level"] == "warning"
    assert {k: structured[k] for k in ("event", "status", "n")} == {
        "event": "access_denied",
        "status": 403,
        "n": None,
    }
    assert "msg" not in structured
    assert plain["msg"] == "plain text"
    assert (legacy["event"], legacy["x"]) == ("legacy", 1)
