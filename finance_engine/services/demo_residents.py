"""The residents' part of the demo: synthetic residents, their events, monthly accounts.

:func:`add_residents` generates ``round(2.33M x scale)`` residents with a year of behaviour
events, ingests them month by month through the real ingest path (validation, idempotent
storage), sends a handful of faulty events to show the rejections, computes the twelve monthly
accounts and returns counts and the level distribution. Re-running it stores nothing twice.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from accounting.resident_points import load_resident_tables
from finance_engine.config import Settings
from finance_engine.services.residents import compute_resident_months, ingest_resident_arrays
from finance_engine.synth.residents import (
    SyntheticResidents,
    bad_events,
    build_residents,
    year_totals,
)

ProgressFactory = Callable[[int, str], Callable[[int], None]]
"""``progress(total, label)`` returns a callback receiving work done."""


def _ingest_year(
    engine: Engine,
    settings: Settings,
    residents: SyntheticResidents,
    now: datetime,
    tick: Callable[[int], None] | None,
) -> tuple[Counter[str], Counter[str]]:
    """Ingest the twelve months (and six faulty events after January); totals and reasons."""
    totals: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for m in range(1, 13):
        month = residents.month_events(m)
        batches = [month.to_raw()] + ([bad_events(month, int(now.timestamp()))] if m == 1 else [])
        for raw in batches:
            report = ingest_resident_arrays(
                engine,
                raw,
                settings,
                source=f"demo residents seed {residents.seed} {residents.year}-{m:02d}",
                now=now,
                progress=tick,
            )
            totals.update(
                events=report.rows,
                accepted=report.accepted,
                duplicates=report.duplicates,
                rejected=len(report.rejected),
            )
            reasons.update(r.field for r in report.rejected)
    return totals, reasons


def add_residents(
    engine: Engine,
    settings: Settings,
    *,
    seed: int,
    scale: float,
    year: int,
    progress: ProgressFactory | None = None,
) -> dict[str, Any]:
    """Generate, ingest and account the synthetic residents of ``year``; return a summary.

    The clock of the "in the future" check is the end of ``year`` (the demo replays a year).
    Keys: residents, events, accepted, duplicates, rejected, rejection_reasons, months,
    reduction_t, points, levels (``{level: {"name", "name_zh", "residents"}}`` at year end,
    residents without any event counted in level 1), seconds.
    """
    started = time.perf_counter()
    residents = build_residents(seed, scale, year, settings.timezone)
    now = datetime(year + 1, 1, 1, tzinfo=UTC)
    tick = progress(year_totals(residents), "resident events") if progress else None
    totals, reasons = _ingest_year(engine, settings, residents, now, tick)
    month_tick = progress(12, "resident months") if progress else None
    runs = compute_resident_months(
        engine, settings, [year * 100 + m for m in range(1, 13)], progress=month_tick, now=now
    )
    last = runs[-1]
    rules = load_resident_tables().rules_version(last.versions["points_rules"])
    levels = dict(last.levels)
    levels[1] = levels.get(1, 0) + residents.n_residents - last.residents
    return {
        "residents": residents.n_residents,
        "events": totals["events"],
        "accepted": totals["accepted"],
        "duplicates": totals["duplicates"],
        "rejected": totals["rejected"],
        "rejection_reasons": dict(reasons),
        "months": len(runs),
        "reduction_t": round(sum(r.reduction_kg for r in runs) / 1000, 3),
        "points": sum(r.points for r in runs),
        "levels": {
            lv.level: {"name": lv.name, "name_zh": lv.name_zh, "residents": levels.get(lv.level, 0)}
            for lv in rules.levels
        },
        "versions": last.versions,
        "seconds": round(time.perf_counter() - started, 1),
    }
