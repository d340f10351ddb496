"""The demo: a synthetic Quzhou-like city, end to end on the configured database.

Builds the city (:mod:`finance_engine.synth`), registers its firms and meters, ingests a year of
15-minute readings through the real ingest path (validation, idempotent storage, daily rollups,
alerts), stores activity data and declared totals, publishes the synthetic province's industry
benchmarks, and computes and grades every account. Re-running it stores nothing twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from accounting.account import Period
from accounting.benchmarks import WILDCARD, benchmark_set_from_content, save_benchmark_set
from accounting.intensity import PER_GJ_HEAT, PER_MWH, PER_MWH_EQ, VALUE_ADDED
from accounting.readings import RawReadings
from finance_engine.config import Settings
from finance_engine.db import make_engine, upgrade
from finance_engine.services.accounts import AccountRun, compute_period_accounts
from finance_engine.services.activity import store_activity
from finance_engine.services.alerts import AlertView, list_alerts
from finance_engine.services.demo_access import AccessSummary, prepare_access
from finance_engine.services.demo_common import register_synthetic
from finance_engine.services.demo_residents import add_residents
from finance_engine.services.demo_scoring import ScoringSummary, score_city
from finance_engine.services.demo_sectors import add_sector_accounts
from finance_engine.services.ingest import ingest_arrays
from finance_engine.synth import City, build_city
from finance_engine.synth.industries import design_benchmarks

RESIDENT_SCALE_SHARE = 0.1
"""Residents are generated at this share of the demo's scale (2.33 million at scale 1.0 would
take the small default demo past a few minutes; ``--scale 1.0`` still gives 233,000)."""

METERS_PER_BATCH = 24
"""Meters ingested per batch (about 0.85 million readings for a year)."""

Progress = Callable[[int], None]


@dataclass(frozen=True)
class DemoSummary:
    """What the demo did and found."""

    seed: int
    scale: float
    year: int
    entities: int
    meters: int
    readings: int
    accepted: int
    duplicates: int
    rejected: int
    alerts_raised: int
    run: AccountRun
    benchmark_file: Path
    scoring: ScoringSummary | None = None
    sectors: dict[str, dict[str, int]] = field(default_factory=dict)
    access: AccessSummary | None = None
    residents: dict[str, Any] = field(default_factory=dict)
    """Personal carbon accounts: residents, events, points, levels."""
    """The demo lender's consents and API key, and the signed sample reports."""
    """Buildings, transport firms and farms: entities, meters, readings, accepted, activity."""

    @property
    def all_entities(self) -> int:
        """Entities of every sector in the demo."""
        return self.entities + sum(s["entities"] for s in self.sectors.values())

    top_alerts: list[AlertView] = field(default_factory=list)
    rejection_reasons: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "city": {
                "seed": self.seed,
                "scale": self.scale,
                "year": self.year,
                "entities": self.entities,
                "all_entities": self.all_entities,
                "meters": self.meters,
            },
            "ingest": {
                "readings": self.readings,
                "accepted": self.accepted,
                "duplicates": self.duplicates,
                "rejected": self.rejected,
                "rejection_reasons": self.rejection_reasons,
                "alerts_raised": self.alerts_raised,
            },
            "accounts": self.run.to_dict(),
            "benchmark_file": str(self.benchmark_file),
            "scoring": None if self.scoring is None else self.scoring.to_dict(),
            "sectors": self.sectors,
            "access": None if self.access is None else self.access.to_dict(),
            "residents": self.residents,
            "top_alerts": [_alert_dict(a) for a in self.top_alerts],
        }


def _alert_dict(alert: AlertView) -> dict[str, Any]:
    return {
        "entity_id": alert.entity_id,
        "meter": alert.meter_code,
        "kind": alert.kind,
        "severity": alert.severity,
        "interval_start_s": alert.interval_start_s,
        "interval_end_s": alert.interval_end_s,
        "expected": alert.expected,
        "actual": alert.actual,
        "unit": alert.unit,
        "message": alert.message,
    }


def run_demo(
    settings: Settings,
    *,
    seed: int = 7,
    scale: float = 0.02,
    year: int = 2025,
    progress: Callable[[int, str], Progress] | None = None,
    score: bool = True,
) -> DemoSummary:
    """Run the whole demo on ``settings.database_url`` and return its summary.

    ``progress(total, label)`` may return a callback that receives work done (readings).
    ``score`` trains the risk model, scores every firm against its products, grants the demo
    lender consents with a fresh bank key, and issues signed sample reports.
    """
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        city = build_city(seed, scale, year)
        register_synthetic(engine, city.entities, city.meters)
        totals: Counter[str] = Counter()
        reasons: Counter[str] = Counter()
        expected_rows = len(city.meters) * city.slots
        tick = progress(expected_rows, "ingest") if progress else None
        for raw in _batches(city):
            report = ingest_arrays(
                engine, raw, settings, source=f"demo city seed {seed}", progress=tick
            )
            totals.update(
                readings=report.rows,
                accepted=report.accepted,
                duplicates=report.duplicates,
                rejected=len(report.rejected),
                alerts=report.alerts or 0,
            )
            reasons.update(r.field for r in report.rejected)
        store_activity(engine, _activity(city))
        sectors = add_sector_accounts(engine, settings, seed=seed, scale=scale, year=year)
        bench_file = _publish_benchmarks(city, settings.instance_path)
        run = compute_period_accounts(
            engine,
            settings,
            Period(date(year, 1, 1), date(year, 12, 31)),
            benchmark=str(bench_file),
        )
        top = list_alerts(engine, severity="critical", limit=10)
        scoring = score_city(engine, settings, seed=seed, year=year) if score else None
        access = prepare_access(engine, settings) if score else None
        residents = add_residents(
            engine,
            settings,
            seed=seed,
            scale=scale * RESIDENT_SCALE_SHARE,
            year=year,
            progress=progress,
        )
    finally:
        engine.dispose()
    return DemoSummary(
        seed=seed,
        scale=scale,
        year=year,
        entities=len(city.entities),
        meters=len(city.meters),
        readings=totals["readings"],
        accepted=totals["accepted"],
        duplicates=totals["duplicates"],
        rejected=totals["rejected"],
        alerts_raised=totals["alerts"],
        run=run,
        benchmark_file=bench_file,
        top_alerts=top,
        rejection_reasons=dict(reasons),
        scoring=scoring,
        sectors=sectors,
        access=access,
        residents=residents,
    )


def _batches(city: City) -> Iterator[RawReadings]:
    """The city's raw stream, a few meters at a time, as ingest input columns."""
    for first in range(0, len(city.meters), METERS_PER_BATCH):
        rows = city.to_raw_rows(np.arange(first, min(first + METERS_PER_BATCH, len(city.meters))))
        yield RawReadings(
            row=np.arange(1, len(rows) + 1, dtype=np.int64),
            meter_ref=rows.meter.astype(np.int32),
            meter_codes=rows.codes,
            timestamp_s=rows.timestamp_s,
            quantity=rows.value,
        )


def _activity(city: City) -> list[dict[str, Any]]:
    declared: dict[str, list[dict[str, Any]]] = {}
    for d in city.declared_totals:
        declared.setdefault(d.entity_id, []).append(
            {"type": d.energy_type.value, "unit": d.unit, "quantity": d.quantity}
        )
    period = {"start": f"{city.year}-01-01", "end": f"{city.year}-12-31"}
    return [
        {
            "entity_id": a.entity_id,
            "period": period,
            "value_added_10k_yuan": str(a.value_added_10k_yuan),
            "output_value_10k_yuan": str(a.output_value_10k_yuan),
            "electricity_supplied_mwh": a.electricity_supplied_mwh,
            "heat_supplied_gj": a.heat_supplied_gj,
            "declared_energy": declared.get(a.entity_id, []),
            "previous_intensity": _previous_in_metric_unit(a),
        }
        for a in city.activity
    ]


def _metric(electricity_mwh: float | None, heat_gj: float | None) -> str:
    if electricity_mwh and heat_gj:
        return PER_MWH_EQ
    if electricity_mwh:
        return PER_MWH
    if heat_gj:
        return PER_GJ_HEAT
    return VALUE_ADDED


def _to_metric_unit(value: float, unit: str, metric: str) -> float:
    """The city states combined producers per GJ of all energy; accounts use MWh-equivalent."""
    return value * 3.6 if metric == PER_MWH_EQ and unit.endswith("/GJ") else value


def _previous_in_metric_unit(a: Any) -> float:
    metric = _metric(a.electricity_supplied_mwh, a.heat_supplied_gj)
    return _to_metric_unit(a.previous_intensity, a.intensity_unit, metric)


def _publish_benchmarks(city: City, instance_path: Path) -> Path:
    """Write the synthetic province's industry benchmarks (design medians) as a benchmark set."""
    design = design_benchmarks()
    seen: dict[tuple[str, str, str], float] = {}
    for entity, act in zip(city.entities, city.activity, strict=True):
        metric = _metric(act.electricity_supplied_mwh, act.heat_supplied_gj)
        value, unit = design[entity.industry_code]
        seen[(entity.sector.value, entity.industry_code, metric)] = _to_metric_unit(
            value, unit, metric
        )
    source = "synthetic city design medians (illustrative, not published Zhejiang averages)"
    content = {
        "version": f"SYNTH-{city.year}-seed{city.seed}",
        "method": "published",
        "percentile": 50.0,
        "period": str(city.year),
        "min_n": 1,
        "source": source,
        "values": [
            {
                "sector": s,
                "industry_code": code,
                "region": WILDCARD,
                "metric": m,
                "value": v,
                "n": None,
                "source": source,
            }
            for (s, code, m), v in sorted(seen.items())
        ],
    }
    path = instance_path / "demo" / f"benchmarks-{city.year}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    save_benchmark_set(benchmark_set_from_content(content, path.name), path)
    return path
