"""Ceiling probes of the API benchmark: the bare floor plus, step by step, a scoring request's
unavoidable parts, to show where the scoring endpoint's time goes (``bench_api --probes``).

``POST /score`` of :func:`create_probe_app` does, by ``BENCH_PROBE_STAGE``:

- ``parse``: the floor plus the request schema (marshmallow) and the domain application;
- ``decide``: plus the decision itself (rules, LightGBM PD and reasons) on an account read once
  at start-up, and the decision rendered as the logged payload;
- ``store``: the ``parse`` stage plus the decision's storage work without the decision: the
  consent, account and alerts query and the hash-chained log append (on the real database) of
  a decision computed once at start-up, answered like a decision; what the endpoint must do
  even if deciding cost nothing;
- ``service``: instead, the whole decision service as the endpoint calls it
  (:func:`finance_engine.services.decisions.score`: consent, account and alerts query, model,
  decision, hash-chained log append on the real database) and the same response body.

None of them has the API's own machinery (key check, rate limit, flask-smorest, request id,
metrics, access log): the real endpoint minus ``service`` is that machinery's cost.
"""

from __future__ import annotations

import json
import os
from typing import Any

from flask import Flask, Response, request

from finance_engine.api.schemas_decisions import ApplicationSchema, to_application
from finance_engine.config import load_settings
from finance_engine.db import make_engine
from finance_engine.services import borrowers
from finance_engine.services.decision_log import SqlDecisionLog
from finance_engine.services.decisions import LoggedDecision, context_for, score
from finance_engine.services.prepared import request_connection
from scoring.applications import Application
from scoring.decide import Decision, decide
from scoring.decision_render import decision_to_dict

STAGES = ("parse", "decide", "store", "service")


def create_probe_app() -> Flask:
    """The probe app (``benchmarks.probe_app:create_probe_app()``), configured from the
    environment like the real app, plus ``BENCH_PROBE_STAGE``, ``BENCH_LENDER`` and
    ``BENCH_RESPONSE_BYTES``."""
    stage = os.environ["BENCH_PROBE_STAGE"]
    if stage not in STAGES:
        raise SystemExit(f"BENCH_PROBE_STAGE: {stage!r} is not one of {', '.join(STAGES)}")
    lender = os.environ["BENCH_LENDER"]
    settings = load_settings()
    engine = make_engine(settings.database_url)
    context = context_for(settings)
    schema = ApplicationSchema()
    padding = "x" * int(os.environ.get("BENCH_RESPONSE_BYTES", "300"))
    views: dict[str, Any] = {}
    decided: dict[str, Decision] = {}
    log = SqlDecisionLog(engine)
    app = Flask(__name__)

    def account(entity_id: str) -> Any:
        if entity_id not in views:
            found = borrowers.load_account_views(
                engine,
                [entity_id],
                on=context.today(),
                window_days=context.rules.alert_window_days,
                timezone=context.timezone,
            )
            views[entity_id] = found[entity_id]
        return views[entity_id]

    def decision(application: Application) -> Decision:
        day = context.today()
        product = context.catalog.get(application.product_code or "", on=day)
        entity = application.entity_id
        rules = context.rules
        return decide(application, account(entity), product, context.model(), on=day, rules=rules)

    def stored(application: Application) -> str:
        """The storage work of a decision, for one decided once per entity."""
        entity, day = application.entity_id, context.today()
        once = decided.get(entity) or decided.setdefault(entity, decision(application))
        payload = decision_to_dict(once)
        with request_connection(engine) as dbapi:
            found = borrowers.visible_borrower(
                engine,
                dbapi,
                entity,
                lender=lender,
                on=day,
                window_days=context.rules.alert_window_days,
                timezone=context.timezone,
            )
            borrowers.borrower_account(engine, dbapi, found, entity, day)
            record = log.append([payload], created_at=context.clock(), connection=dbapi)[0]
        return LoggedDecision(once, payload, record).to_json()

    @app.post("/score")
    def probe() -> Any:
        application = to_application(schema.load(request.get_json()), lender)
        if stage == "parse":
            text = json.dumps({"outcome": application.application_id, "padding": padding})
        elif stage == "decide":
            text = json.dumps(decision_to_dict(decision(application)), sort_keys=True)
        elif stage == "store":
            text = stored(application)
        else:
            text = score(engine, context, application, lender=lender).to_json()
        return Response(text, status=201, mimetype="application/json")

    @app.get("/healthz")
    def healthz() -> Any:
        return {"status": "ok"}

    return app
