"""Ingest meter readings: parse, validate, store idempotently, roll up daily, evaluate alerts.

One call is one batch (an ``ingest_batch`` row with the full report). Large inputs are processed
in chunks of about ``chunk_rows`` readings, each in its own transaction (see
:mod:`finance_engine.storage.readings` for the locking that keeps concurrent ingests exact).
In-memory arrays are chunked by meter, so every rule (duplicates within the batch included)
sees all of a meter's readings at once; files are chunked in file order, so a conflicting
duplicate whose rows fall in different chunks rejects only the later row ("conflicts with the
stored value") and the earlier one stays stored.

Re-sending a batch stores nothing new: every reading is a duplicate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine

from accounting.readings import (
    Gap,
    RawReadings,
    Rejection,
    ValidatedBatch,
    validate_readings,
)
from finance_engine.config import Settings
from finance_engine.db import unit_of_work
from finance_engine.storage.batches import (
    close_ingest_batch,
    file_sha256,
    first_read,
    open_ingest_batch,
)
from finance_engine.storage.bulk import (
    StoreOutcome,
    chunks_by_meter,
    load_counter_history,
    store_validated,
)
from finance_engine.storage.formats import ParsedChunk, read_readings
from finance_engine.storage.readings import bulk_transaction
from finance_engine.storage.registry import (
    EntityRecord,
    MeterRecord,
    RegistryOutcome,
    read_registry_file,
    upsert_registry,
)
from finance_engine.storage.timezones import zone

CHUNK_ROWS = 1_000_000
"""Default readings per chunk (and per transaction)."""

Progress = Callable[[int], None]
"""Called with the number of rows each chunk processed."""


@dataclass(frozen=True)
class BatchReport:
    """The outcome of one ingest batch. ``rows == accepted + duplicates + len(rejected)``.

    Attributes
    ----------
    batch_id:
        The ``ingest_batch`` row holding this report.
    source:
        Where the readings came from (file path or caller's label).
    rows:
        Readings received (CSV: non-blank lines after the header).
    accepted:
        Readings newly stored.
    duplicates:
        Readings ignored because they repeat one in the batch or one already stored.
    rejected:
        Rejected rows (row number, field, reason), sorted by row.
    gaps:
        Per meter, runs of intervals missing between its first and last interval in the batch.
    revised:
        Stored counter readings whose quantity was recomputed (a gap before them was filled).
    meter_ids:
        Meters with newly stored readings.
    start_s, end_s:
        ``[start_s, end_s)`` epoch seconds UTC spanned by the newly stored readings (None if
        nothing was stored).
    alerts:
        New alerts raised on the stored readings; None when alerts were not evaluated.
    """

    batch_id: int
    source: str
    rows: int
    accepted: int
    duplicates: int
    rejected: tuple[Rejection, ...]
    gaps: tuple[Gap, ...]
    revised: int = 0
    meter_ids: tuple[int, ...] = ()
    start_s: int | None = None
    end_s: int | None = None
    alerts: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready rendering (rejections and gaps as lists of objects)."""
        return {
            "batch_id": self.batch_id,
            "source": self.source,
            "rows": self.rows,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": [r.to_dict() for r in self.rejected],
            "gaps": [g.to_dict() for g in self.gaps],
            "revised": self.revised,
            "meter_ids": list(self.meter_ids),
            "start_s": self.start_s,
            "end_s": self.end_s,
            "alerts": self.alerts,
        }


@dataclass
class _Tally:
    """Running totals over a batch's chunks."""

    rows: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    revised: int = 0
    meter_ids: set[int] = field(default_factory=set)
    start_s: int | None = None
    end_s: int | None = None

    def add(self, batch: ValidatedBatch, outcome: StoreOutcome) -> None:
        self.accepted += outcome.inserted
        self.duplicates += batch.duplicates + outcome.duplicates
        self.rejected += [*batch.rejections, *outcome.conflicts]
        self.gaps += batch.gaps
        self.revised += outcome.revised
        self.meter_ids.update(outcome.meter_ids)
        if outcome.inserted:
            self.start_s = min(outcome.start_s, self.start_s or outcome.start_s)
            self.end_s = max(outcome.end_s, self.end_s or outcome.end_s)

    def report(self, batch_id: int, source: str, alerts: int | None) -> BatchReport:
        return BatchReport(
            batch_id,
            source,
            self.rows,
            self.accepted,
            self.duplicates,
            tuple(sorted(self.rejected)),
            tuple(sorted(self.gaps, key=_gap_key)),
            self.revised,
            tuple(sorted(self.meter_ids)),
            self.start_s,
            self.end_s,
            alerts,
        )


def _gap_key(gap: Gap) -> tuple[str, int]:
    return gap.meter, gap.start_s


def ingest_readings(
    engine: Engine,
    raw_or_path: RawReadings | str | Path,
    settings: Settings,
    *,
    source: str = "",
    fmt: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    progress: Progress | None = None,
    alerts: bool = True,
) -> BatchReport:
    """Ingest in-memory readings (:func:`ingest_arrays`) or a file (:func:`ingest_file`).

    With ``alerts`` the alert rules run on the newly stored readings afterwards (when
    :mod:`finance_engine.services.alerts` is installed).
    """
    if isinstance(raw_or_path, RawReadings):
        return ingest_arrays(
            engine,
            raw_or_path,
            settings,
            source=source,
            chunk_rows=chunk_rows,
            progress=progress,
            alerts=alerts,
        )
    return ingest_file(
        engine,
        Path(raw_or_path),
        settings,
        fmt=fmt,
        source=source,
        chunk_rows=chunk_rows,
        progress=progress,
        alerts=alerts,
    )


def ingest_file(
    engine: Engine,
    path: Path,
    settings: Settings,
    *,
    fmt: str | None = None,
    source: str = "",
    chunk_rows: int = CHUNK_ROWS,
    progress: Progress | None = None,
    alerts: bool = True,
) -> BatchReport:
    """Ingest a CSV, JSON or Parquet reading file (``docs/ingest-formats.md``).

    Raises :class:`~finance_engine.storage.formats.FormatError` when the file's structure is
    wrong (before anything is stored); bad rows are rejected in the report instead.
    """
    chunks = first_read(
        read_readings(path, fmt=fmt, timezone=zone(settings.timezone), chunk_rows=chunk_rows)
    )
    return _run(engine, settings, chunks, source or str(path), file_sha256(path), progress, alerts)


def ingest_arrays(
    engine: Engine,
    raw: RawReadings,
    settings: Settings,
    *,
    source: str = "",
    chunk_rows: int = CHUNK_ROWS,
    progress: Progress | None = None,
    alerts: bool = True,
) -> BatchReport:
    """Ingest readings held in memory (e.g. a synthetic city's meters), chunked by meter."""
    chunks = (ParsedChunk(part, (), len(part)) for part in chunks_by_meter(raw, chunk_rows))
    return _run(engine, settings, chunks, source or "arrays", _arrays_sha256(raw), progress, alerts)


def _run(
    engine: Engine,
    settings: Settings,
    chunks: Iterable[ParsedChunk],
    source: str,
    sha256: str,
    progress: Progress | None,
    alerts: bool,
) -> BatchReport:
    batch_id = open_ingest_batch(engine, source, sha256)
    tally = _Tally()
    for chunk in chunks:
        tally.rows += chunk.rows
        tally.rejected += chunk.rejections
        if len(chunk.raw):
            tally.add(*_ingest_chunk(engine, chunk.raw, settings, batch_id))
        if progress is not None:
            progress(chunk.rows)
    raised = _evaluate_alerts(engine, settings, tally, batch_id) if alerts else None
    report = tally.report(batch_id, source, raised)
    close_ingest_batch(engine, report, report.to_dict())
    return report


def _ingest_chunk(
    engine: Engine, raw: RawReadings, settings: Settings, batch_id: int
) -> tuple[ValidatedBatch, StoreOutcome]:
    codes = [raw.meter_codes[i] for i in np.unique(raw.meter_ref).tolist() if i >= 0]
    with bulk_transaction(engine) as store:
        meters = store.lock_meters([c for c in codes if c])
        specs = [m.spec for m in meters]
        ids = np.array([m.id for m in meters], dtype=np.int64)
        history = load_counter_history(store, raw, specs, ids, settings.snap_tolerance_s)
        batch = validate_readings(raw, specs, settings.snap_tolerance_s, history=history)
        outcome = store_validated(store, batch, ids, zone(settings.timezone), batch_id)
    return batch, outcome


def _evaluate_alerts(
    engine: Engine, settings: Settings, tally: _Tally, batch_id: int
) -> int | None:
    """Run the alert rules on the newly stored readings, if the alerts service is installed."""
    if not tally.meter_ids or tally.start_s is None or tally.end_s is None:
        return None
    try:
        from finance_engine.services.alerts import evaluate_alerts
    except ImportError:
        return None
    return evaluate_alerts(
        engine,
        sorted(tally.meter_ids),
        tally.start_s,
        tally.end_s,
        batch_id,
        timezone=settings.timezone,
    )


def _arrays_sha256(raw: RawReadings) -> str:
    digest = hashlib.sha256("\n".join((*raw.meter_codes, "", *raw.units)).encode())
    for column in (raw.row, raw.meter_ref, raw.timestamp_s, raw.quantity, raw.unit_ref):
        if column is not None:
            digest.update(np.ascontiguousarray(column).data)
    return digest.hexdigest()


def register_entities_and_meters(
    engine: Engine, entities: Iterable[EntityRecord], meters: Iterable[MeterRecord]
) -> RegistryOutcome:
    """Create or update entities and meters in one transaction (see
    :func:`~finance_engine.storage.registry.upsert_registry`)."""
    with unit_of_work(engine) as session:
        return upsert_registry(session, list(entities), list(meters))


def register_from_file(engine: Engine, path: Path) -> RegistryOutcome:
    """Register the entities and meters of a meters file (CSV or JSON)."""
    entities, meters = read_registry_file(path)
    return register_entities_and_meters(engine, entities, meters)
