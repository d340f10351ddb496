"""The demo's access and reporting stage: a demo lender with consents, a bank key, sample reports.

After the demo, ``finance-engine serve`` gives a working API over the demo data: every demo entity
consents to the demo lender, and a fresh ``bank_system`` key of that lender is printed once with a
curl example that scores a demo firm. Earlier demo keys of the lender are revoked, so only the
newest printed key works.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select

from finance_engine.config import Settings
from finance_engine.models import CarbonAccount
from finance_engine.services.consents import grant_consents
from finance_engine.services.keys import create_key, list_keys, revoke_key
from finance_engine.services.report_samples import issue_sample_reports
from finance_engine.services.reports import IssuedReport
from finance_engine.services.signing import create_dev_pki

DEMO_LENDER = "icbc-quzhou"
"""The demo bank: ICBC Quzhou's illustrative products (products/data/catalog)."""
DEMO_PRODUCT = "ICBC-QZ-IND-CRL"
DEMO_KEY_NAME = "demo"


@dataclass(frozen=True)
class AccessSummary:
    """The demo lender's access and the sample reports."""

    lender: str
    consents_granted: int
    key_id: str
    token: str
    curl: str
    reports: list[IssuedReport] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the token is shown once, here)."""
        return {
            "lender": self.lender,
            "consents_granted": self.consents_granted,
            "bank_key": {"id": self.key_id, "token": self.token, "shown_once": True},
            "curl": self.curl,
            "reports": [r.to_dict() for r in self.reports],
        }


def prepare_access(
    engine: Engine, settings: Settings, *, reports_per_colour: int = 2
) -> AccessSummary:
    """Consents and a bank key for the demo lender, and signed sample reports."""
    with engine.connect() as conn:
        entities = sorted(set(conn.execute(select(CarbonAccount.entity_id)).scalars()))  # type: ignore[call-overload]
    granted = grant_consents(engine, entities, DEMO_LENDER, reference="demo", granted_by="demo")
    for key in list_keys(engine, include_revoked=False, limit=10_000):
        if key.name == DEMO_KEY_NAME and key.lender == DEMO_LENDER:
            revoke_key(engine, key.id)
    view, token = create_key(
        engine, role="bank_system", lender=DEMO_LENDER, name=DEMO_KEY_NAME, created_by="demo"
    )
    firm = next((e for e in entities if e.startswith("IND-")), entities[0] if entities else "")
    create_dev_pki(settings.instance_path)
    reports = issue_sample_reports(
        engine, settings, per_colour=reports_per_colour, sector="industry"
    )
    return AccessSummary(DEMO_LENDER, granted, view.id, token, _curl(token, firm), reports)


def _curl(token: str, entity_id: str) -> str:
    body = {
        "application_id": f"DEMO-CURL-{entity_id}",
        "entity_id": entity_id,
        "product_code": DEMO_PRODUCT,
        "base_limit_yuan": "2000000.00",
        "base_rate_pct": "4.00",
        "financials": {
            "revenue_10k_yuan": "8000",
            "leverage": 0.45,
            "current_ratio": 1.6,
            "return_on_assets": 0.07,
            "years_operating": 15,
            "overdue_count_24m": 0,
        },
    }
    return (
        "curl -s -X POST http://127.0.0.1:8000/api/v1/decisions "
        f"-H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' "
        f"-d '{json.dumps(body, separators=(',', ':'))}'"
    )
