"""Borrowers as decisions see them: the latest stored carbon account and the open alert counts.

Two ways in:

- :func:`load_account_views` - many entities at once (batches, offers, the demo): the latest
  account of each (period ending on or before the decision date) and its open alert counts.
- :func:`lookup_borrower` - one entity on the request path: **one query** returns whether the
  entity exists, whether the calling lender holds an active consent, the id of its latest
  account and its open alert counts. The parsed account is cached per engine and process by
  ``(account id, computed_at)``: account rows are never rewritten (a recomputation is a new
  row), so the id names the content, and a changed or new latest account changes the id the
  query returns. Consent and alerts are read on every request, never cached.

Open alerts counted: status ``open``, interval starting within ``window_days`` days before the
end of the decision date, in the configured time zone.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, DateTime, Engine, Table, bindparam, func, select, text
from sqlalchemy.pool import PoolProxiedConnection

from finance_engine.models import Alert, CarbonAccount
from finance_engine.services.consents import EntityAccess
from finance_engine.services.prepared import prepared
from scoring.carbon_features import (
    AccountView,
    AccountViewError,
    OpenAlerts,
    account_view_from_dict,
)

_ACCOUNTS: Table = CarbonAccount.__table__  # type: ignore[attr-defined]
_ALERTS: Table = Alert.__table__  # type: ignore[attr-defined]
_IN_CHUNK = 500
"""Entity ids per ``IN (...)`` query."""
CACHE_MAX = 10_000
"""Parsed accounts kept per engine and process (the cache is emptied when full)."""


class BorrowerError(ValueError):
    """No stored account, or one that cannot be read for scoring; the message names the
    field."""


class BorrowerNotVisibleError(Exception):
    """The entity does not exist, or does not consent to the calling lender."""

    def __init__(self, entity_id: str, access: EntityAccess) -> None:
        super().__init__(f"entity {entity_id!r}: {access.value}")
        self.entity_id = entity_id
        self.access = access


@dataclass(frozen=True)
class Borrower:
    """What one request needs to know about the borrower (nothing parsed yet)."""

    access: EntityAccess
    """For the calling lender (``VISIBLE`` when no lender was given and the entity exists)."""
    account_key: tuple[int, Any] | None
    """``(id, computed_at)`` of the latest account; None when there is none."""
    open_alerts: OpenAlerts


def _chunks(ids: Sequence[str]) -> Iterable[list[str]]:
    unique = sorted(set(ids))
    for start in range(0, len(unique), _IN_CHUNK):
        yield unique[start : start + _IN_CHUNK]


def alert_window_s(on: date, window_days: int, timezone: str) -> tuple[int, int]:
    """Epoch seconds ``[since, until)`` of the ``window_days`` local days ending with ``on``."""
    zone = ZoneInfo(timezone)
    since = datetime.combine(on - timedelta(days=window_days - 1), time(0), zone)
    until = datetime.combine(on + timedelta(days=1), time(0), zone)
    return int(since.timestamp()), int(until.timestamp())


def _view(data: dict[str, Any], alerts: OpenAlerts | None = None) -> AccountView:
    try:
        return account_view_from_dict(data, open_alerts=alerts)
    except AccountViewError as exc:
        raise BorrowerError(f"stored account: {exc}") from exc


# ------------------------------------------------------------------------------ many entities


def open_alert_counts(
    engine: Engine, entity_ids: Sequence[str], *, on: date, window_days: int, timezone: str
) -> dict[str, OpenAlerts]:
    """Open alerts by severity of each entity, intervals starting in the ``window_days`` days up
    to the end of ``on`` (local days in ``timezone``)."""
    since, until = alert_window_s(on, window_days, timezone)
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
    engine: Engine, entity_ids: Sequence[str], *, on: date, window_days: int, timezone: str
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
        engine, list(latest), on=on, window_days=window_days, timezone=timezone
    )
    return {entity: _view(data, alerts.get(entity)) for entity, data in latest.items()}


# ------------------------------------------------------------------------------- one borrower

_LOOKUP = text(
    "SELECT EXISTS (SELECT 1 FROM consent c WHERE c.entity_id = e.id AND c.lender = :lender"
    " AND c.revoked_at IS NULL AND (c.expires_at IS NULL OR c.expires_at > :now)),"
    " a.id, a.computed_at,"
    " COALESCE(al.critical, 0), COALESCE(al.warning, 0), COALESCE(al.info, 0)"
    " FROM entity e"
    " LEFT JOIN carbon_account a ON a.entity_id = e.id AND a.period_end <= :on"
    " CROSS JOIN (SELECT"
    " SUM(CASE WHEN severity = 'critical' THEN 1 ELSE 0 END) AS critical,"
    " SUM(CASE WHEN severity = 'warning' THEN 1 ELSE 0 END) AS warning,"
    " SUM(CASE WHEN severity = 'info' THEN 1 ELSE 0 END) AS info"
    " FROM alert WHERE entity_id = :entity_id AND status = 'open'"
    " AND interval_start_s >= :since AND interval_start_s < :until) al"
    " WHERE e.id = :entity_id"
    " ORDER BY a.period_end DESC, a.id DESC LIMIT 1"
).bindparams(bindparam("now", type_=DateTime(timezone=True)), bindparam("on", type_=Date))
"""Consent (the predicate of :func:`finance_engine.services.consents.active_clause`), latest
account id and open alert counts of one entity, in one round trip."""

_ACCOUNT_RESULT = text("SELECT result FROM carbon_account WHERE id = :id")

_CACHES: weakref.WeakKeyDictionary[Engine, dict[tuple[int, Any], AccountView]] = (
    weakref.WeakKeyDictionary()
)


def account_cache(engine: Engine) -> dict[tuple[int, Any], AccountView]:
    """This process's parsed accounts of ``engine``'s database, by (id, computed_at)."""
    found = _CACHES.get(engine)
    if found is None:
        found = _CACHES[engine] = {}
    return found


def borrower_account(
    engine: Engine, dbapi: PoolProxiedConnection, borrower: Borrower, entity_id: str, on: date
) -> AccountView:
    """The borrower's latest account (period ending on or before ``on``) with its open alerts,
    parsed once per process (the cache is keyed by the row's id and ``computed_at``).

    Raises
    ------
    BorrowerError
        There is no such account, or it cannot be read; the message names the field.
    """
    if borrower.account_key is None:
        raise BorrowerError(
            f"entity_id: no stored carbon account for {entity_id!r} with a period ending on or "
            f"before {on}; run 'finance-engine account compute' first"
        )
    cache = account_cache(engine)
    view = cache.get(borrower.account_key)
    if view is None:
        account_id = borrower.account_key[0]
        statement = prepared(_ACCOUNT_RESULT, engine.dialect)
        cursor = dbapi.cursor()
        try:
            cursor.execute(statement.sql, statement.params({"id": account_id}))
            row = cursor.fetchone()
        finally:
            cursor.close()
        if row is None:
            raise BorrowerError(f"stored account: account {account_id} vanished while reading")
        result = row[0] if isinstance(row[0], dict) else json.loads(row[0])
        view = _view({"id": account_id, **result})
        if len(cache) >= CACHE_MAX:
            cache.clear()
        cache[borrower.account_key] = view
    return replace(view, open_alerts=borrower.open_alerts)


def lookup_borrower(
    engine: Engine,
    dbapi: PoolProxiedConnection,
    entity_id: str,
    *,
    lender: str | None,
    on: date,
    window_days: int,
    timezone: str,
) -> Borrower:
    """One entity's access for ``lender`` (None: no consent check), latest account (period
    ending on or before ``on``) and open alerts, in one query on the pooled DBAPI connection
    ``dbapi``. Read the account with :func:`borrower_account` once access is granted."""
    since, until = alert_window_s(on, window_days, timezone)
    statement = prepared(_LOOKUP, engine.dialect)
    values = {
        "entity_id": entity_id,
        "lender": lender or "",
        "now": datetime.now(UTC),
        "on": on,
        "since": since,
        "until": until,
    }
    cursor = dbapi.cursor()
    try:
        cursor.execute(statement.sql, statement.params(values))
        row = cursor.fetchone()
    finally:
        cursor.close()
    if row is None:
        return Borrower(EntityAccess.NO_ENTITY, None, OpenAlerts())
    consenting, account_id, computed_at, critical, warning, info = row
    access = EntityAccess.VISIBLE if consenting or lender is None else EntityAccess.NO_CONSENT
    key = None if account_id is None else (int(account_id), computed_at)
    alerts = OpenAlerts(critical=int(critical), warning=int(warning), info=int(info))
    return Borrower(access, key, alerts)


def visible_borrower(
    engine: Engine,
    dbapi: PoolProxiedConnection,
    entity_id: str,
    *,
    lender: str | None,
    on: date,
    window_days: int,
    timezone: str,
) -> Borrower:
    """:func:`lookup_borrower`, refused unless the entity consents to ``lender`` (if given).

    Raises
    ------
    BorrowerNotVisibleError
        ``lender`` is given and the entity does not exist or does not consent to it.
    """
    found = lookup_borrower(
        engine, dbapi, entity_id, lender=lender, on=on, window_days=window_days, timezone=timezone
    )
    if lender is not None and found.access is not EntityAccess.VISIBLE:
        raise BorrowerNotVisibleError(entity_id, found.access)
    return found
