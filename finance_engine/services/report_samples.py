"""Sample reports for the demo: a few borrowers of each colour grade, issued and registered."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, func
from sqlalchemy import select as sa_select
from sqlmodel import col

from finance_engine.config import Settings
from finance_engine.models import CarbonAccount
from finance_engine.services.reports import IssuedReport, issue_report
from reports import Lang


def sample_entities(
    engine: Engine, per_colour: int = 2, sector: str | None = None
) -> dict[str, list[str]]:
    """Up to ``per_colour`` entity ids per colour grade of the latest period, by entity id
    (only ``sector``'s entities when one is given).

    Uses each entity's accounts ending on the latest ``period_end`` stored; ungraded accounts
    (no colour) are left out.
    """
    with engine.connect() as conn:
        latest = conn.execute(sa_select(func.max(col(CarbonAccount.period_end)))).scalar()
        if latest is None:
            return {}
        query = sa_select(col(CarbonAccount.colour), col(CarbonAccount.entity_id)).where(
            col(CarbonAccount.period_end) == latest, col(CarbonAccount.colour) != ""
        )
        if sector is not None:
            query = query.where(col(CarbonAccount.sector) == sector)
        rows = conn.execute(
            query.distinct().order_by(col(CarbonAccount.colour), col(CarbonAccount.entity_id))
        )
        picked: dict[str, list[str]] = {}
        for colour, entity_id in rows:
            chosen = picked.setdefault(colour, [])
            if len(chosen) < per_colour:
                chosen.append(entity_id)
    return picked


def issue_sample_reports(
    engine: Engine,
    settings: Settings,
    *,
    per_colour: int = 2,
    sector: str | None = None,
    lang: Lang = Lang.BILINGUAL,
    now: datetime | None = None,
) -> list[IssuedReport]:
    """Issue signed reports for :func:`sample_entities` (the demo prints where they are)."""
    return [
        issue_report(engine, settings, entity_id, lang=lang, issued_by="demo", now=now)
        for entities in sample_entities(engine, per_colour, sector).values()
        for entity_id in entities
    ]
