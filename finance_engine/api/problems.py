"""Errors as ``application/problem+json`` (RFC 9457), mapped in one place.

Every failure (4xx and 5xx, routing errors included) is a problem document::

    {"type": "tag:finance-engine,2025:problem/validation-error", "title": "...",
     "status": 422, "detail": "...", "instance": "/api/v1/...", "request_id": "...",
     "errors": [{"location": "json", "field": "application.amount_yuan", "message": "..."}]}

``type`` URIs are stable (``tag:`` URIs, RFC 4151: identifiers, not links; ``docs/api.md``
lists them). ``errors`` appears on 400/422 and lists every field at fault. Tracebacks go to the
server log only, never to a client.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from flask import Response, g, request
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "tag:finance-engine,2025:problem/"

log = logging.getLogger("finance_engine.api")

PROBLEM_TYPES: dict[str, tuple[int, str]] = {
    "bad-request": (400, "Bad request"),
    "unauthenticated": (401, "Missing, invalid, expired or revoked API key"),
    "forbidden": (403, "This key's role may not use this operation"),
    "not-found": (404, "Not found"),
    "method-not-allowed": (405, "Method not allowed"),
    "not-acceptable": (406, "Not acceptable"),
    "conflict": (409, "Conflict with the current state"),
    "idempotency-key-reused": (409, "Idempotency-Key reused with a different request"),
    "idempotency-in-progress": (409, "A request with this Idempotency-Key is in progress"),
    "payload-too-large": (413, "Request body too large"),
    "unsupported-media-type": (415, "Unsupported media type"),
    "validation-error": (422, "The request is not valid"),
    "rate-limited": (429, "Too many requests for this key"),
    "internal-error": (500, "Internal server error"),
    "unavailable": (503, "Service unavailable"),
}
"""ProblemError type slug -> (HTTP status, title). The ``type`` URI is ``TYPE_PREFIX + slug``."""

_BY_STATUS = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    429: "rate-limited",
    500: "internal-error",
    503: "unavailable",
}


def type_uri(slug: str) -> str:
    """The stable ``type`` URI of a problem slug."""
    return TYPE_PREFIX + slug


class ProblemError(Exception):
    """Raise to answer with a problem document (views and helpers never build responses).

    Parameters
    ----------
    slug:
        A key of :data:`PROBLEM_TYPES`.
    detail:
        What happened in this occurrence, naming the field or resource.
    errors:
        Fields at fault (``location``, ``field``, ``message``).
    headers:
        Extra response headers (``Retry-After``, ``WWW-Authenticate``...).
    status:
        Overrides the type's status (rarely needed).
    """

    def __init__(
        self,
        slug: str,
        detail: str = "",
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        status: int = 0,
    ) -> None:
        if slug not in PROBLEM_TYPES:
            raise ValueError(f"unknown problem type {slug!r}")
        super().__init__(detail or slug)
        self.slug = slug
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}
        self.status = status or PROBLEM_TYPES[slug][0]


def validation_problem(field_name: str, message: str, location: str = "json") -> ProblemError:
    """A 422 naming one field."""
    return ProblemError(
        "validation-error",
        f"{field_name}: {message}",
        errors=[{"location": location, "field": field_name, "message": message}],
    )


class ProblemErrorSchema(Schema):
    """One field at fault."""

    location = fields.String(metadata={"description": "json, query, path, headers, body"})
    field = fields.String(metadata={"description": "Dotted path of the field ('' for the whole)"})
    message = fields.String()


class ProblemSchema(Schema):
    """An RFC 9457 problem document."""

    type = fields.String(required=True, metadata={"description": "Stable problem type URI"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    instance = fields.String(metadata={"description": "The request path"})
    request_id = fields.String()
    errors = fields.List(fields.Nested(ProblemErrorSchema))


def problem_response(problem: ProblemError) -> Response:
    """Render ``problem`` for the current request."""
    status, title = PROBLEM_TYPES[problem.slug]
    body: dict[str, Any] = {
        "type": type_uri(problem.slug),
        "title": title,
        "status": problem.status or status,
        "instance": request.path,
        "request_id": getattr(g, "request_id", ""),
    }
    if problem.detail:
        body["detail"] = problem.detail
    if problem.errors:
        body["errors"] = problem.errors
    response = Response(
        json.dumps(body, ensure_ascii=False),
        status=body["status"],
        mimetype=PROBLEM_MEDIA_TYPE,
    )
    for name, value in problem.headers.items():
        response.headers[name] = value
    return response


def _flatten(messages: Any, location: str, prefix: str = "") -> list[dict[str, str]]:
    """webargs/marshmallow messages -> one entry per field and message."""
    out: list[dict[str, str]] = []
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = str(key) if key != "_schema" else ""
            path = f"{prefix}.{name}" if prefix and name else (prefix or name)
            out += _flatten(value, location, path)
    elif isinstance(messages, list | tuple):
        for item in messages:
            if isinstance(item, Mapping | list | tuple):
                out += _flatten(item, location, prefix)
            else:
                out.append({"location": location, "field": prefix, "message": str(item)})
    else:
        out.append({"location": location, "field": prefix, "message": str(messages)})
    return out


def field_errors(messages: Any) -> list[dict[str, str]]:
    """Flatten webargs messages (``{location: {field: [message]}}``) into error entries."""
    if isinstance(messages, Mapping):
        out: list[dict[str, str]] = []
        for location, inner in messages.items():
            out += _flatten(inner, str(location))
        return out
    return _flatten(messages, "body")


def from_http_exception(error: HTTPException) -> ProblemError:
    """Map a werkzeug/webargs HTTP error to a problem (webargs puts field errors in ``data``)."""
    code = error.code or 500
    slug = _BY_STATUS.get(code, "bad-request" if code < 500 else "internal-error")
    data = getattr(error, "data", None) or {}
    errors = field_errors(data["messages"]) if "messages" in data else []
    detail = "; ".join(f"{e['field'] or e['location']}: {e['message']}" for e in errors[:5])
    if not detail and code < 500:
        detail = error.description or ""
    headers = dict(data.get("headers") or {})
    if code == 405 and error.get_response().headers.get("Allow"):
        headers["Allow"] = error.get_response().headers["Allow"]
    problem = ProblemError(slug, detail, errors, headers)
    problem.status = code if code in _BY_STATUS else PROBLEM_TYPES[slug][0]
    return problem


def handle_http_exception(error: HTTPException) -> Response:
    """Flask error handler for every HTTP error."""
    return problem_response(from_http_exception(error))


def handle_problem(problem: ProblemError) -> Response:
    """Flask error handler for :class:`ProblemError`."""
    return problem_response(problem)


def handle_unexpected(error: Exception) -> Response:
    """Flask error handler of last resort: log the traceback, answer a bare 500 problem."""
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    log.error(
        "unhandled error",
        exc_info=error,
        extra={"request_id": getattr(g, "request_id", ""), "path": request.path},
    )
    return problem_response(
        ProblemError("internal-error", "the error was logged with the request id")
    )
