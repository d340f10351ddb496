"""Access control: API keys, roles, rate limits, consent and lender checks, denial logging.

Every ``/api/v1`` operation is wrapped by :func:`guard` (placed right under ``@blp.route``, so
nothing is parsed before the caller is known). In order it: sets the body-size limit, verifies
the bearer token (401), counts the request against the key's rate limit (429), checks the role
(403), checks the media type of a body (415), and runs the view, through the idempotency store
when the request carries ``Idempotency-Key``.

Lender scoping happens in the views through :func:`require_visible` (or :func:`refusal`, after
a lookup that read the consent itself) and :func:`deny`: a bank key asking for an entity
without an active consent for its lender, or for another lender's decision, gets 404
(indistinguishable from "does not exist", so nothing leaks). Every denial of an authenticated
key is stored in ``access_denial`` and logged; 401s are logged and counted but not stored (an
unauthenticated caller must not be able to make the service write).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from copy import deepcopy
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar, cast

from flask import g, request
from sqlalchemy import Connection
from sqlmodel import Session

from finance_engine.api.idempotency import run_idempotent
from finance_engine.api.metrics import metrics
from finance_engine.api.observe import log_event
from finance_engine.api.problems import ProblemError
from finance_engine.api.state import ApiState, state
from finance_engine.services.consents import EntityAccess, entity_access
from finance_engine.services.keys import Principal, Role
from finance_engine.tables_api import AccessDenial

F = TypeVar("F", bound=Callable[..., Any])

security_log = logging.getLogger("finance_engine.security")

SECURITY_SCHEME = "ApiKey"
ALL_ROLES: tuple[Role, ...] = tuple(Role)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_UNAUTHENTICATED_HEADERS = {"WWW-Authenticate": 'Bearer realm="finance-engine"'}


def current_principal() -> Principal:
    """The verified caller of this request (inside a guarded view)."""
    principal: Principal = g.principal
    return principal


def _token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return token.strip()


def authenticate(st: ApiState) -> Principal:
    """The principal of the request's bearer token, or raise 401."""
    token = _token()
    principal = st.verifier.verify(token) if token else None
    if principal is None:
        reason = "no API key" if token is None else "unknown, expired or revoked API key"
        metrics().denials.labels("unauthenticated").inc()
        _log_denial(None, "unauthenticated", 401, None)
        raise ProblemError(
            "unauthenticated",
            f"{reason}: send 'Authorization: Bearer <key>'",
            headers=_UNAUTHENTICATED_HEADERS,
        )
    return principal


def _log_denial(
    principal: Principal | None, reason: str, status: int, entity_id: str | None
) -> None:
    log_event(
        security_log,
        logging.WARNING,
        {
            "event": "access_denied",
            "request_id": getattr(g, "request_id", ""),
            "key_id": principal.key_id if principal else None,
            "role": principal.role.value if principal else None,
            "lender": principal.lender if principal else None,
            "method": request.method,
            "path": request.path,
            "reason": reason,
            "entity_id": entity_id,
            "status": status,
        },
    )


def deny(
    principal: Principal, reason: str, status: int, *, entity_id: str | None = None, detail: str
) -> ProblemError:
    """Record a denial (table, log line, metric) and return the problem to raise."""
    metrics().denials.labels(reason).inc()
    _log_denial(principal, reason, status, entity_id)
    with Session(state().engine) as session:
        session.add(
            AccessDenial(
                at=datetime.now(UTC),
                request_id=getattr(g, "request_id", ""),
                key_id=principal.key_id,
                role=principal.role.value,
                lender=principal.lender,
                method=request.method,
                path=request.path[:500],
                reason=reason,
                entity_id=entity_id,
                status=status,
            )
        )
        session.commit()
    return ProblemError("forbidden" if status == 403 else "not-found", detail)


def require_visible(session: Session | Connection, entity_id: str, what: str = "entity") -> None:
    """For bank keys: 404 (and a logged denial) unless ``entity_id`` consents to their lender.

    Platform keys see every entity; a missing entity is a plain 404 for everyone.
    """
    principal = current_principal()
    if not principal.is_bank:
        return
    assert principal.lender is not None
    access = entity_access(session, entity_id, principal.lender)
    if access is not EntityAccess.VISIBLE:
        raise refusal(access, entity_id, what)


def refusal(access: EntityAccess, entity_id: str, what: str = "entity") -> ProblemError:
    """The 404 of a bank key for an entity it may not see: plain for a missing entity, a
    logged denial (:func:`deny`) for one without an active consent to its lender."""
    principal = current_principal()
    detail = f"no {what} {entity_id!r} visible to lender {principal.lender}"
    if access is EntityAccess.NO_ENTITY:
        return ProblemError("not-found", detail)
    return deny(principal, "no_consent", 404, entity_id=entity_id, detail=detail)


def _check_media_type(accepts: tuple[str, ...]) -> None:
    if request.method not in _BODY_METHODS:
        return
    mimetype = request.mimetype
    if mimetype not in accepts:
        raise ProblemError(
            "unsupported-media-type",
            f"Content-Type {mimetype or '(none)'!r} is not accepted here; "
            f"send {' or '.join(accepts)}",
        )


def _docs(roles: Iterable[Role], idempotent: bool, request_body: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "security": [{SECURITY_SCHEME: []}],
        "x-roles": [r.value for r in roles],
        "responses": {
            401: "UNAUTHORIZED",
            403: "FORBIDDEN",
            429: "TOO_MANY_REQUESTS",
        },
    }
    if request_body:
        doc["responses"][413] = "REQUEST_ENTITY_TOO_LARGE"
        doc["responses"][415] = "UNSUPPORTED_MEDIA_TYPE"
    if idempotent:
        doc["parameters"] = ["IdempotencyKey"]
        doc["responses"][409] = "CONFLICT"
    return doc


def guard(
    *roles: Role,
    accepts: tuple[str, ...] = ("application/json",),
    idempotent: bool = False,
    large_body: bool = False,
    body: bool = False,
) -> Callable[[F], F]:
    """Protect a view: key (401), rate limit (429), role (403), media type (415), idempotency.

    Parameters
    ----------
    roles:
        Roles allowed to call the operation.
    accepts:
        Media types accepted for a request body (POST/PUT/PATCH).
    idempotent:
        Honour ``Idempotency-Key`` (creating POSTs).
    large_body:
        Allow bodies up to ``ingest_max_body_bytes`` instead of ``api_max_body_bytes``.
    body:
        The operation takes a request body (documents 413 and 415).
    """
    allowed = frozenset(roles)

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            st = state()
            settings = st.settings
            request.max_content_length = (
                settings.ingest_max_body_bytes if large_body else settings.api_max_body_bytes
            )
            principal = authenticate(st)
            g.principal = principal
            retry_after = st.limiter.hit(principal.key_id, principal.rate_limit_per_minute)
            if retry_after is not None:
                metrics().denials.labels("rate_limited").inc()
                raise ProblemError(
                    "rate-limited",
                    f"key {principal.key_id} exceeded its requests per minute",
                    headers={"Retry-After": str(int(retry_after))},
                )
            if principal.role not in allowed:
                raise deny(
                    principal,
                    "role",
                    403,
                    detail=f"role {principal.role.value} may not call {request.method} "
                    f"{request.url_rule.rule if request.url_rule else request.path}",
                )
            _check_media_type(accepts)
            if idempotent and "Idempotency-Key" in request.headers:
                return run_idempotent(st.engine, principal.scope, st.settings, view, args, kwargs)
            return view(*args, **kwargs)

        apidoc = deepcopy(getattr(view, "_apidoc", {}))
        manual = apidoc.setdefault("manual_doc", {})
        for key, value in _docs(roles, idempotent, body).items():
            if isinstance(value, dict):
                manual.setdefault(key, {}).update(value)
            elif isinstance(value, list) and key == "parameters":
                manual[key] = [*manual.get(key, []), *value]
            else:
                manual[key] = value
        wrapper._apidoc = apidoc  # type: ignore[attr-defined]
        return cast(F, wrapper)

    return decorator
