"""Small stored worlds for tests and benchmarks: a firm, one electricity meter, daily rollups.

Synthetic, like the rest of :mod:`finance_engine.synth`; the service, API and CLI tests and the
API benchmark build their graded firms with :func:`add_metered_firm`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from sqlmodel import Session

from finance_engine.models import DailyRollup, Entity, Meter


def add_metered_firm(
    session: Session,
    eid: str,
    name: str,
    kwh_per_day: float | Callable[[date], float],
    *,
    days: int = 365,
    first_day: date = date(2023, 1, 1),
) -> int:
    """Add industry firm ``eid`` (C2614, kecheng) with electricity meter ``{eid}-E``.

    The meter gets ``days`` complete daily rollups (96 intervals) from ``first_day``, each of
    ``kwh_per_day`` kWh (or ``kwh_per_day(day)``). Returns the meter id.
    """
    session.add(
        Entity(id=eid, name=name, sector="industry", industry_code="C2614", region="kecheng")
    )
    session.flush()
    meter = Meter(code=f"{eid}-E", entity_id=eid, energy_type="electricity", unit="kWh")
    session.add(meter)
    session.flush()
    assert meter.id is not None
    quantity = kwh_per_day if callable(kwh_per_day) else (lambda _day: kwh_per_day)
    session.add_all(
        DailyRollup(meter_id=meter.id, day=day, quantity=quantity(day), intervals=96)
        for day in (first_day + timedelta(days=d) for d in range(days))
    )
    return meter.id
