"""Flask application factory.

``create_app(settings=None)`` builds a fresh app; there is no module-level app or session.
The HTTP API for bank systems (issue "HTTP API for bank systems") mounts its blueprints here.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify
from sqlalchemy import text

from finance_engine.config import Settings, load_settings
from finance_engine.db import SchemaOutOfDateError, check_schema, make_engine


def create_app(settings: Settings | None = None) -> Flask:
    """Build the application for ``settings`` (default: from the environment)."""
    settings = settings or load_settings()
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config["SETTINGS"] = settings
    engine = make_engine(settings.database_url)
    app.extensions["finance_engine.engine"] = engine

    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz() -> Any:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            check_schema(engine)
        except SchemaOutOfDateError as exc:
            return jsonify(status="unavailable", reason=str(exc)), 503
        except Exception:
            return jsonify(status="unavailable", reason="database unreachable"), 503
        return jsonify(status="ready")

    return app
