"""Sector activity data per entity and period (the denominators of intensities)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlmodel import Session

from finance_engine.api.auth import guard
from finance_engine.api.blueprint import Blueprint
from finance_engine.api.pagination import page, page_of
from finance_engine.api.queries import activity_page
from finance_engine.api.schemas import (
    ActivityInSchema,
    ActivityQuerySchema,
    ActivityReportSchema,
    ActivitySchema,
)
from finance_engine.api.state import state
from finance_engine.services.activity import store_activity
from finance_engine.services.keys import Role

blp = Blueprint("activity", __name__, description="Sector activity data per entity and period")


@blp.route("/activity")
class Activity(MethodView):
    @guard(Role.DATA_PROVIDER, idempotent=True, body=True)
    @blp.arguments(ActivityInSchema)
    @blp.response(200, ActivityReportSchema)
    def post(self, doc: dict[str, Any]) -> Any:
        """Store activity records; each bad record is rejected on its own with field and reason.

        A record keyed (entity, period) that differs from the stored one is rejected unless
        `replace` is true (a correction).
        """
        report = store_activity(state().engine, doc["activity"], replace=doc["replace"])
        return report.to_dict()

    @guard(Role.ADMIN, Role.DATA_PROVIDER)
    @blp.arguments(ActivityQuerySchema, location="query")
    @blp.response(200, page_of(ActivitySchema))
    def get(self, query: dict[str, Any]) -> Any:
        """List stored activity records, newest period first."""
        with Session(state().engine) as session:
            rows = activity_page(
                session,
                entity_id=query.get("entity_id"),
                period_start=query.get("period_start"),
                period_end=query.get("period_end"),
                limit=query["limit"],
                offset=query["offset"],
            )
        return page(rows, query["limit"], query["offset"])
