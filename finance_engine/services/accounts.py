"""Compute, grade and store the carbon accounts of a period from stored data.

Inputs: daily rollups of every meter (metered entities), declared energy totals in the activity
data (entities without meters), activity denominators, the factor set, the grading rules and the
benchmarks (computed from the period's own population, or a stored/loaded set). Accounts are
snapshots: a stored account is never rewritten, and computing the same period under the same
versions again stores nothing new.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from accounting.account import (
    AccountInput,
    CarbonAccountResult,
    EntityRef,
    Period,
    account_to_dict,
    compute_accounts,
)
from accounting.benchmarks import BenchmarkSet
from accounting.emissions import EnergyTotal
from accounting.energy import EnergyType
from accounting.intensity import Activity, Product
from accounting.rollup import SLOTS_PER_DAY
from accounting.vocab import Sector
from finance_engine.config import Settings
from finance_engine.db import unit_of_work
from finance_engine.models import ActivityData, CarbonAccount, DailyRollup, Entity, Meter
from finance_engine.services.activity import load_activity
from finance_engine.services.reference import (
    grading_config,
    load_benchmarks,
    record_benchmark_set,
    record_factor_set,
    resolve_factor_set,
)
from finance_engine.services.sector_inputs import (
    complete_benchmarks,
    label_tally,
    population_benchmarks,
    stored_sector_data,
    uncovered_sectors,
)

ACCOUNTED_SECTORS: tuple[Sector, ...] = (
    Sector.INDUSTRY,
    Sector.ENERGY,
    Sector.BUILDING,
    Sector.TRANSPORT,
    Sector.AGRICULTURE,
)
"""Sectors whose accounts this service computes (residents have their own service)."""


@dataclass(frozen=True)
class AccountRun:
    """The outcome of computing one period's accounts."""

    period: Period
    factor_set_version: str
    benchmark_version: str
    grading_version: str
    stored: int
    already_stored: int
    skipped: list[dict[str, str]] = field(default_factory=list)
    colours: dict[str, dict[str, int]] = field(default_factory=dict)
    """Sector -> colour -> number of accounts."""
    grades: dict[str, dict[str, int]] = field(default_factory=dict)
    """Sector -> carbon-efficiency grade (or 'none') -> number of accounts."""
    provisional: int = 0
    labels: dict[str, dict[str, int]] = field(default_factory=dict)
    """Sector -> sector label (carbon_neutral_farm, new_energy_fleet) -> number of accounts."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "period": {"start": self.period.start.isoformat(), "end": self.period.end.isoformat()},
            "factor_set": self.factor_set_version,
            "benchmark": self.benchmark_version,
            "grading": self.grading_version,
            "stored": self.stored,
            "already_stored": self.already_stored,
            "provisional": self.provisional,
            "skipped": self.skipped,
            "colours": self.colours,
            "grades": self.grades,
            "labels": self.labels,
        }


@dataclass(frozen=True)
class _MeterTotal:
    code: str
    entity_id: str
    energy_type: EnergyType
    unit: str
    enthalpy: float | None
    quantity: float
    intervals: int


def compute_period_accounts(
    engine: Engine,
    settings: Settings,
    period: Period,
    *,
    factor_set: str | None = None,
    benchmark: str | None = None,
    percentile: float = 50.0,
) -> AccountRun:
    """Compute, grade and store the accounts of ``period`` (all sectors but residents).

    ``benchmark`` is a stored benchmark version or a benchmark JSON file; without it the
    benchmarks are the ``percentile`` of the period's own population per benchmark group
    (industry and region; building type and climate region; transport service type). Sectors the
    given benchmark set has no value for are benchmarked against the period's population (the
    stored benchmark version is then the merged set's).
    """
    with unit_of_work(engine) as session:
        fs = resolve_factor_set(session, settings, factor_set, period.start)
        grading = grading_config()
        inputs, skipped = _inputs(session, settings, period)
        if benchmark is not None:
            bench = load_benchmarks(session, benchmark)
            missing = uncovered_sectors(bench, inputs)
            if missing:
                population = _population_benchmarks(inputs, fs, grading, period, percentile)
                bench = complete_benchmarks(bench, population, missing)
        else:
            bench = _population_benchmarks(inputs, fs, grading, period, percentile)
        results = (
            compute_accounts(
                inputs, fs, grading, benchmark_set=bench, regional_from_population=True
            )
            if inputs
            else []
        )
        record_factor_set(session, fs)
        record_benchmark_set(session, bench)
        stored, already = _store(session, results, bench.version)
    return AccountRun(
        period=period,
        factor_set_version=fs.version,
        benchmark_version=bench.version,
        grading_version=grading.version,
        stored=stored,
        already_stored=already,
        skipped=skipped,
        colours=_tally(results, lambda r: r.grade.colour or "none"),
        grades=_tally(results, lambda r: str(r.grade.carbon_efficiency or "none")),
        provisional=sum(r.grade.provisional for r in results),
        labels=label_tally(results),
    )


def _population_benchmarks(
    inputs: Sequence[AccountInput], fs: Any, grading: Any, period: Period, percentile: float
) -> BenchmarkSet:
    """Benchmarks from a first, ungraded pass over the population's intensities."""
    first = compute_accounts(inputs, fs, grading) if inputs else []
    return population_benchmarks(
        first, f"{period.start.isoformat()}..{period.end.isoformat()}", percentile
    )


def _tally(results: Sequence[CarbonAccountResult], key: Any) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter[str]] = {}
    for r in results:
        counts.setdefault(r.entity.sector.value, Counter())[key(r)] += 1
    return {sector: dict(sorted(c.items())) for sector, c in sorted(counts.items())}


def _meter_totals(session: Session, period: Period) -> list[_MeterTotal]:
    """Per-meter totals and received intervals over the period, from the daily rollups."""
    stmt = (
        sa_select(
            col(Meter.code),
            col(Meter.entity_id),
            col(Meter.energy_type),
            col(Meter.unit),
            col(Meter.steam_enthalpy_kj_per_kg),
            func.coalesce(func.sum(DailyRollup.quantity), 0.0),
            func.coalesce(func.sum(DailyRollup.intervals), 0),
        )
        .select_from(Meter)
        .outerjoin(
            DailyRollup,
            (col(DailyRollup.meter_id) == col(Meter.id))
            & (col(DailyRollup.day) >= period.start)
            & (col(DailyRollup.day) <= period.end),
        )
        .group_by(col(Meter.id))
    )
    return [
        _MeterTotal(code, ent, EnergyType(etype), unit, enth, float(qty), int(n))
        for code, ent, etype, unit, enth, qty, n in session.connection().execute(stmt).all()
    ]


def _inputs(
    session: Session, settings: Settings, period: Period
) -> tuple[list[AccountInput], list[dict[str, str]]]:
    entities = session.exec(
        select(Entity).where(col(Entity.sector).in_([s.value for s in ACCOUNTED_SECTORS]))
    ).all()
    ids = [e.id for e in entities]
    activity = load_activity(session, ids, period.start, period.end)
    by_entity: dict[str, list[_MeterTotal]] = {}
    for total in _meter_totals(session, period):
        by_entity.setdefault(total.entity_id, []).append(total)
    previous = _previous_intensities(session, ids, period)
    inputs: list[AccountInput] = []
    skipped: list[dict[str, str]] = []
    for entity in sorted(entities, key=lambda e: e.id):
        record = activity.get(entity.id)
        if record is None:
            skipped.append({"entity": entity.id, "reason": "no activity data for the period"})
            continue
        item = _input(entity, record, by_entity.get(entity.id, []), period, settings)
        if item.previous_intensity is None and entity.id in previous:
            item = _with_previous(item, previous[entity.id])
        sector_data, why = stored_sector_data(
            item.entity.sector, record.data, period.days, {t.energy_type for t in item.energy}
        )
        if why is not None:
            skipped.append({"entity": entity.id, "reason": why})
            continue
        if not item.energy and item.entity.sector is not Sector.AGRICULTURE:
            skipped.append({"entity": entity.id, "reason": "no metered or declared energy"})
            continue
        inputs.append(replace(item, sector_data=sector_data))
    return inputs, skipped


def _with_previous(item: AccountInput, value: float) -> AccountInput:
    return replace(item, previous_intensity=value)


def _input(
    entity: Entity,
    record: ActivityData,
    meters: Sequence[_MeterTotal],
    period: Period,
    settings: Settings,
) -> AccountInput:
    data = record.data
    metered_types = {m.energy_type for m in meters}
    energy = [
        EnergyTotal(
            m.energy_type, m.quantity, m.unit, meter=m.code, steam_enthalpy_kj_per_kg=m.enthalpy
        )
        for m in meters
    ]
    energy += [
        EnergyTotal(
            EnergyType(d["type"]),
            float(d["quantity"]),
            d["unit"],
            steam_enthalpy_kj_per_kg=d.get("steam_enthalpy_kj_per_kg"),
        )
        for d in data.get("declared_energy", [])
        if EnergyType(d["type"]) not in metered_types
    ]
    expected = len(meters) * period.days * SLOTS_PER_DAY
    received = sum(m.intervals for m in meters)
    return AccountInput(
        entity=EntityRef(
            id=entity.id,
            name=entity.name,
            sector=Sector(entity.sector),
            industry_code=entity.industry_code,
            region=entity.region,
            grid_region=entity.grid_region or settings.grid_region,
        ),
        period=period,
        energy=tuple(energy),
        activity=Activity(
            value_added_10k_yuan=record.value_added_10k_yuan,
            output_value_10k_yuan=record.output_value_10k_yuan,
            products=tuple(
                Product(p["name"], p["unit"], float(p["quantity"]))
                for p in data.get("products", [])
            ),
            electricity_supplied_mwh=data.get("electricity_supplied_mwh"),
            heat_supplied_gj=data.get("heat_supplied_gj"),
        ),
        previous_intensity=data.get("previous_intensity"),
        completeness=received / expected if expected else 1.0,
        metered=bool(meters),
        received_intervals=received if meters else None,
        expected_intervals=expected if meters else None,
    )


def _previous_intensities(session: Session, ids: Sequence[str], period: Period) -> dict[str, float]:
    """Primary intensity of each entity's latest stored account for the preceding period."""
    prev_end = period.start - timedelta(days=1)
    rows = session.exec(
        select(CarbonAccount.entity_id, CarbonAccount.intensity)
        .where(col(CarbonAccount.period_end) == prev_end)
        .where(col(CarbonAccount.intensity).is_not(None))
        .order_by(col(CarbonAccount.computed_at))
    ).all()
    wanted = set(ids)
    return {eid: float(v) for eid, v in rows if eid in wanted and v is not None}


def _store(
    session: Session, results: Sequence[CarbonAccountResult], benchmark_version: str
) -> tuple[int, int]:
    """Insert accounts not stored yet under the same versions; return (stored, already)."""
    if not results:
        return 0, 0
    r0 = results[0]
    existing = set(
        session.exec(
            select(CarbonAccount.entity_id).where(
                CarbonAccount.period_start == r0.period.start,
                CarbonAccount.period_end == r0.period.end,
                CarbonAccount.factor_set_version == r0.factor_set_version,
                CarbonAccount.benchmark_version == benchmark_version,
            )
        ).all()
    )
    new = [r for r in results if r.entity.id not in existing]
    session.add_all(_row(r, benchmark_version) for r in new)
    return len(new), len(results) - len(new)


def _row(result: CarbonAccountResult, benchmark_version: str) -> CarbonAccount:
    grade = result.grade
    return CarbonAccount(
        entity_id=result.entity.id,
        sector=result.entity.sector.value,
        period_start=result.period.start,
        period_end=result.period.end,
        factor_set_version=result.factor_set_version,
        benchmark_version=benchmark_version,
        grading_version=result.grading_version,
        emissions_tco2e=result.emissions.total_tco2e,
        scope1_tco2e=result.emissions.scope1_tco2e,
        scope2_tco2e=result.emissions.scope2_tco2e,
        intensity=result.intensity.primary.value,
        intensity_unit=result.intensity.primary.unit,
        carbon_efficiency_grade=grade.carbon_efficiency,
        carbon_label=grade.carbon_label or "",
        colour=grade.colour or "",
        score=grade.score,
        provisional=grade.provisional,
        completeness=result.data_quality.completeness,
        quality_tier=result.data_quality.tier,
        result=account_to_dict(result),
    )


def list_accounts(
    engine: Engine,
    *,
    entity_id: str | None = None,
    period_end: date | None = None,
    colour: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Stored accounts (summary fields), newest period first."""
    with Session(engine) as session:
        stmt = select(CarbonAccount)
        if entity_id:
            stmt = stmt.where(CarbonAccount.entity_id == entity_id)
        if period_end:
            stmt = stmt.where(CarbonAccount.period_end == period_end)
        if colour:
            stmt = stmt.where(CarbonAccount.colour == colour)
        stmt = (
            stmt.order_by(
                col(CarbonAccount.period_end).desc(),
                col(CarbonAccount.entity_id),
                col(CarbonAccount.id),
            )
            .offset(offset)
            .limit(limit)
        )
        return [account_summary(a) for a in session.exec(stmt).all()]


def latest_account(engine: Engine, entity_id: str) -> dict[str, Any] | None:
    """The full stored account of ``entity_id`` with the latest period (newest computation)."""
    with Session(engine) as session:
        row = session.exec(
            select(CarbonAccount)
            .where(CarbonAccount.entity_id == entity_id)
            .order_by(col(CarbonAccount.period_end).desc(), col(CarbonAccount.id).desc())
        ).first()
        return None if row is None else {"id": row.id, **row.result}


def account_summary(row: CarbonAccount) -> dict[str, Any]:
    """The summary fields of a stored account."""
    return {
        "id": row.id,
        "entity_id": row.entity_id,
        "sector": row.sector,
        "period": {"start": row.period_start.isoformat(), "end": row.period_end.isoformat()},
        "emissions_tco2e": row.emissions_tco2e,
        "intensity": row.intensity,
        "intensity_unit": row.intensity_unit,
        "carbon_efficiency_grade": row.carbon_efficiency_grade,
        "carbon_label": row.carbon_label,
        "colour": row.colour,
        "score": row.score,
        "provisional": row.provisional,
        "completeness": row.completeness,
        "quality_tier": row.quality_tier,
        "factor_set": row.factor_set_version,
        "benchmark": row.benchmark_version,
        "grading": row.grading_version,
    }
