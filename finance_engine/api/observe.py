"""Request ids, one structured JSON log line per request, and request metrics.

``X-Request-ID`` is echoed when the client sends a sane one (1-128 characters of
``[A-Za-z0-9._:-]``), otherwise generated; it is in every response, every problem document
and every log line of the request. The access log (logger ``finance_engine.access``) writes one
JSON object per request: time, request id, method, path, route template, status, duration in
milliseconds, key id, role, lender, remote address and response size.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from flask import Flask, Response, g, request

from finance_engine.api.metrics import metrics

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_HANDLER_MARK = "_finance_engine_json"
_CONVERTER_RE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")

access_log = logging.getLogger("finance_engine.access")


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON object: the ``fields`` of a :func:`log_event` line, or a
    message that is JSON, are merged in as fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        fields = getattr(record, "fields", None)
        message = record.getMessage()
        if isinstance(fields, dict):  # a structured line (see log_event): merged as it is
            out.update(fields)
        elif message.startswith("{"):
            try:
                out.update(json.loads(message))
            except ValueError:
                out["msg"] = message
        else:
            out["msg"] = message
        for name in ("request_id", "path"):
            if hasattr(record, name):
                out[name] = getattr(record, name)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def configure_logging(level: int = logging.INFO) -> None:
    """Send the API's loggers to stderr as JSON lines (once per process)."""
    for name in ("finance_engine.access", "finance_engine.security", "finance_engine.api"):
        logger = logging.getLogger(name)
        if any(getattr(h, _HANDLER_MARK, False) for h in logger.handlers):
            continue
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        setattr(handler, _HANDLER_MARK, True)
        logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False


def log_event(logger: logging.Logger, level: int, fields: dict[str, Any]) -> None:
    """Log one structured line: ``fields`` (with an ``event`` name, the message) become the
    JSON object's fields without being serialised twice."""
    logger.log(level, "%s", fields.get("event", ""), extra={"fields": fields})


@lru_cache(maxsize=256)
def _template(rule: str) -> str:
    """``/a/<int(min=1):id>`` -> ``/a/{id}``: the route label of logs and metrics."""
    return _CONVERTER_RE.sub(r"{\1}", rule)


def _start() -> None:
    g.start = time.perf_counter()
    sent = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = sent if _REQUEST_ID_RE.match(sent) else uuid.uuid4().hex


def _finish(response: Response) -> Response:
    request_id = getattr(g, "request_id", "")
    response.headers[REQUEST_ID_HEADER] = request_id
    duration_s = time.perf_counter() - getattr(g, "start", time.perf_counter())
    route = _template(request.url_rule.rule) if request.url_rule is not None else "unmatched"
    try:
        m = metrics()
        m.requests.labels(request.method, route, str(response.status_code)).inc()
        m.latency.labels(request.method, route).observe(duration_s)
    except Exception:  # metrics must never cost a client its answer
        logging.getLogger("finance_engine.api").exception("metrics update failed")
    if access_log.isEnabledFor(logging.INFO):
        principal = getattr(g, "principal", None)
        log_event(
            access_log,
            logging.INFO,
            {
                "event": "request",
                "request_id": request_id,
                "method": request.method,
                "path": request.path,
                "route": route,
                "status": response.status_code,
                "duration_ms": round(duration_s * 1000.0, 3),
                "key_id": principal.key_id if principal else None,
                "role": principal.role.value if principal else None,
                "lender": principal.lender if principal else None,
                "remote": request.remote_addr,
                "bytes": response.content_length,
            },
        )
    return response


def install(app: Flask, *, log_requests: bool) -> None:
    """Register the request hooks on ``app``."""
    app.before_request(_start)
    app.after_request(_finish)
    if log_requests:
        configure_logging()
    else:
        access_log.setLevel(logging.WARNING)
