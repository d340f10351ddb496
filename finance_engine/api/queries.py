"""Read queries behind the API's lists and lookups (the API's read repository).

Each list takes ``lender``: None for platform keys, a lender code for bank keys, which keeps
only entities with an active consent for that lender (one ``EXISTS`` on the indexed consent
table, evaluated in the same query). Lists fetch ``limit + 1`` rows (see
:mod:`finance_engine.api.pagination`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, case, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from accounting.alerts import Severity
from finance_engine.models import ActivityData, Alert, CarbonAccount, Entity, IngestBatch, Meter
from finance_engine.services.accounts import account_summary
from finance_engine.services.consents import consented
from finance_engine.services.decisions import record_summary
from finance_engine.tables_decisions import DecisionRecord
from scoring.decision_log import LogRecord


def entity_dict(row: Entity) -> dict[str, Any]:
    """An entity as the API shows it."""
    return {
        "id": row.id,
        "name": row.name,
        "sector": row.sector,
        "industry_code": row.industry_code,
        "region": row.region,
        "grid_region": row.grid_region,
    }


def entities_page(
    session: Session, *, lender: str | None, sector: str | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Entities by id."""
    stmt = select(Entity)
    if lender is not None:
        stmt = stmt.where(consented(col(Entity.id), lender))
    if sector is not None:
        stmt = stmt.where(Entity.sector == sector)
    stmt = stmt.order_by(col(Entity.id)).offset(offset).limit(limit + 1)
    return [entity_dict(r) for r in session.exec(stmt).all()]


def meter_dict(row: Meter) -> dict[str, Any]:
    """A meter as the API shows it."""
    return {
        "id": row.id,
        "code": row.code,
        "entity_id": row.entity_id,
        "energy_type": row.energy_type,
        "unit": row.unit,
        "reading_kind": row.reading_kind,
        "rated_max_per_interval": row.rated_max_per_interval,
        "counter_rollover": row.counter_rollover,
        "steam_enthalpy_kj_per_kg": row.steam_enthalpy_kj_per_kg,
    }


def meters_page(session: Session, entity_id: str, limit: int, offset: int) -> list[dict[str, Any]]:
    """The meters of one entity, by code."""
    stmt = (
        select(Meter)
        .where(Meter.entity_id == entity_id)
        .order_by(col(Meter.code))
        .offset(offset)
        .limit(limit + 1)
    )
    return [meter_dict(r) for r in session.exec(stmt).all()]


def batch_dict(row: IngestBatch) -> dict[str, Any]:
    """An ingest batch with its stored report."""
    report = dict(row.report or {})
    status = report.pop("status", "complete")
    return {
        "batch_id": row.id,
        "status": status,
        "source": row.source,
        "received_at": row.received_at.isoformat(),
        "rows": row.rows,
        "accepted": row.accepted,
        "duplicates": row.duplicates,
        "rejected_count": row.rejected,
        "report": report,
    }


def batches_page(session: Session, limit: int, offset: int) -> list[dict[str, Any]]:
    """Ingest batches, newest first (without their full reports)."""
    stmt = select(IngestBatch).order_by(col(IngestBatch.id).desc()).offset(offset).limit(limit + 1)
    return [{**batch_dict(r), "report": None} for r in session.exec(stmt).all()]


def activity_dict(row: ActivityData) -> dict[str, Any]:
    """A stored activity record."""
    return {
        "entity_id": row.entity_id,
        "period": {"start": row.period_start.isoformat(), "end": row.period_end.isoformat()},
        "value_added_10k_yuan": row.value_added_10k_yuan,
        "output_value_10k_yuan": row.output_value_10k_yuan,
        "data": row.data,
    }


def activity_page(
    session: Session,
    *,
    entity_id: str | None,
    period_start: date | None,
    period_end: date | None,
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    """Stored activity records, newest period first."""
    stmt = select(ActivityData)
    if entity_id is not None:
        stmt = stmt.where(ActivityData.entity_id == entity_id)
    if period_start is not None:
        stmt = stmt.where(ActivityData.period_start == period_start)
    if period_end is not None:
        stmt = stmt.where(ActivityData.period_end == period_end)
    stmt = stmt.order_by(
        col(ActivityData.period_end).desc(), col(ActivityData.entity_id), col(ActivityData.id)
    )
    return [activity_dict(r) for r in session.exec(stmt.offset(offset).limit(limit + 1)).all()]


def accounts_page(
    session: Session,
    *,
    lender: str | None,
    entity_id: str | None,
    sector: str | None,
    period_end: date | None,
    colour: str | None,
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    """Stored account summaries, newest period first."""
    stmt = select(CarbonAccount)
    if lender is not None:
        stmt = stmt.where(consented(col(CarbonAccount.entity_id), lender))
    for column, value in (
        (CarbonAccount.entity_id, entity_id),
        (CarbonAccount.sector, sector),
        (CarbonAccount.period_end, period_end),
        (CarbonAccount.colour, colour),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    stmt = stmt.order_by(
        col(CarbonAccount.period_end).desc(), col(CarbonAccount.entity_id), col(CarbonAccount.id)
    )
    return [account_summary(a) for a in session.exec(stmt.offset(offset).limit(limit + 1)).all()]


def account_by_id(session: Session, account_id: int) -> tuple[str, dict[str, Any]] | None:
    """(entity id, full account) of one stored account, or None."""
    row = session.get(CarbonAccount, account_id)
    if row is None:
        return None
    return row.entity_id, {"id": row.id, **row.result}


def latest_account(session: Session, entity_id: str) -> dict[str, Any] | None:
    """The entity's stored account with the latest period (newest computation first)."""
    row = session.exec(
        select(CarbonAccount)
        .where(CarbonAccount.entity_id == entity_id)
        .order_by(col(CarbonAccount.period_end).desc(), col(CarbonAccount.id).desc())
        .limit(1)
    ).first()
    return None if row is None else {"id": row.id, **row.result}


def account_aggregates(session: Session, period_end: date | None) -> list[dict[str, Any]]:
    """Counts and emissions of stored accounts by period, sector and colour (no entity data)."""
    stmt = sa_select(
        col(CarbonAccount.period_start),
        col(CarbonAccount.period_end),
        col(CarbonAccount.sector),
        col(CarbonAccount.colour),
        func.count(),
        func.sum(col(CarbonAccount.emissions_tco2e)),
        func.sum(case((col(CarbonAccount.provisional), 1), else_=0)),
    ).group_by(
        col(CarbonAccount.period_start),
        col(CarbonAccount.period_end),
        col(CarbonAccount.sector),
        col(CarbonAccount.colour),
    )
    if period_end is not None:
        stmt = stmt.where(col(CarbonAccount.period_end) == period_end)
    stmt = stmt.order_by(
        col(CarbonAccount.period_end).desc(), col(CarbonAccount.sector), col(CarbonAccount.colour)
    )
    return [
        {
            "period": {"start": r[0].isoformat(), "end": r[1].isoformat()},
            "sector": r[2],
            "colour": r[3] or None,
            "accounts": int(r[4]),
            "emissions_tco2e": float(r[5] or 0.0),
            "provisional": int(r[6] or 0),
        }
        for r in session.execute(stmt).all()
    ]


_ALERTS = Alert.__table__  # type: ignore[attr-defined]
_METERS = Meter.__table__  # type: ignore[attr-defined]


def alerts_page(
    conn: Connection,
    *,
    lender: str | None,
    entity_id: str | None,
    kind: str | None,
    severity: str | None,
    since_s: int | None,
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    """Stored alerts, most severe first, then newest (as :func:`services.alerts.list_alerts`)."""
    rank = case({s.value: s.rank for s in Severity}, value=_ALERTS.c.severity, else_=-1)
    query = sa_select(_ALERTS, _METERS.c.code, _METERS.c.energy_type, _METERS.c.unit).join(
        _METERS, _METERS.c.id == _ALERTS.c.meter_id
    )
    if lender is not None:
        query = query.where(consented(_ALERTS.c.entity_id, lender))
    for column, value in (
        (_ALERTS.c.entity_id, entity_id),
        (_ALERTS.c.kind, kind),
        (_ALERTS.c.severity, severity),
    ):
        if value is not None:
            query = query.where(column == value)
    if since_s is not None:
        query = query.where(_ALERTS.c.interval_start_s >= since_s)
    query = query.order_by(rank.desc(), _ALERTS.c.interval_start_s.desc(), _ALERTS.c.id)
    rows = conn.execute(query.offset(offset).limit(limit + 1)).all()
    return [
        {
            "id": r.id,
            "meter_id": r.meter_id,
            "meter_code": r.code,
            "entity_id": r.entity_id,
            "energy_type": r.energy_type,
            "unit": r.unit,
            "kind": r.kind,
            "severity": r.severity,
            "interval_start_s": int(r.interval_start_s),
            "interval_end_s": int(r.interval_end_s),
            "expected": r.expected,
            "actual": r.actual,
            "message": r.message,
            "status": r.status,
            "batch_id": r.batch_id,
        }
        for r in rows
    ]


def decisions_page(
    conn: Connection,
    *,
    product_codes: set[str] | None,
    entity_id: str | None,
    outcome: str | None,
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    """Logged decisions, newest first, as summaries; ``product_codes`` keeps one lender's."""
    log = DecisionRecord.__table__  # type: ignore[attr-defined]
    query = sa_select(log).order_by(log.c.sequence.desc())
    if product_codes is not None:
        query = query.where(log.c.product_code.in_(sorted(product_codes)))
    if entity_id is not None:
        query = query.where(log.c.entity_id == entity_id)
    if outcome is not None:
        query = query.where(log.c.outcome == outcome)
    rows = conn.execute(query.offset(offset).limit(limit + 1)).all()
    return [
        record_summary(
            LogRecord(
                sequence=int(r.sequence),
                prev_hash=r.prev_hash,
                record_hash=r.record_hash,
                created_at=r.created_at,
                payload_json=r.payload,
                application_id=r.application_id,
                entity_id=r.entity_id,
                product_code=r.product_code,
                outcome=r.outcome,
            )
        )
        for r in rows
    ]
