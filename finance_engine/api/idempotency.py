"""``Idempotency-Key`` on creating POSTs: a retried request gets the stored response.

Per caller scope (the lender for bank keys, else the key) and key:

* first request: a row is claimed (``completed = false``) in its own transaction, the view
  runs, and its response (status, body, ``Content-Type``, ``Location``) is stored;
* same key, same request (method, path, query and body hash equal): the stored response is
  replayed with ``Idempotent-Replayed: true``; nothing runs again;
* same key, different request: 409 ``idempotency-key-reused``;
* same key while the first is still running: 409 ``idempotency-in-progress`` with
  ``Retry-After``;
* a response of 5xx, 409 or 429, or an error raised before a response exists (invalid body,
  unauthorised entity), is not stored: the claim is released so a corrected retry may reuse
  the key.

The claim relies on the primary key (scope, key): of two concurrent first requests exactly
one inserts the row, the other sees it. Records expire after ``idempotency_ttl_s``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Response, make_response, request
from sqlalchemy import Engine, delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from finance_engine.api.problems import ProblemError, validation_problem
from finance_engine.config import Settings
from finance_engine.tables_api import IdempotencyRecord, as_utc

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_NOT_STORED = frozenset({409, 429})


def _request_digest() -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.path, request.query_string.decode("latin-1")):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _check_key(key: str) -> None:
    if not 1 <= len(key) <= 255 or not key.isprintable() or not key.isascii():
        raise validation_problem(HEADER, "must be 1 to 255 printable ASCII characters", "headers")


def _claim(
    engine: Engine, scope: str, key: str, digest: str, ttl_s: int
) -> IdempotencyRecord | None:
    """Claim (scope, key); return None when claimed, else the existing record."""
    now = datetime.now(UTC)
    for _ in range(2):
        try:
            with Session(engine) as session:
                session.add(
                    IdempotencyRecord(
                        scope=scope,
                        key=key,
                        method=request.method,
                        path=request.path[:500],
                        request_sha256=digest,
                        created_at=now,
                    )
                )
                session.commit()
            return None
        except IntegrityError:
            pass
        with Session(engine) as session:
            existing = session.get(IdempotencyRecord, (scope, key))
            if existing is None:
                continue  # released between our insert and our read: try again
            created = as_utc(existing.created_at)
            if created is not None and created < now - timedelta(seconds=ttl_s):
                session.delete(existing)
                session.commit()
                continue
            session.expunge(existing)
            return existing
    raise ProblemError("idempotency-in-progress", "the key is being claimed concurrently; retry")


def _release(engine: Engine, scope: str, key: str) -> None:
    with Session(engine) as session:
        session.execute(
            delete(IdempotencyRecord).where(
                col(IdempotencyRecord.scope) == scope, col(IdempotencyRecord.key) == key
            )
        )
        session.commit()


def _complete(engine: Engine, scope: str, key: str, response: Response) -> None:
    with Session(engine) as session:
        record = session.get(IdempotencyRecord, (scope, key))
        if record is None:
            return
        record.completed = True
        record.status_code = response.status_code
        record.content_type = response.content_type or ""
        record.location = response.headers.get("Location", "")[:500]
        record.body = response.get_data(as_text=True)
        session.add(record)
        session.commit()


def _replay(record: IdempotencyRecord) -> Response:
    response = Response(
        record.body or "", status=record.status_code or 200, content_type=record.content_type
    )
    if record.location:
        response.headers["Location"] = record.location
    response.headers[REPLAYED_HEADER] = "true"
    return response


def run_idempotent(
    engine: Engine,
    scope: str,
    settings: Settings,
    view: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Response:
    """Run ``view`` under the request's ``Idempotency-Key`` (see the module docstring)."""
    key = request.headers[HEADER]
    _check_key(key)
    digest = _request_digest()
    existing = _claim(engine, scope, key, digest, settings.idempotency_ttl_s)
    if existing is not None:
        if existing.request_sha256 != digest:
            raise ProblemError(
                "idempotency-key-reused",
                f"{HEADER} {key!r} was used for a different request "
                f"({existing.method} {existing.path})",
            )
        if not existing.completed:
            raise ProblemError(
                "idempotency-in-progress",
                f"the first request with {HEADER} {key!r} has not finished; retry",
                headers={"Retry-After": "1"},
            )
        return _replay(existing)
    try:
        response = make_response(view(*args, **kwargs))
    except BaseException:
        _release(engine, scope, key)
        raise
    if response.status_code >= 500 or response.status_code in _NOT_STORED:
        _release(engine, scope, key)
    else:
        _complete(engine, scope, key, response)
    return response
