"""Abnormal-use and data alerts raised at ingest."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlmodel import Session

from finance_engine.api.auth import current_principal, guard, require_visible
from finance_engine.api.blueprint import Blueprint
from finance_engine.api.pagination import page, page_of
from finance_engine.api.queries import alerts_page
from finance_engine.api.schemas import AlertQuerySchema, AlertSchema
from finance_engine.api.state import state
from finance_engine.services.keys import Role

blp = Blueprint("alerts", __name__, description="Meter alerts (over-consumption, flat line...)")


@blp.route("/alerts")
class Alerts(MethodView):
    @guard(Role.ADMIN, Role.DATA_PROVIDER, Role.BANK_SYSTEM, Role.LOAN_OFFICER)
    @blp.arguments(AlertQuerySchema, location="query")
    @blp.response(200, page_of(AlertSchema))
    def get(self, query: dict[str, Any]) -> Any:
        """List alerts, most severe first, then newest (bank keys: consenting entities only).

        With `entity_id`, a bank key asking for an entity that does not consent gets 404.
        """
        principal = current_principal()
        engine = state().engine
        entity_id = query.get("entity_id")
        if entity_id is not None and principal.is_bank:
            with Session(engine) as session:
                require_visible(session, entity_id)
        with engine.connect() as conn:
            rows = alerts_page(
                conn,
                lender=principal.lender if principal.is_bank else None,
                entity_id=entity_id,
                kind=query.get("kind"),
                severity=query.get("severity"),
                since_s=query.get("since_s"),
                limit=query["limit"],
                offset=query["offset"],
            )
        return page(rows, query["limit"], query["offset"])
