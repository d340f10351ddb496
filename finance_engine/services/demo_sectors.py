"""The demo's buildings, road transport firms and farms (the synthetic city's other sectors).

:func:`add_sector_accounts` registers the sector entities of
:func:`finance_engine.synth.sectors.build_sectors` and the buildings' meters, ingests a year of
the metered buildings' 15-minute readings through the real ingest path (validation, idempotent
storage, daily rollups, alerts) and stores every entity's activity record (sector section and
declared energy). Call it before :func:`finance_engine.services.accounts.compute_period_accounts`
for the same year: one compute run then grades all sectors. Re-running it stores nothing twice.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from sqlalchemy import Engine

from finance_engine.config import Settings
from finance_engine.services.activity import store_activity
from finance_engine.services.demo_common import register_synthetic
from finance_engine.services.ingest import ingest_arrays
from finance_engine.synth.sectors import SectorCity, build_sectors

METERS_PER_BATCH = 24
"""Building meters ingested per batch (about 0.84 million readings for a year)."""


def add_sector_accounts(
    engine: Engine, settings: Settings, *, seed: int, scale: float, year: int
) -> dict[str, dict[str, int]]:
    """Register, ingest and store the year's sector data of the synthetic city.

    Returns
    -------
    dict
        Per sector (``building``, ``transport``, ``agriculture``): ``entities``, ``meters``,
        ``readings`` (received), ``accepted`` (newly stored readings) and ``activity_stored``
        (newly stored activity records; re-runs count 0).
    """
    city = build_sectors(seed, scale, year)
    register_synthetic(engine, city.entities, city.meters)
    readings: Counter[str] = Counter()
    for first in range(0, len(city.meters), METERS_PER_BATCH):
        index = np.arange(first, min(first + METERS_PER_BATCH, len(city.meters)))
        report = ingest_arrays(
            engine, city.raw_readings(index), settings, source=f"demo sectors seed {seed}"
        )
        readings.update(readings=report.rows, accepted=report.accepted)
    sector_of = {e.id: e.sector.value for e in city.entities}
    stored: Counter[str] = Counter()
    for sector in sorted(set(sector_of.values())):  # three sectors
        records = [r for r in city.activity_records() if sector_of[r["entity_id"]] == sector]
        outcome = store_activity(engine, records)
        if outcome.rejected:
            raise ValueError(f"synthetic {sector} activity rejected: {outcome.rejected[0]}")
        stored[sector] = outcome.stored
    return _summary(city, readings, stored)


def _summary(
    city: SectorCity, readings: Counter[str], stored: Counter[str]
) -> dict[str, dict[str, int]]:
    entities = Counter(e.sector.value for e in city.entities)
    out = {
        sector: {
            "entities": count,
            "meters": 0,
            "readings": 0,
            "accepted": 0,
            "activity_stored": stored[sector],
        }
        for sector, count in sorted(entities.items())
    }
    out["building"].update(
        meters=len(city.meters), readings=readings["readings"], accepted=readings["accepted"]
    )
    return out
