"""Credit decisions: score one application, best offers, a batch, and the decision log.

Bank keys decide for their own lender only (the application's lender is the key's), only for
entities consenting to that lender (otherwise 404, logged as a denial), and read back only
their own lender's decisions. Every decision is appended to the hash-chained decision log.
"""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from sqlmodel import Session

from finance_engine.api.auth import current_principal, deny, guard, refusal
from finance_engine.api.blueprint import ID, Blueprint
from finance_engine.api.metrics import count_decision
from finance_engine.api.pagination import page, page_of
from finance_engine.api.problems import ProblemError, validation_problem
from finance_engine.api.queries import decisions_page
from finance_engine.api.schemas_decisions import (
    ApplicationSchema,
    BatchResultSchema,
    DecisionBatchSchema,
    DecisionListSchema,
    DecisionQuerySchema,
    DecisionSchema,
    DecisionSummarySchema,
    OfferApplicationSchema,
    to_application,
)
from finance_engine.api.state import state
from finance_engine.services.borrowers import BorrowerNotVisibleError
from finance_engine.services.consents import EntityAccess, entity_access
from finance_engine.services.decisions import (
    DecisionServiceError,
    LoggedDecision,
    context_for,
    offers,
    score,
    score_batch,
    show_decision,
)
from finance_engine.services.keys import Role
from scoring.applications import Application, ApplicationError

blp = Blueprint("decisions", __name__, description="Credit decisions and the decision log")

DECIDERS = (Role.BANK_SYSTEM,)
APPLICATION_SCHEMA = ApplicationSchema()
"""One instance for every request: webargs builds a schema per request from a class (a deep
copy of every field), which costs more than the load itself."""
READERS = (Role.ADMIN, Role.BANK_SYSTEM, Role.LOAN_OFFICER)
CREATED_LINKS = {
    "GetDecision": {
        "operationId": "get_decision",
        "parameters": {"sequence": "$response.body#/log/sequence"},
    }
}


def _service_problem(exc: DecisionServiceError) -> ProblemError:
    message = str(exc)
    field, _, reason = message.partition(": ")
    if field == "model":
        return ProblemError("unavailable", message)
    return validation_problem(field if reason else "", reason or message)


def _application(doc: dict[str, Any]) -> Application:
    try:
        return to_application(doc, current_principal().lender)
    except ApplicationError as exc:
        field, _, reason = str(exc).partition(": ")
        raise validation_problem(field, reason or str(exc)) from exc


def _lender() -> str | None:
    """The lender whose consent the borrower must hold: the bank key's; None for others."""
    principal = current_principal()
    return principal.lender if principal.is_bank else None


def _rendered(logged: list[LoggedDecision]) -> list[dict[str, Any]]:
    for item in logged:
        count_decision(item.decision.outcome.value)
    return [item.to_dict() for item in logged]


@blp.route("/decisions")
class Decisions(MethodView):
    @guard(*DECIDERS, idempotent=True, body=True)
    @blp.arguments(APPLICATION_SCHEMA)
    @blp.response(201, DecisionSchema)
    @blp.doc(operationId="score_application", responses={201: {"links": CREATED_LINKS}})
    def post(self, doc: dict[str, Any]) -> Any:
        """Decide one application for one of the lender's products; the decision is logged.

        The borrower's latest stored carbon account (period ending on or before today) and open
        alerts feed the eligibility rules, the grade terms and the risk model. 404 when the
        entity does not consent to the key's lender.
        """
        st = state()
        application = _application(doc)
        try:
            logged = score(st.engine, context_for(st.settings), application, lender=_lender())
        except BorrowerNotVisibleError as exc:
            raise refusal(exc.access, exc.entity_id) from None
        except DecisionServiceError as exc:
            raise _service_problem(exc) from exc
        # the hot path: the logged payload already has the documented shape and is already
        # serialised (canonical JSON, for its hash): no schema dump, no second serialisation
        count_decision(logged.decision.outcome.value)
        return Response(
            logged.to_json(),
            status=201,
            mimetype="application/json",
            headers={"Location": f"/api/v1/decisions/{logged.record.sequence}"},
        )

    @guard(*READERS)
    @blp.arguments(DecisionQuerySchema(), location="query")
    @blp.response(200, page_of(DecisionSummarySchema))
    def get(self, query: dict[str, Any]) -> Any:
        """List logged decisions, newest first (bank keys: their lender's products only)."""
        principal = current_principal()
        codes = None
        if principal.is_bank:
            codes = {
                p.code for p in state().catalog().products if p.lender.code == principal.lender
            }
        with state().engine.connect() as conn:
            rows = decisions_page(
                conn,
                product_codes=codes,
                entity_id=query.get("entity_id"),
                outcome=query.get("outcome"),
                limit=query["limit"],
                offset=query["offset"],
            )
        return page(rows, query["limit"], query["offset"])


@blp.route("/decisions/offers")
class Offers(MethodView):
    @guard(*DECIDERS, idempotent=True, body=True)
    @blp.arguments(OfferApplicationSchema())
    @blp.response(200, DecisionListSchema)
    def post(self, doc: dict[str, Any]) -> Any:
        """Rank every product of the lender the borrower may apply for (each decision logged).

        Approvals come before referrals before declines, then the larger limit and lower rate.
        """
        st = state()
        application = _application(doc)
        try:
            ranked = offers(st.engine, context_for(st.settings), application, lender=_lender())
        except BorrowerNotVisibleError as exc:
            raise refusal(exc.access, exc.entity_id) from None
        except DecisionServiceError as exc:
            raise _service_problem(exc) from exc
        return {"items": _rendered(ranked)}


@blp.route("/decisions/batch")
class DecisionBatch(MethodView):
    @guard(*DECIDERS, idempotent=True, body=True)
    @blp.arguments(DecisionBatchSchema())
    @blp.response(200, BatchResultSchema)
    def post(self, doc: dict[str, Any]) -> Any:
        """Decide up to 1000 applications with one model evaluation (each decision logged).

        Applications whose entity does not consent to the lender are refused (listed in
        `refused`, each logged as a denial); a borrower without a stored account is declined.
        """
        st = state()
        principal = current_principal()
        applications = [_application(item) for item in doc["applications"]]
        allowed, refused = _visible(applications)
        try:
            logged = score_batch(st.engine, context_for(st.settings), allowed) if allowed else []
        except DecisionServiceError as exc:
            raise _service_problem(exc) from exc
        for app in refused:
            deny(principal, "no_consent", 404, entity_id=app.entity_id, detail="")
        return {
            "items": _rendered(logged),
            "refused": [
                {
                    "application_id": a.application_id,
                    "entity_id": a.entity_id,
                    "reason": f"no entity {a.entity_id!r} visible to lender {principal.lender}",
                }
                for a in refused
            ],
        }


def _visible(applications: list[Application]) -> tuple[list[Application], list[Application]]:
    lender = current_principal().lender
    assert lender is not None
    with Session(state().engine) as session:
        seen = {
            entity: entity_access(session, entity, lender) is EntityAccess.VISIBLE
            for entity in {a.entity_id for a in applications}
        }
    return (
        [a for a in applications if seen[a.entity_id]],
        [a for a in applications if not seen[a.entity_id]],
    )


@blp.route(f"/decisions/<{ID}:sequence>")
class DecisionItem(MethodView):
    @guard(*READERS)
    @blp.response(200, DecisionSchema)
    @blp.doc(operationId="get_decision")
    def get(self, sequence: int) -> Any:
        """One logged decision in full (bank keys: 404 for another lender's decision)."""
        try:
            decision = show_decision(state().engine, sequence)
        except DecisionServiceError as exc:
            raise ProblemError("not-found", f"no decision {sequence}") from exc
        principal = current_principal()
        if principal.is_bank and decision.get("lender_code") != principal.lender:
            raise deny(
                principal,
                "other_lender",
                404,
                entity_id=decision.get("entity_id"),
                detail=f"no decision {sequence} of lender {principal.lender}",
            )
        return decision
