"""Flask application factory.

``create_app(settings=None)`` builds a fresh app; there is no module-level app or session. It
mounts the HTTP API for bank systems under ``/api/v1`` (:mod:`finance_engine.api`) and the
operational endpoints outside it:

* ``/healthz`` - the process is up (no dependency is touched);
* ``/readyz`` - the database answers, its schema is current, and the current risk model (if one
  was trained) is loaded; 503 with the failing check otherwise;
* ``/metrics`` - Prometheus text format (requests, latency histograms, decisions by outcome).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify
from sqlalchemy import text

from finance_engine.api import init_api
from finance_engine.api.metrics import exposition
from finance_engine.api.state import ApiState
from finance_engine.config import Settings, load_settings
from finance_engine.db import SchemaOutOfDateError, check_schema, make_engine


def create_app(settings: Settings | None = None) -> Flask:
    """Build the application for ``settings`` (default: from the environment)."""
    settings = settings or load_settings()
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config["SETTINGS"] = settings
    engine = make_engine(settings.database_url)
    app.extensions["finance_engine.engine"] = engine
    api_state = init_api(app, settings, engine)
    _operational_routes(app, api_state)
    return app


def _readiness(api_state: ApiState) -> dict[str, str]:
    """Check each dependency; every value is ``ok`` or the reason it is not."""
    checks: dict[str, str] = {}
    try:
        with api_state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:
        return {"database": "unreachable"}
    try:
        check_schema(api_state.engine)
        checks["schema"] = "ok"
    except SchemaOutOfDateError as exc:
        checks["schema"] = str(exc)
    try:
        version = api_state.model_version()
        if version is not None:
            api_state.model()
        checks["model"] = "ok" if version else "none trained"
    except Exception as exc:
        checks["model"] = f"cannot load the current model ({type(exc).__name__})"
    return checks


def _operational_routes(app: Flask, api_state: ApiState) -> None:
    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz() -> Any:
        checks = _readiness(api_state)
        ready = all(v in ("ok", "none trained") for v in checks.values())
        body = {"status": "ready" if ready else "unavailable", "checks": checks}
        return jsonify(body), (200 if ready else 503)

    @app.get("/metrics")
    def metrics_endpoint() -> Any:
        payload, content_type = exposition()
        return Response(payload, content_type=content_type)
