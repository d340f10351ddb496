"""What a report shows besides the account: monthly emissions, alerts, indicative product terms.

Reads the database (daily rollups, alerts), the factor set the account used and the product
catalog; the arithmetic lives in :mod:`reports.monthly` and :mod:`reports.offers`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, extract, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from accounting.energy import EnergyType
from finance_engine.config import Settings
from finance_engine.models import DailyRollup, Meter
from finance_engine.services.alerts import AlertView, list_alerts
from finance_engine.services.reference import resolve_factor_set
from products import Catalog, load_catalog
from reports import AlertLine, MeterMonth, MonthlySeries, Offer, indicative_offers, monthly_series

MAX_ALERTS = 200
"""Most alerts a report carries (most severe first); the PDF shows the first 20."""


@dataclass(frozen=True)
class ReportInputs:
    """Everything a report needs from storage and reference data besides the account."""

    monthly: MonthlySeries
    alerts: tuple[AlertLine, ...]
    offers: tuple[Offer, ...]
    catalog_version: str
    lpr_version: str


@lru_cache(maxsize=1)
def report_catalog() -> Catalog:
    """The packaged product catalog, loaded once per process."""
    return load_catalog()


def gather_report_inputs(
    engine: Engine,
    settings: Settings,
    account: Mapping[str, Any],
    on: date,
    base_limit_yuan: Decimal,
) -> ReportInputs:
    """Monthly series, alerts of the period, and offers in force on ``on`` for ``account``."""
    entity_id = str(account["entity"]["id"])
    start = date.fromisoformat(account["period"]["start"])
    end = date.fromisoformat(account["period"]["end"])
    with Session(engine) as session:
        rows = meter_months(session, entity_id, start, end)
        factor_set = resolve_factor_set(session, settings, str(account["factor_set"]), start)
    em = account["emissions_tco2e"]
    declared = max(float(em["total"]) - sum(float(v) for v in em["by_meter"].values()), 0.0)
    monthly = monthly_series(
        rows,
        factor_set,
        period_start=start,
        period_end=end,
        grid_region=str(account["entity"].get("grid_region") or settings.grid_region),
        declared_tco2e=declared,
    )
    alerts = period_alerts(engine, settings, entity_id, start, end)
    critical = list_alerts(engine, entity_id=entity_id, severity="critical", limit=10_000)
    catalog = report_catalog()
    offers = indicative_offers(
        catalog.for_sector(str(account["entity"]["sector"]), on),
        account,
        on=on,
        base_limit_yuan=base_limit_yuan,
        lpr=catalog.lpr,
        open_critical_alerts=sum(a.status == "open" for a in critical),
    )
    return ReportInputs(monthly, alerts, offers, catalog.digest, catalog.lpr.version)


def meter_months(session: Session, entity_id: str, start: date, end: date) -> list[MeterMonth]:
    """Per-meter monthly totals of the entity's daily rollups in ``[start, end]``."""
    year = extract("year", col(DailyRollup.day))
    month = extract("month", col(DailyRollup.day))
    stmt = (
        sa_select(
            col(Meter.energy_type),
            col(Meter.unit),
            col(Meter.steam_enthalpy_kj_per_kg),
            year,
            month,
            func.sum(DailyRollup.quantity),
        )
        .join(Meter, col(Meter.id) == col(DailyRollup.meter_id))
        .where(col(Meter.entity_id) == entity_id)
        .where(col(DailyRollup.day) >= start, col(DailyRollup.day) <= end)
        .group_by(
            col(Meter.id),
            col(Meter.energy_type),
            col(Meter.unit),
            col(Meter.steam_enthalpy_kj_per_kg),
            year,
            month,
        )
    )
    return [
        MeterMonth(f"{int(y):04d}-{int(m):02d}", EnergyType(etype), float(qty), unit, enthalpy)
        for etype, unit, enthalpy, y, m, qty in session.connection().execute(stmt).all()
    ]


def period_alerts(
    engine: Engine, settings: Settings, entity_id: str, start: date, end: date
) -> tuple[AlertLine, ...]:
    """The entity's alerts whose interval starts within the period (local days)."""
    zone = ZoneInfo(settings.timezone)
    first_s = int(datetime.combine(start, time(), zone).timestamp())
    after_s = int(datetime.combine(end + timedelta(days=1), time(), zone).timestamp())
    views = list_alerts(engine, entity_id=entity_id, since=first_s, limit=10_000)
    kept = [v for v in views if v.interval_start_s < after_s][:MAX_ALERTS]
    return tuple(_line(v, zone) for v in kept)


def _line(view: AlertView, zone: ZoneInfo) -> AlertLine:
    started = datetime.fromtimestamp(view.interval_start_s, zone)
    return AlertLine(
        started_at=started.isoformat(),
        kind=view.kind,
        severity=view.severity,
        meter=view.meter_code,
        message=view.message,
        status=view.status,
    )
