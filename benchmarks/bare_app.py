"""The floor of the API benchmark: a bare Flask endpoint with the scoring endpoint's JSON sizes.

``POST /score`` parses the JSON body and answers a JSON document of ``BENCH_RESPONSE_BYTES``
bytes (the size of a real decision), with no auth, database or model: what Flask and gunicorn
cost by themselves. Served with the same gunicorn config as the real app.
"""

from __future__ import annotations

import json
import os
from typing import Any

from flask import Flask, Response, request


def create_bare_app() -> Flask:
    """The bare app (``benchmarks.bare_app:create_bare_app()``)."""
    app = Flask(__name__)
    size = int(os.environ.get("BENCH_RESPONSE_BYTES", "300"))
    skeleton = json.dumps({"outcome": "approve", "padding": ""})
    padding = "x" * max(0, size - len(skeleton))

    @app.post("/score")
    def score() -> Any:
        body = request.get_json()
        payload = {"outcome": "approve" if body else "decline", "padding": padding}
        return Response(json.dumps(payload), status=201, mimetype="application/json")

    @app.get("/healthz")
    def healthz() -> Any:
        return {"status": "ok"}

    return app
