"""A small world for the API tests: a migrated database with six graded firms, a trained risk
model, the development report-signing PKI, keys for every role and two lenders, and consents.

Firms F01..F06 (industry C2614) have 2025 daily rollups (1..6 MWh a day) and activity, and
their 2025 accounts are computed. Consents: F01-F03 for lender A, F04 for lender B, F06 for A
but revoked, F05 for nobody. ``world`` is built once per module (tests that change it use
their own entities or ``fresh_world``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, update

from accounting.account import Period
from finance_engine.app import create_app
from finance_engine.config import Settings, load_settings
from finance_engine.db import make_engine, unit_of_work, upgrade
from finance_engine.services.accounts import compute_period_accounts
from finance_engine.services.activity import store_activity
from finance_engine.services.consents import grant_consent, revoke_consent
from finance_engine.services.keys import create_key, revoke_key
from finance_engine.services.models import FileModelStore
from finance_engine.services.signing import dev_pki_paths
from finance_engine.synth.loans import generate_loan_history
from finance_engine.synth.metered_firms import add_metered_firm
from finance_engine.tables_api import ApiKey
from reports import DevPki, generate_dev_pki
from scoring.features import feature_matrix
from scoring.risk_model import RiskModel

LENDER_A = "icbc-quzhou"
LENDER_B = "abc-quzhou"
PRODUCT_A = "ICBC-QZ-IND-CRL"
PRODUCT_B = "ABC-QZ-ESR"
YEAR = Period(date(2025, 1, 1), date(2025, 12, 31))
FIRMS = [f"F{n:02d}" for n in range(1, 7)]
ROLES = ("admin", "data_provider", "risk_analyst", "bank_system", "loan_officer")


@dataclass
class World:
    """Everything a test needs to call the API."""

    settings: Settings
    engine: Engine
    app: Flask
    tokens: dict[str, str] = field(default_factory=dict)
    """Token by name: the five roles (lender A for bank roles), ``bank_system_b``,
    ``loan_officer_b``, ``revoked``, ``expired``."""
    key_ids: dict[str, str] = field(default_factory=dict)
    consent_ids: dict[str, int] = field(default_factory=dict)

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def auth(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}


def application(
    entity_id: str = "F01", product: str | None = PRODUCT_A, **extra: Any
) -> dict[str, Any]:
    """A sound application for 2m yuan at 3.45% (JSON body)."""
    body: dict[str, Any] = {
        "application_id": f"APP-{entity_id}",
        "entity_id": entity_id,
        "base_limit_yuan": "2000000.00",
        "base_rate_pct": "3.45",
        "financials": {
            "revenue_10k_yuan": "8000",
            "leverage": 0.45,
            "current_ratio": 1.6,
            "return_on_assets": 0.07,
            "years_operating": 15,
            "overdue_count_24m": 0,
        },
    }
    if product is not None:
        body["product_code"] = product
    body.update(extra)
    return body


def _firms(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        for n, eid in enumerate(FIRMS, start=1):
            add_metered_firm(session, eid, f"Firm {n}", 1000.0 * n, first_day=YEAR.start)
    report = store_activity(
        engine,
        [
            {
                "entity_id": eid,
                "period": {"start": "2025-01-01", "end": "2025-12-31"},
                "value_added_10k_yuan": "1000.00",
            }
            for eid in FIRMS
        ],
    )
    assert report.stored == len(FIRMS), report.rejected


def _model(settings: Settings) -> None:
    history = generate_loan_history(5, 6000)
    model = RiskModel().fit(
        feature_matrix(history.feature_columns()),
        history["default_12m"],
        created_at=datetime(2025, 3, 1, tzinfo=UTC),
    )
    FileModelStore.for_settings(settings).save(model)


def _keys(world: World) -> None:
    specs = {
        "admin": ("admin", None),
        "data_provider": ("data_provider", None),
        "risk_analyst": ("risk_analyst", None),
        "bank_system": ("bank_system", LENDER_A),
        "loan_officer": ("loan_officer", LENDER_A),
        "bank_system_b": ("bank_system", LENDER_B),
        "loan_officer_b": ("loan_officer", LENDER_B),
        "revoked": ("bank_system", LENDER_A),
        "expired": ("bank_system", LENDER_A),
    }
    for name, (role, lender) in specs.items():
        view, token = create_key(world.engine, role=role, lender=lender, name=name)
        world.tokens[name], world.key_ids[name] = token, view.id
    revoke_key(world.engine, world.key_ids["revoked"])
    with unit_of_work(world.engine) as session:
        session.execute(
            update(ApiKey)
            .where(ApiKey.id == world.key_ids["expired"])  # type: ignore[arg-type]
            .values(expires_at=datetime.now(UTC) - timedelta(days=1))
        )


def _consents(world: World) -> None:
    for eid, lender in (("F01", LENDER_A), ("F02", LENDER_A), ("F03", LENDER_A), ("F04", LENDER_B)):
        view, _ = grant_consent(world.engine, entity_id=eid, lender=lender)
        world.consent_ids[eid] = view.id
    view, _ = grant_consent(world.engine, entity_id="F06", lender=LENDER_A)
    revoke_consent(world.engine, view.id)
    world.consent_ids["F06"] = view.id


@lru_cache(maxsize=1)
def _session_pki() -> DevPki:
    """One development CA and report-signing key for the whole test session (0.2 s to make)."""
    return generate_dev_pki(datetime.now(UTC))


def _pki(settings: Settings) -> None:
    """Put the session's development PKI where ``finance-engine init`` writes it."""
    pki, paths = _session_pki(), dev_pki_paths(settings.instance_path)
    paths.ca_cert.parent.mkdir(parents=True, exist_ok=True)
    paths.ca_cert.write_bytes(pki.ca_cert_pem)
    paths.signer_cert.write_bytes(pki.signer_cert_pem)
    paths.signer_key.write_bytes(pki.signer_key_pem)


def build_world(root: Path, database_url: str | None = None, **overrides: Any) -> World:
    """Build a world in ``root`` (SQLite there unless ``database_url``)."""
    settings = load_settings(
        {},
        instance_path=root / "instance",
        database_url=database_url or f"sqlite:///{root / 'api.db'}",
        environment="test",
        access_log=False,
        **overrides,
    )
    engine = make_engine(settings.database_url)
    upgrade(engine)
    _firms(engine)
    run = compute_period_accounts(engine, settings, YEAR)
    assert run.stored == len(FIRMS), run.to_dict()
    _model(settings)
    _pki(settings)
    world = World(settings, engine, create_app(settings))
    _keys(world)
    _consents(world)
    return world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A world shared by the tests of one module."""
    built = build_world(tmp_path_factory.mktemp("world"))
    yield built
    built.engine.dispose()
    built.app.extensions["finance_engine.engine"].dispose()


@pytest.fixture
def fresh_world(tmp_path: Path) -> Iterator[World]:
    """A world of this test alone."""
    built = build_world(tmp_path)
    yield built
    built.engine.dispose()
    built.app.extensions["finance_engine.engine"].dispose()


def problem(response: Any) -> dict[str, Any]:
    """The problem document of a response, checking its media type and members."""
    assert response.mimetype == "application/problem+json", response.get_data(as_text=True)
    body: dict[str, Any] = json.loads(response.get_data(as_text=True))
    assert body["type"].startswith("tag:finance-engine,2025:problem/")
    assert body["status"] == response.status_code
    assert body["title"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body
