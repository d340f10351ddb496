"""One resident's personal carbon account: points, level, monthly and cumulative reduction.

What personal products (carbon-points loans) read: the stored monthly accounts of the resident,
the events counted per month, and the events stored after the last computed month (not yet in
the points).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from accounting.resident_points import Level, load_resident_tables
from finance_engine.config import Settings
from finance_engine.services.residents import local_months
from finance_engine.tables_residents import ResidentEvent, ResidentMonth


@dataclass(frozen=True)
class ResidentView:
    """A resident's account. ``months`` are ascending; figures are of the latest month."""

    resident_id: int
    months: list[dict[str, Any]]
    cumulative_points: int
    cumulative_reduction_g: float
    level: int
    level_name: str
    level_name_zh: str
    next_level: dict[str, Any] | None
    events: int
    events_not_accounted: int
    """Stored events in months after the latest computed one."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dict(self.__dict__)


def _load(engine: Engine, resident_id: int) -> tuple[list[ResidentMonth], list[int], int]:
    """The resident's month rows, event times (epoch s) and the latest computed month."""
    with Session(engine) as session:
        rows = (
            session.execute(
                select(ResidentMonth)
                .where(ResidentMonth.resident_id == resident_id)  # type: ignore[arg-type]
                .order_by(ResidentMonth.month)  # type: ignore[arg-type]
            )
            .scalars()
            .all()
        )
        times = (
            session.execute(
                select(col(ResidentEvent.occurred_at_s)).where(
                    col(ResidentEvent.resident_id) == resident_id
                )
            )
            .scalars()
            .all()
        )
        computed_to = session.execute(select(func.max(ResidentMonth.month))).scalar()
    return list(rows), list(times), int(computed_to) if computed_to is not None else 0


def _month_dict(r: ResidentMonth, events: int) -> dict[str, Any]:
    return {
        "month": f"{r.month // 100}-{r.month % 100:02d}",
        "events": events,
        "reduction_g": round(r.reduction_g, 3),
        "capped_g": round(r.capped_g, 3),
        "points": r.points,
        "cumulative_points": r.cumulative_points,
        "cumulative_reduction_g": round(r.cumulative_reduction_g, 3),
        "level": r.level,
        "factor_table": r.factor_table_version,
        "points_rules": r.points_rules_version,
        "factor_set": r.factor_set_version,
        "grid_region": r.grid_region,
    }


def _levels(latest: ResidentMonth) -> tuple[Level, dict[str, Any] | None]:
    """The level of the latest month and what the next one needs."""
    rules = load_resident_tables().rules_version(latest.points_rules_version)
    level = rules.levels[latest.level - 1]
    if latest.level >= len(rules.levels):
        return level, None
    nxt = rules.levels[latest.level]
    return level, {
        "level": nxt.level,
        "name": nxt.name,
        "min_points": nxt.min_points,
        "points_to_go": nxt.min_points - latest.cumulative_points,
    }


def resident_view(engine: Engine, settings: Settings, resident_id: int) -> ResidentView:
    """The account of ``resident_id``; LookupError if it has neither events nor accounts."""
    rows, times, last_computed = _load(engine, resident_id)
    if not rows and not times:
        raise LookupError(f"resident {resident_id}: no events and no accounts")
    months = local_months(np.array(times, dtype=np.int64), settings.timezone)
    counts = {int(m): int(n) for m, n in zip(*np.unique(months, return_counts=True), strict=True)}
    not_accounted = sum(n for m, n in counts.items() if m > last_computed)
    out = [_month_dict(r, counts.get(r.month, 0)) for r in rows]
    if not rows:
        return ResidentView(resident_id, out, 0, 0.0, 0, "", "", None, len(times), not_accounted)
    latest = rows[-1]
    level, nxt = _levels(latest)
    return ResidentView(
        resident_id=resident_id,
        months=out,
        cumulative_points=latest.cumulative_points,
        cumulative_reduction_g=round(latest.cumulative_reduction_g, 3),
        level=level.level,
        level_name=level.name,
        level_name_zh=level.name_zh,
        next_level=nxt,
        events=len(times),
        events_not_accounted=not_accounted,
    )
