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

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, Table, func, select

from finance_engine.config import Settings
from finance_engine.models import Alert, CarbonAccount
from finance_engine.services.decision_log import DecisionLog, SqlDecisionLog
from finance_engine.services.models import FileModelStore, ModelServiceError, ModelStore, utc_now
from products.catalog import Catalog, UnknownProductError, load_catalog
from scoring.applications import Application, ApplicationError
from scoring.carbon_features import (
    AccountView,
    AccountViewError,
    OpenAlerts,
    account_view_from_dict,
)
from scoring.decide import Decision, DecisionError, decide
from scoring.decision_log import ChainReport, LogRecord, verify_chain
from scoring.decision_render import decision_to_dict
from scoring.decision_rules import DecisionRules, default_decision_rules
from scoring.features import FeatureError
from scoring.offers import best_offers, best_offers_batch, decide_batch
from scoring.risk_model import RiskModel

Clock = Callable[[], datetime]
_ACCOUNTS: Table = CarbonAccount.__table__  # type: ignore[attr-defined]
_ALERTS: Table = Alert.__table__  # type: ignore[attr-defined]
_IN_CHUNK = 500
"""Entity ids per ``IN (...)`` query."""


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
        r = self.record
        log = {"sequence": r.sequence, "record_hash": r.record_hash, "created_at": r.created_at}
        return {**self.payload, "log": log}


# ---------------------------------------------------------------------------------- accounts


def _chunks(ids: Sequence[str]) -> Iterable[list[str]]:
    unique = sorted(set(ids))
    for start in range(0, len(unique), _IN_CHUNK):
        yield unique[start : start + _IN_CHUNK]


def _epoch_s(day: date, timezone: str) -> int:
    return int(datetime.combine(day, time(0), ZoneInfo(timezone)).timestamp())


def open_alert_counts(
    engine: Engine, entity_ids: Sequence[str], *, on: date, window_days: int, timezone: str
) -> dict[str, OpenAlerts]:
    """Open alerts by severity of each entity, intervals starting in the ``window_days`` days up
    to the end of ``on`` (local days in ``timezone``)."""
    since = _epoch_s(on - timedelta(days=window_days - 1), timezone)
    until = _epoch_s(on + timedelta(days=1), timezone)
    counts: dict[str, dict[str, int]] = {}
    with engine.connect() as conn:
        for chunk in _chunks(entity_ids):
            rows = conn.execute(
                select(_ALERTS.c.entity_id, _ALERTS.c.severity, func.count())
                .where(_ALERTS.c.entity_id.in_(chunk), _ALERTS.c.status == "open")
                .where(_ALERTS.c.interval_start_s >= since, _ALERTS.c.interval_start_s < until)
                .group_by(_ALERTS.c.entity_id, _ALERTS.c.severity)
            ).all()
            for entity_id, severity, n in rows:
                counts.setdefault(entity_id, {})[severity] = int(n)
    return {
        entity: OpenAlerts(
            critical=c.get("critical", 0), warning=c.get("warning", 0), info=c.get("info", 0)
        )
        for entity, c in counts.items()
    }


def load_account_views(
    engine: Engine, entity_ids: Sequence[str], *, on: date, context: DecisionContext
) -> dict[str, AccountView]:
    """The latest stored account (period ending on or before ``on``) of each entity that has
    one, with its open alert counts."""
    latest: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for chunk in _chunks(entity_ids):
            rows = conn.execute(
                select(_ACCOUNTS.c.id, _ACCOUNTS.c.entity_id, _ACCOUNTS.c.result)
                .where(_ACCOUNTS.c.entity_id.in_(chunk), _ACCOUNTS.c.period_end <= on)
                .order_by(_ACCOUNTS.c.period_end.desc(), _ACCOUNTS.c.id.desc())
            ).all()
            for row in rows:
                latest.setdefault(row.entity_id, {"id": row.id, **row.result})
    alerts = open_alert_counts(
        engine,
        list(latest),
        on=on,
        window_days=context.rules.alert_window_days,
        timezone=context.timezone,
    )
    try:
        return {
            entity: account_view_from_dict(data, open_alerts=alerts.get(entity))
            for entity, data in latest.items()
        }
    except AccountViewError as exc:
        raise DecisionServiceError(f"stored account: {exc}") from exc


def _account(engine: Engine, entity_id: str, on: date, context: DecisionContext) -> AccountView:
    view = load_account_views(engine, [entity_id], on=on, context=context).get(entity_id)
    if view is None:
        raise DecisionServiceError(
            f"entity_id: no stored carbon account for {entity_id!r} with a period ending on or "
            f"before {on}; run 'finance-engine account compute' first"
        )
    return view


# ---------------------------------------------------------------------------------- decisions


def _log(
    decisions: Sequence[Decision], log: DecisionLog, context: DecisionContext
) -> list[LoggedDecision]:
    payloads = [decision_to_dict(d) for d in decisions]
    records = log.append(payloads, created_at=context.clock())
    return [LoggedDecision(d, p, r) for d, p, r in zip(decisions, payloads, records, strict=True)]


def _bad_input(exc: Exception) -> DecisionServiceError:
    return DecisionServiceError(str(exc))


def score(
    engine: Engine,
    context: DecisionContext,
    application: Application,
    *,
    on: date | None = None,
    log: DecisionLog | None = None,
) -> LoggedDecision:
    """Decide ``application`` (which names its product) and log the decision.

    Raises
    ------
    DecisionServiceError
        No product code, unknown product (or none in force on ``on``), no stored account for
        the entity, no trained model, or an input out of range; the message names the field.
    """
    day = on or context.today()
    if application.product_code is None:
        raise DecisionServiceError("product_code: required to score (or ask for offers)")
    try:
        product = context.catalog.get(application.product_code, on=day)
    except UnknownProductError as exc:
        raise DecisionServiceError(f"product_code: {exc}") from exc
    account = _account(engine, application.entity_id, day, context)
    model = context.model()
    try:
        decision = decide(application, account, product, model, on=day, rules=context.rules)
    except (ApplicationError, DecisionError, FeatureError) as exc:
        raise _bad_input(exc) from exc
    return _log([decision], log or SqlDecisionLog(engine), context)[0]


def offers(
    engine: Engine,
    context: DecisionContext,
    application: Application,
    *,
    on: date | None = None,
    log: DecisionLog | None = None,
) -> list[LoggedDecision]:
    """Decide the borrower against every product it may apply for, ranked; log them all."""
    day = on or context.today()
    account = _account(engine, application.entity_id, day, context)
    model = context.model()
    try:
        ranked = best_offers(
            application, account, context.catalog, model, on=day, rules=context.rules
        )
    except (ApplicationError, DecisionError, FeatureError) as exc:
        raise _bad_input(exc) from exc
    return _log(ranked, log or SqlDecisionLog(engine), context)


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
