"""Entities (carbon-account holders) and their meters."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlmodel import Session

from finance_engine.api.auth import current_principal, guard, require_visible
from finance_engine.api.blueprint import Blueprint
from finance_engine.api.pagination import PageQuerySchema, page, page_of
from finance_engine.api.problems import ProblemError, validation_problem
from finance_engine.api.queries import entities_page, entity_dict, meters_page
from finance_engine.api.schemas import (
    EntityQuerySchema,
    EntitySchema,
    MeterSchema,
    RegistryInSchema,
    RegistryOutcomeSchema,
)
from finance_engine.api.state import state
from finance_engine.models import Entity
from finance_engine.services.ingest import register_entities_and_meters
from finance_engine.services.keys import Role
from finance_engine.storage.formats import FormatError
from finance_engine.storage.registry import entity_from, meter_from

blp = Blueprint("entities", __name__, description="Carbon-account holders and their meters")

READERS = (Role.ADMIN, Role.DATA_PROVIDER, Role.BANK_SYSTEM, Role.LOAN_OFFICER)


@blp.route("/entities")
class Entities(MethodView):
    @guard(*READERS)
    @blp.arguments(EntityQuerySchema, location="query")
    @blp.response(200, page_of(EntitySchema))
    def get(self, query: dict[str, Any]) -> Any:
        """List entities (bank keys: only those consenting to their lender)."""
        principal = current_principal()
        with Session(state().engine) as session:
            rows = entities_page(
                session,
                lender=principal.lender if principal.is_bank else None,
                sector=query.get("sector"),
                limit=query["limit"],
                offset=query["offset"],
            )
        return page(rows, query["limit"], query["offset"])

    @guard(Role.DATA_PROVIDER, idempotent=True, body=True)
    @blp.arguments(RegistryInSchema)
    @blp.response(200, RegistryOutcomeSchema)
    def post(self, doc: dict[str, Any]) -> Any:
        """Create or update entities and meters (by id and code).

        A meter's energy type, unit and reading kind cannot change once it exists (422).
        """
        try:
            entities = [
                entity_from(_clean(e), f"entities.{i}") for i, e in enumerate(doc["entities"])
            ]
            meters = [meter_from(_clean(m), f"meters.{i}") for i, m in enumerate(doc["meters"])]
            outcome = register_entities_and_meters(state().engine, entities, meters)
        except (FormatError, ValueError) as exc:
            field, _, message = str(exc).partition(": ")
            raise validation_problem(field if message else "", message or str(exc)) from exc
        return outcome.__dict__


def _clean(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if v is not None}


@blp.route("/entities/<string(maxlength=64):entity_id>")
class EntityItem(MethodView):
    @guard(*READERS)
    @blp.response(200, EntitySchema)
    def get(self, entity_id: str) -> Any:
        """One entity (bank keys: 404 unless it consents to their lender)."""
        with Session(state().engine) as session:
            require_visible(session, entity_id)
            row = session.get(Entity, entity_id)
            if row is None:
                raise ProblemError("not-found", f"no entity {entity_id!r}")
            return entity_dict(row)


@blp.route("/entities/<string(maxlength=64):entity_id>/meters")
class EntityMeters(MethodView):
    @guard(Role.ADMIN, Role.DATA_PROVIDER)
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, page_of(MeterSchema))
    def get(self, query: dict[str, Any], entity_id: str) -> Any:
        """The meters of one entity."""
        with Session(state().engine) as session:
            if session.get(Entity, entity_id) is None:
                raise ProblemError("not-found", f"no entity {entity_id!r}")
            rows = meters_page(session, entity_id, query["limit"], query["offset"])
        return page(rows, query["limit"], query["offset"])
