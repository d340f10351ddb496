"""The HTTP API for bank systems under ``/api/v1`` (flask-smorest, marshmallow, OpenAPI 3).

:func:`init_api` mounts everything on an app: the problem+json error handling, request ids,
JSON access logs and metrics hooks, the resource blueprints, the OpenAPI document at
``/api/v1/openapi.json`` and an interactive Swagger UI at ``/api/v1/docs`` served from the
``swagger-ui-bundle`` package (no CDN: it works offline). ``docs/api.md`` is the user guide.
"""

from __future__ import annotations

import http
from pathlib import Path
from typing import Any

from flask import Flask, abort, send_from_directory
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from sqlalchemy import Engine
from werkzeug.exceptions import HTTPException

from finance_engine.api import observe
from finance_engine.api.auth import SECURITY_SCHEME
from finance_engine.api.problems import (
    PROBLEM_MEDIA_TYPE,
    ProblemError,
    ProblemSchema,
    handle_http_exception,
    handle_problem,
    handle_unexpected,
)
from finance_engine.api.state import EXTENSION, ApiState
from finance_engine.config import Settings

API_PREFIX = "/api/v1"
DOCS_ASSETS = ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js")

API_DESCRIPTION = """Carbon accounts, credit decisions and data ingest for bank systems.

Authenticate with `Authorization: Bearer <API key>`. Errors are `application/problem+json`
(RFC 9457). Lists take `limit`/`offset` and return `items` plus `pagination` (and a `Link:
rel="next"` header). Creating POSTs honour `Idempotency-Key`. Every response carries
`X-Request-ID`. Each operation lists the roles that may call it in `x-roles`.
"""


class ProblemApi(Api):  # type: ignore[misc]
    """flask-smorest's Api with problem+json errors (handled and documented)."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Any other error (problem document)", "schema": ProblemSchema}
        prepare_response(default, self.spec, PROBLEM_MEDIA_TYPE)
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)

    def _register_error_handlers(self) -> None:
        self._app.register_error_handler(HTTPException, handle_http_exception)
        self._app.register_error_handler(ProblemError, handle_problem)
        self._app.register_error_handler(Exception, handle_unexpected)


def _configure(app: Flask, settings: Settings) -> None:
    app.config.update(
        API_TITLE="finance-engine",
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=f"{API_PREFIX}/docs/assets/",
        OPENAPI_SWAGGER_UI_CONFIG={"persistAuthorization": False, "tryItOutEnabled": True},
        API_SPEC_OPTIONS={
            "info": {"description": API_DESCRIPTION},
            "servers": [{"url": "/"}],
        },
        MAX_CONTENT_LENGTH=settings.api_max_body_bytes,
        JSON_SORT_KEYS=False,
    )


def _register_spec_components(api: ProblemApi) -> None:
    api.spec.components.security_scheme(
        SECURITY_SCHEME,
        {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "fe_<key id>_<secret>",
            "description": "An API key from `finance-engine keys create` or POST /api/v1/keys.",
        },
    )
    api.spec.components.parameter(
        "IdempotencyKey",
        "header",
        {
            "name": "Idempotency-Key",
            "required": False,
            "description": "Retry-safe key: the same key and body replay the stored response; "
            "the same key with a different body is refused with 409.",
            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
        },
    )


def _register_docs_assets(app: Flask) -> None:
    from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

    folder = Path(str(swagger_ui_path))

    @app.get(f"{API_PREFIX}/docs/assets/<path:name>")
    def swagger_ui_asset(name: str) -> Any:
        if name not in DOCS_ASSETS:
            abort(404)
        return send_from_directory(folder, name, max_age=86_400)


def init_api(app: Flask, settings: Settings, engine: Engine) -> ApiState:
    """Mount the API on ``app``; return its per-process state."""
    from finance_engine.api.resources import BLUEPRINTS

    _configure(app, settings)
    api_state = ApiState(settings, engine)
    app.extensions[EXTENSION] = api_state
    observe.install(app, log_requests=settings.access_log)
    api = ProblemApi(app)
    _register_spec_components(api)
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint, url_prefix=API_PREFIX)
    _register_docs_assets(app)
    return api_state
