"""Access resources: API keys (admin) and consents (admin grants and revokes; lenders read
their own)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from finance_engine.api.auth import current_principal, deny, guard
from finance_engine.api.blueprint import ID, Blueprint
from finance_engine.api.pagination import page, page_of
from finance_engine.api.problems import ProblemError, validation_problem
from finance_engine.api.schemas_access import (
    ConsentCreateSchema,
    ConsentQuerySchema,
    ConsentSchema,
    CreatedKeySchema,
    KeyCreateSchema,
    KeyQuerySchema,
    KeySchema,
)
from finance_engine.api.state import state
from finance_engine.services.consents import (
    ConsentError,
    get_consent,
    grant_consent,
    list_consents,
    revoke_consent,
)
from finance_engine.services.keys import (
    KeyRequestError,
    Role,
    create_key,
    get_key,
    list_keys,
    revoke_key,
)

blp = Blueprint("access", __name__, description="API keys and consents")

CONSENT_READERS = (Role.ADMIN, Role.BANK_SYSTEM, Role.LOAN_OFFICER)


def _field_problem(exc: ValueError) -> ProblemError:
    field, _, message = str(exc).partition(": ")
    return validation_problem(field, message or str(exc))


@blp.route("/keys")
class Keys(MethodView):
    @guard(Role.ADMIN, idempotent=True, body=True)
    @blp.arguments(KeyCreateSchema)
    @blp.response(201, CreatedKeySchema)
    @blp.doc(
        responses={
            201: {
                "links": {
                    "GetKey": {
                        "operationId": "get_key",
                        "parameters": {"key_id": "$response.body#/id"},
                    }
                }
            }
        }
    )
    def post(self, doc: dict[str, Any]) -> Any:
        """Create an API key; the token is in this response only."""
        st = state()
        try:
            view, token = create_key(
                st.engine,
                role=doc["role"],
                lender=doc.get("lender"),
                name=doc["name"],
                expires_at=doc.get("expires_at"),
                rate_limit_per_minute=doc.get("rate_limit_per_minute"),
                created_by=current_principal().key_id,
                known_lenders=st.lender_codes(),
            )
        except KeyRequestError as exc:
            raise _field_problem(exc) from exc
        return {**view.to_dict(), "token": token}, 201, {"Location": f"/api/v1/keys/{view.id}"}

    @guard(Role.ADMIN)
    @blp.arguments(KeyQuerySchema, location="query")
    @blp.response(200, page_of(KeySchema))
    def get(self, query: dict[str, Any]) -> Any:
        """List keys, newest first (never their secrets)."""
        rows = list_keys(
            state().engine,
            include_revoked=query["include_revoked"],
            limit=query["limit"] + 1,
            offset=query["offset"],
        )
        return page([r.to_dict() for r in rows], query["limit"], query["offset"])


@blp.route("/keys/<string(maxlength=32):key_id>")
class KeyItem(MethodView):
    @guard(Role.ADMIN)
    @blp.response(200, KeySchema)
    @blp.doc(operationId="get_key")
    def get(self, key_id: str) -> Any:
        """One key."""
        view = get_key(state().engine, key_id)
        if view is None:
            raise ProblemError("not-found", f"no key {key_id!r}")
        return view.to_dict()

    @guard(Role.ADMIN)
    @blp.response(200, KeySchema)
    def delete(self, key_id: str) -> Any:
        """Revoke a key (idempotent). Workers stop accepting it within the key cache TTL."""
        st = state()
        view = revoke_key(st.engine, key_id)
        if view is None:
            raise ProblemError("not-found", f"no key {key_id!r}")
        st.verifier.forget(key_id)
        return view.to_dict()


@blp.route("/consents")
class Consents(MethodView):
    @guard(Role.ADMIN, idempotent=True, body=True)
    @blp.arguments(ConsentCreateSchema)
    @blp.response(201, ConsentSchema)
    @blp.alt_response(200, schema=ConsentSchema, description="An active consent already existed")
    @blp.doc(
        responses={
            201: {
                "links": {
                    "GetConsent": {
                        "operationId": "get_consent",
                        "parameters": {"consent_id": "$response.body#/id"},
                    }
                }
            }
        }
    )
    def post(self, doc: dict[str, Any]) -> Any:
        """Record an entity's consent for a lender (200 with the existing one if active)."""
        st = state()
        try:
            view, created = grant_consent(
                st.engine,
                entity_id=doc["entity_id"],
                lender=doc["lender"],
                expires_at=doc.get("expires_at"),
                reference=doc["reference"],
                granted_by=current_principal().key_id,
                known_lenders=st.lender_codes(),
            )
        except ConsentError as exc:
            raise _field_problem(exc) from exc
        location = {"Location": f"/api/v1/consents/{view.id}"}
        return view.to_dict(), (201 if created else 200), location

    @guard(*CONSENT_READERS)
    @blp.arguments(ConsentQuerySchema, location="query")
    @blp.response(200, page_of(ConsentSchema))
    def get(self, query: dict[str, Any]) -> Any:
        """List consents, newest first (bank keys: their own lender's only)."""
        principal = current_principal()
        lender = principal.lender if principal.is_bank else query.get("lender")
        rows = list_consents(
            state().engine,
            lender=lender,
            entity_id=query.get("entity_id"),
            active_only=bool(query.get("active")),
            limit=query["limit"] + 1,
            offset=query["offset"],
        )
        return page([r.to_dict() for r in rows], query["limit"], query["offset"])


@blp.route(f"/consents/<{ID}:consent_id>")
class ConsentItem(MethodView):
    @guard(*CONSENT_READERS)
    @blp.response(200, ConsentSchema)
    @blp.doc(operationId="get_consent")
    def get(self, consent_id: int) -> Any:
        """One consent (bank keys: 404 for another lender's)."""
        view = get_consent(state().engine, consent_id)
        if view is None:
            raise ProblemError("not-found", f"no consent {consent_id}")
        principal = current_principal()
        if principal.is_bank and view.lender != principal.lender:
            raise deny(
                principal,
                "other_lender",
                404,
                entity_id=view.entity_id,
                detail=f"no consent {consent_id} for lender {principal.lender}",
            )
        return view.to_dict()

    @guard(Role.ADMIN)
    @blp.response(200, ConsentSchema)
    def delete(self, consent_id: int) -> Any:
        """Revoke a consent (idempotent): the lender loses access at once."""
        view = revoke_consent(state().engine, consent_id, revoked_by=current_principal().key_id)
        if view is None:
            raise ProblemError("not-found", f"no consent {consent_id}")
        return view.to_dict()
