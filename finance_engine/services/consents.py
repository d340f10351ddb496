"""Consents: an entity lets one lender see its carbon account, alerts and reports.

A consent is active from ``granted_at`` until it is revoked or reaches ``expires_at``. Granting
while an active consent exists returns that consent unchanged (grant is idempotent); to change
its expiry, revoke it and grant again. Rows are never deleted: the history shows who could see
what, when.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    Engine,
    and_,
    bindparam,
    exists,
    or_,
    text,
)
from sqlmodel import Session, col, select

from finance_engine.db import unit_of_work
from finance_engine.models import Entity
from finance_engine.tables_api import Consent, as_utc


class ConsentError(ValueError):
    """Bad consent request (unknown entity or lender...): the message names the field."""


class EntityAccess(StrEnum):
    """What a lender may know of an entity."""

    VISIBLE = "visible"
    NO_ENTITY = "no_entity"
    NO_CONSENT = "no_consent"


@dataclass(frozen=True)
class ConsentView:
    """A stored consent and whether it is active at the time it was read."""

    id: int
    entity_id: str
    lender: str
    reference: str
    granted_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    granted_by: str
    revoked_by: str
    active: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (times ISO 8601 UTC)."""
        out: dict[str, Any] = dict(self.__dict__)
        for name in ("granted_at", "expires_at", "revoked_at"):
            value = out[name]
            out[name] = value.isoformat() if value is not None else None
        return out


def _now() -> datetime:
    return datetime.now(UTC)


def _view(row: Consent, now: datetime) -> ConsentView:
    granted, expires, revoked = (
        as_utc(row.granted_at),
        as_utc(row.expires_at),
        as_utc(row.revoked_at),
    )
    assert granted is not None
    assert row.id is not None
    active = revoked is None and (expires is None or expires > now)
    return ConsentView(
        row.id,
        row.entity_id,
        row.lender,
        row.reference,
        granted,
        expires,
        revoked,
        row.granted_by,
        row.revoked_by,
        active,
    )


def active_clause(lender: str, now: datetime) -> ColumnElement[bool]:
    """SQL condition on the ``consent`` table: the row is ``lender``'s and active at ``now``."""
    return and_(
        col(Consent.lender) == lender,
        col(Consent.revoked_at).is_(None),
        or_(col(Consent.expires_at).is_(None), col(Consent.expires_at) > now),
    )


def consented(entity_column: Any, lender: str, now: datetime | None = None) -> ColumnElement[bool]:
    """SQL condition: the entity in ``entity_column`` has an active consent for ``lender``."""
    return exists().where(
        col(Consent.entity_id) == entity_column, active_clause(lender, now or _now())
    )


_ACCESS = text(
    "SELECT e.id, EXISTS (SELECT 1 FROM consent c WHERE c.entity_id = e.id"
    " AND c.lender = :lender AND c.revoked_at IS NULL"
    " AND (c.expires_at IS NULL OR c.expires_at > :now))"
    " FROM entity e WHERE e.id = :entity_id"
).bindparams(bindparam("now", type_=DateTime(timezone=True)))
"""One indexed lookup on the request path (plain SQL: no statement building per request)."""


def entity_access(session: Session | Connection, entity_id: str, lender: str) -> EntityAccess:
    """Whether ``lender`` may see ``entity_id`` now (one query)."""
    row = session.execute(
        _ACCESS, {"entity_id": entity_id, "lender": lender, "now": _now()}
    ).first()
    if row is None:
        return EntityAccess.NO_ENTITY
    return EntityAccess.VISIBLE if row[1] else EntityAccess.NO_CONSENT


def grant_consent(
    engine: Engine,
    *,
    entity_id: str,
    lender: str,
    expires_at: datetime | None = None,
    reference: str = "",
    granted_by: str = "",
    known_lenders: Sequence[str] | None = None,
) -> tuple[ConsentView, bool]:
    """Grant ``lender`` access to ``entity_id``; return the consent and whether it is new."""
    now = _now()
    expires = as_utc(expires_at)
    if known_lenders is not None and lender not in known_lenders:
        raise ConsentError(f"lender: {lender!r} is not a lender of the product catalog")
    if expires is not None and expires <= now:
        raise ConsentError("expires_at: must be in the future")
    with unit_of_work(engine) as session:
        if session.get(Entity, entity_id) is None:
            raise ConsentError(f"entity_id: unknown entity {entity_id!r}")
        current = session.exec(
            select(Consent).where(Consent.entity_id == entity_id, active_clause(lender, now))
        ).first()
        if current is not None:
            return _view(current, now), False
        row = Consent(
            entity_id=entity_id,
            lender=lender,
            reference=reference,
            granted_at=now,
            expires_at=expires,
            granted_by=granted_by,
        )
        session.add(row)
        session.flush()
        return _view(row, now), True


def grant_consents(
    engine: Engine,
    entity_ids: Iterable[str],
    lender: str,
    *,
    reference: str = "",
    granted_by: str = "",
) -> int:
    """Grant ``lender`` access to many entities in one transaction (e.g. the demo); returns
    how many consents were created (entities already consenting are left alone)."""
    now = _now()
    with unit_of_work(engine) as session:
        have = set(session.exec(select(Consent.entity_id).where(active_clause(lender, now))).all())
        wanted = sorted(set(entity_ids) - have)
        session.add_all(
            Consent(
                entity_id=e,
                lender=lender,
                reference=reference,
                granted_at=now,
                granted_by=granted_by,
            )
            for e in wanted
        )
    return len(wanted)


def revoke_consent(engine: Engine, consent_id: int, *, revoked_by: str = "") -> ConsentView | None:
    """Revoke one consent (idempotent: the first revocation time stays); None if unknown."""
    now = _now()
    with unit_of_work(engine) as session:
        row = session.get(Consent, consent_id)
        if row is None:
            return None
        if row.revoked_at is None:
            row.revoked_at, row.revoked_by = now, revoked_by
            session.add(row)
            session.flush()
        return _view(row, now)


def revoke_entity_lender(
    engine: Engine, entity_id: str, lender: str, *, revoked_by: str = ""
) -> list[ConsentView]:
    """Revoke every active consent of ``entity_id`` for ``lender``; returns those revoked."""
    now = _now()
    with unit_of_work(engine) as session:
        rows = session.exec(
            select(Consent).where(Consent.entity_id == entity_id, active_clause(lender, now))
        ).all()
        for row in rows:
            row.revoked_at, row.revoked_by = now, revoked_by
            session.add(row)
        session.flush()
        return [_view(r, now) for r in rows]


def get_consent(engine: Engine, consent_id: int) -> ConsentView | None:
    """One consent by id, or None."""
    with Session(engine) as session:
        row = session.get(Consent, consent_id)
        return None if row is None else _view(row, _now())


def list_consents(
    engine: Engine,
    *,
    lender: str | None = None,
    entity_id: str | None = None,
    active_only: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> list[ConsentView]:
    """Stored consents, newest first, optionally of one lender or entity, or only active ones."""
    now = _now()
    stmt = select(Consent)
    if lender is not None:
        stmt = stmt.where(Consent.lender == lender)
    if entity_id is not None:
        stmt = stmt.where(Consent.entity_id == entity_id)
    if active_only:
        stmt = stmt.where(
            col(Consent.revoked_at).is_(None),
            or_(col(Consent.expires_at).is_(None), col(Consent.expires_at) > now),
        )
    stmt = stmt.order_by(col(Consent.granted_at).desc(), col(Consent.id).desc())
    with Session(engine) as session:
        return [_view(r, now) for r in session.exec(stmt.offset(offset).limit(limit)).all()]
