"""Decision service: score applications against stored carbon accounts and log every decision.

For each application the service loads the borrower's latest stored carbon account (the newest
period ending on or before the decision date) and its open alert counts, takes the product from
the catalog and the current risk model from the model store (both cached per process), calls
the pure decision (:mod:`scoring.decide`, :mod:`scoring.offers`) and appends every decision to
the hash-chained decision log (:mod:`finance_engine.services.decision_log`). It returns each
decision with its log sequence and hash.

Open alerts counted: status ``open``, interval starting within ``alert_window_days`` (decision
rules) before the end of the decision date, in the configured time zone.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.pool import PoolProxiedConnection

from finance_engine.config import Settings
from finance_engine.services import borrowers
from finance_engine.services.borrowers import BorrowerError
from finance_engine.services.decision_log import DecisionLog, SqlDecisionLog
from finance_engine.services.models import FileModelStore, ModelServiceError, ModelStore, utc_now
from finance_engine.services.prepared import request_connection
from products.catalog import Catalog, UnknownProductError, load_catalog
from products.model import Product
from scoring.applications import Application, ApplicationError
from scoring.carbon_features import AccountView
from scoring.decide import Decision, DecisionError, decide
from scoring.decision_log import ChainReport, LogRecord, verify_chain
from scoring.decision_render import decision_to_dict
from scoring.decision_rules import DecisionRules, default_decision_rules
from scoring.features import FeatureError
from scoring.offers import best_offers, best_offers_batch, decide_batch
from scoring.risk_model import RiskModel

Clock = Callable[[], datetime]


class DecisionServiceError(ValueError):
    """Bad input or missing state (product, account, model); the message names the field."""


@cache
def default_catalog() -> Catalog:
    """The packaged product catalog, loaded and validated once per process."""
    return load_catalog()


_MODEL_STORES: dict[Path, FileModelStore] = {}


@dataclass
class DecisionContext:
    """What decisions need besides the database: catalog, models, rules, time zone, clock."""

    catalog: Catalog
    models: ModelStore
    rules: DecisionRules
    timezone: str = "Asia/Shanghai"
    clock: Clock = field(default=utc_now)

    def model(self) -> RiskModel:
        """The current risk model (cached by the store)."""
        try:
            return self.models.load()
        except ModelServiceError as exc:
            raise DecisionServiceError(
                f"model: no trained risk model ({exc}); run 'finance-engine model train --data "
                "FILE' first"
            ) from exc

    def today(self) -> date:
        """Today in the configured time zone."""
        return self.clock().astimezone(ZoneInfo(self.timezone)).date()


def context_for(settings: Settings) -> DecisionContext:
    """The context of ``settings``: the packaged catalog and rules, the instance's model store
    (one store, and so one model cache, per process and instance folder)."""
    root = settings.instance_path / "models"
    store = _MODEL_STORES.setdefault(root, FileModelStore(root))
    return DecisionContext(default_catalog(), store, default_decision_rules(), settings.timezone)


@dataclass(frozen=True)
class LoggedDecision:
    """A decision with the log record it was appended as."""

    decision: Decision
    payload: dict[str, Any]
    """The decision as logged (:func:`scoring.decision_render.decision_to_dict`)."""
    record: LogRecord

    def to_dict(self) -> dict[str, Any]:
        """The logged payload plus ``log``: sequence, hash, created_at."""
        return {**self.payload, "log": self._log_ref()}

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON text, built around the logged payload's canonical JSON
        (already serialised for the hash) instead of serialising the payload again."""
        text = self.record.payload_json
        log = json.dumps(self._log_ref(), separators=(",", ":"))
        if text == "{}":
            return f'{{"log":{log}}}'
        return f'{text[:-1]},"log":{log}}}'

    def _log_ref(self) -> dict[str, Any]:
        r = self.record
        return {"sequence": r.sequence, "record_hash": r.record_hash, "created_at": r.created_at}


# ---------------------------------------------------------------------------------- accounts


def load_account_views(
    engine: Engine, entity_ids: Sequence[str], *, on: date, context: DecisionContext
) -> dict[str, AccountView]:
    """The latest stored account (period ending on or before ``on``) of each entity that has
    one, with its open alert counts."""
    try:
        return borrowers.load_account_views(
            engine,
            entity_ids,
            on=on,
            window_days=context.rules.alert_window_days,
            timezone=context.timezone,
        )
    except BorrowerError as exc:
        raise DecisionServiceError(str(exc)) from exc


# ---------------------------------------------------------------------------------- decisions


def _log(
    decisions: Sequence[Decision],
    log: DecisionLog,
    context: DecisionContext,
    connection: PoolProxiedConnection | None = None,
) -> list[LoggedDecision]:
    payloads = [decision_to_dict(d) for d in decisions]
    records = log.append(payloads, created_at=context.clock(), connection=connection)
    return [LoggedDecision(d, p, r) for d, p, r in zip(decisions, payloads, records, strict=True)]


def _bad_input(exc: Exception) -> DecisionServiceError:
    return DecisionServiceError(str(exc))


def _product(context: DecisionContext, application: Application, day: date) -> Product:
    if application.product_code is None:
        raise DecisionServiceError("product_code: required to score (or ask for offers)")
    try:
        return context.catalog.get(application.product_code, on=day)
    except UnknownProductError as exc:
        raise DecisionServiceError(f"product_code: {exc}") from exc


Decider = Callable[[AccountView, Product | None, RiskModel, date], list[Decision]]


def _decide_logged(
    engine: Engine,
    context: DecisionContext,
    application: Application,
    decider: Decider,
    *,
    on: date | None,
    log: DecisionLog | None,
    lender: str | None,
    product: bool,
) -> list[LoggedDecision]:
    """One pooled connection per request: one query for consent, account and alerts (the
    parsed account is cached, see :mod:`finance_engine.services.borrowers`), then the checks
    in their documented order, the decisions, and their append to the log."""
    day = on or context.today()
    entity_id, rules = application.entity_id, context.rules
    with request_connection(engine) as dbapi:
        try:
            found = borrowers.visible_borrower(
                engine,
                dbapi,
                entity_id,
                lender=lender,
                on=day,
                window_days=rules.alert_window_days,
                timezone=context.timezone,
            )
            chosen = _product(context, application, day) if product else None
            account = borrowers.borrower_account(engine, dbapi, found, entity_id, day)
        except BorrowerError as exc:
            raise DecisionServiceError(str(exc)) from exc
        model = context.model()
        try:
            decisions = decider(account, chosen, model, day)
        except (ApplicationError, DecisionError, FeatureError) as exc:
            raise _bad_input(exc) from exc
        return _log(decisions, log or SqlDecisionLog(engine), context, dbapi)


def score(
    engine: Engine,
    context: DecisionContext,
    application: Application,
    *,
    on: date | None = None,
    log: DecisionLog | None = None,
    lender: str | None = None,
) -> LoggedDecision:
    """Decide ``application`` (which names its product) and log the decision. With ``lender``
    (a bank key's), the entity must consent to that lender, checked first.

    Raises
    ------
    finance_engine.services.borrowers.BorrowerNotVisibleError
        ``lender`` is given and the entity does not exist or does not consent to it.
    DecisionServiceError
        No product code, unknown product (or none in force on ``on``), no stored account for
        the entity, no trained model, or an input out of range; the message names the field.
    """

    def one(account: AccountView, product: Product | None, model: RiskModel, day: date) -> Any:
        assert product is not None
        return [decide(application, account, product, model, on=day, rules=context.rules)]

    found = _decide_logged(
        engine, context, application, one, on=on, log=log, lender=lender, product=True
    )
    return found[0]


def offers(
    engine: Engine,
    context: DecisionContext,
    application: Application,
    *,
    on: date | None = None,
    log: DecisionLog | None = None,
    lender: str | None = None,
) -> list[LoggedDecision]:
    """Decide the borrower against every product it may apply for, ranked; log them all
    (``lender``: as in :func:`score`)."""

    def ranked(account: AccountView, _: Product | None, model: RiskModel, day: date) -> Any:
        rules = context.rules
        return best_offers(application, account, context.catalog, model, on=day, rules=rules)

    return _decide_logged(
        engine, context, application, ranked, on=on, log=log, lender=lender, product=False
    )


def score_batch(
    engine: Engine,
    context: DecisionContext,
    applications: Sequence[Application],
    *,
    on: date | None = None,
    log: DecisionLog | None = None,
) -> list[LoggedDecision]:
    """Decide many applications (each naming its product) with one model evaluation; log all.

    A borrower without a stored account is declined (``E03``, no grade) rather than failing
    the batch; an unknown product code fails the batch, naming the application.
    """
    day = on or context.today()
    products = []
    for app in applications:
        try:
            products.append(context.catalog.get(app.product_code or "", on=day))
        except UnknownProductError as exc:
            raise DecisionServiceError(
                f"product_code: application {app.application_id}: {exc}"
            ) from exc
    views = load_account_views(engine, [a.entity_id for a in applications], on=day, context=context)
    accounts = [views.get(a.entity_id) for a in applications]
    model = context.model()
    try:
        decisions = decide_batch(
            applications, accounts, products, model, on=day, rules=context.rules
        )
    except (ApplicationError, DecisionError, FeatureError) as exc:
        raise _bad_input(exc) from exc
    return _log(decisions, log or SqlDecisionLog(engine), context)


def offers_batch(
    engine: Engine,
    context: DecisionContext,
    applications: Sequence[Application],
    *,
    on: date | None = None,
    log: DecisionLog | None = None,
) -> list[list[LoggedDecision]]:
    """:func:`offers` for many borrowers with one model evaluation; every decision is logged
    (in one append). Borrowers without a stored account are skipped (empty list)."""
    day = on or context.today()
    views = load_account_views(engine, [a.entity_id for a in applications], on=day, context=context)
    present = [a for a in applications if a.entity_id in views]
    model = context.model()
    try:
        ranked = best_offers_batch(
            present,
            [views[a.entity_id] for a in present],
            context.catalog,
            model,
            on=day,
            rules=context.rules,
        )
    except (ApplicationError, DecisionError, FeatureError) as exc:
        raise _bad_input(exc) from exc
    store = log or SqlDecisionLog(engine)
    flat = _log([d for group in ranked for d in group], store, context)
    groups, position = iter(ranked), 0
    out: list[list[LoggedDecision]] = []
    for app in applications:
        size = len(next(groups)) if app.entity_id in views else 0
        out.append(flat[position : position + size])
        position += size
    return out


# ---------------------------------------------------------------------------------- the log


def verify_log(
    engine: Engine,
    *,
    expected_head: tuple[int, str] | None = None,
    log: DecisionLog | None = None,
) -> ChainReport:
    """Verify the whole decision-log chain (streaming); see :func:`verify_chain`."""
    return verify_chain((log or SqlDecisionLog(engine)).records(), expected_head=expected_head)


def record_summary(record: LogRecord) -> dict[str, Any]:
    """The searchable fields of a log record plus the decision's headline numbers."""
    payload = record.payload()
    terms = payload.get("terms") or {}
    return {
        "sequence": record.sequence,
        "created_at": record.created_at,
        "application_id": record.application_id,
        "entity_id": record.entity_id,
        "product_code": record.product_code,
        "outcome": record.outcome,
        "grade": payload.get("grade"),
        "pd": payload.get("pd"),
        "final_limit_yuan": terms.get("final_limit_yuan"),
        "final_rate_pct": terms.get("final_rate_pct"),
        "record_hash": record.record_hash,
    }


def list_decisions(
    engine: Engine,
    *,
    entity_id: str | None = None,
    outcome: str | None = None,
    limit: int = 100,
    log: DecisionLog | None = None,
) -> list[dict[str, Any]]:
    """Logged decisions, newest first (summaries)."""
    if outcome is not None and outcome not in {"approve", "refer", "decline"}:
        raise DecisionServiceError(f"outcome: {outcome!r} is not approve, refer or decline")
    if not 1 <= limit <= 10_000:
        raise DecisionServiceError(f"limit: {limit} is not between 1 and 10000")
    store = log or SqlDecisionLog(engine)
    found = store.search(entity_id=entity_id, outcome=outcome, limit=limit)
    return [record_summary(r) for r in found]


def show_decision(
    engine: Engine, sequence: int, *, log: DecisionLog | None = None
) -> dict[str, Any]:
    """One logged decision in full: payload plus its chain fields."""
    record = (log or SqlDecisionLog(engine)).get(sequence)
    if record is None:
        raise DecisionServiceError(f"sequence: no decision-log record {sequence}")
    return {
        **record.payload(),
        "log": {
            "sequence": record.sequence,
            "prev_hash": record.prev_hash,
            "record_hash": record.record_hash,
            "created_at": record.created_at,
        },
    }
