"""The benchmark world of ``bench_api``: three graded firms, a trained risk model, a
bank_system key with consents, in a temporary SQLite file or a fresh PostgreSQL schema."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from accounting.account import Period
from finance_engine.config import load_settings
from finance_engine.db import make_engine, unit_of_work, upgrade
from finance_engine.services.accounts import compute_period_accounts
from finance_engine.services.activity import store_activity
from finance_engine.services.consents import grant_consents
from finance_engine.services.keys import create_key
from finance_engine.services.models import FileModelStore
from finance_engine.synth.loans import generate_loan_history
from finance_engine.synth.metered_firms import add_metered_firm
from scoring.features import feature_matrix
from scoring.risk_model import RiskModel

LENDER = "icbc-quzhou"
PRODUCT = "ICBC-QZ-IND-CRL"
FIRMS = ("F01", "F02", "F03")
YEAR = Period(date(2025, 1, 1), date(2025, 12, 31))
DATABASE_URL_VAR = "FINANCE_ENGINE_BENCH_DATABASE_URL"


def application() -> dict[str, Any]:
    """The scoring request body (about 350 bytes of JSON)."""
    return {
        "application_id": "BENCH-0001",
        "entity_id": "F01",
        "product_code": PRODUCT,
        "base_limit_yuan": "2000000.00",
        "base_rate_pct": "3.45",
        "requested_amount_yuan": "1500000.00",
        "requested_term_months": 36,
        "financials": {
            "revenue_10k_yuan": "8000",
            "leverage": 0.45,
            "current_ratio": 1.6,
            "return_on_assets": 0.07,
            "years_operating": 15,
            "overdue_count_24m": 0,
        },
    }


def build_world(root: Path, database_url: str | None) -> tuple[dict[str, str], str]:
    """A graded sample world; returns the server environment and a bank_system token."""
    settings = load_settings(
        {},
        instance_path=root / "instance",
        database_url=database_url or f"sqlite:///{root / 'bench.db'}",
    )
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with unit_of_work(engine) as session:
        for n, eid in enumerate(FIRMS, start=1):
            add_metered_firm(session, eid, f"Firm {n}", 1000.0 * n, first_day=YEAR.start)
    store_activity(
        engine,
        [
            {
                "entity_id": e,
                "period": {"start": "2025-01-01", "end": "2025-12-31"},
                "value_added_10k_yuan": "1000",
            }
            for e in FIRMS
        ],
    )
    compute_period_accounts(engine, settings, YEAR)
    history = generate_loan_history(5, 6000)
    model = RiskModel().fit(
        feature_matrix(history.feature_columns()),
        history["default_12m"],
        created_at=datetime(2025, 3, 1, tzinfo=UTC),
    )
    FileModelStore.for_settings(settings).save(model)
    _, token = create_key(engine, role="bank_system", lender=LENDER, name="bench")
    grant_consents(engine, FIRMS, LENDER, reference="bench")
    engine.dispose()
    env = {
        "FINANCE_ENGINE_DATABASE_URL": settings.database_url,
        "FINANCE_ENGINE_INSTANCE_PATH": str(settings.instance_path),
        "FINANCE_ENGINE_RATE_LIMIT_PER_MINUTE": str(10**9),
        "PROMETHEUS_MULTIPROC_DIR": str(root / "prometheus"),
    }
    return env, token


def fresh_schema(url: str) -> tuple[str, str]:
    """Create a fresh PostgreSQL schema; return it and a URL whose search_path is it."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    sep = "&" if "?" in url else "?"
    return schema, f"{url}{sep}options=-csearch_path%3D{schema}"


def drop_schema(url: str, schema: str) -> None:
    """Drop the benchmark's schema."""
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()
