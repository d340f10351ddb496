"""What the demo's parts share: registering synthetic entities and meters."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine

from accounting.readings import MeterSpec, ReadingKind
from finance_engine.services.ingest import register_entities_and_meters
from finance_engine.storage.registry import EntityRecord, MeterRecord, RegistryOutcome
from finance_engine.synth.meters import MeterSpec as SyntheticMeter
from finance_engine.synth.population import EntitySpec


def register_synthetic(
    engine: Engine,
    entities: Iterable[EntitySpec],
    meters: Iterable[SyntheticMeter],
) -> RegistryOutcome:
    """Create or update the ``entity`` and ``meter`` rows of synthetic entities and meters."""
    return register_entities_and_meters(
        engine,
        [EntityRecord(e.id, e.name, e.sector, e.industry_code, e.region) for e in entities],
        [
            MeterRecord(
                m.entity_id,
                MeterSpec(
                    m.code,
                    m.energy_type,
                    m.unit,
                    ReadingKind(m.reading_kind),
                    m.rated_max_per_interval,
                    m.counter_rollover,
                ),
            )
            for m in meters
        ],
    )
