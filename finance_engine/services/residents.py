"""Residents' personal carbon accounts: ingest events, compute monthly accounts, view a resident.

Ingest is idempotent by event id: each chunk (about ``chunk_rows`` events) is validated
(:func:`accounting.resident_events.validate_events`), staged and classified against the stored
events in one locked transaction (see :mod:`finance_engine.services.residents_store`). A repeat
with the same content is a duplicate; with different content it is rejected. Re-sending a file
stores nothing new. One call is one ``ingest_batch`` row holding the report.

Monthly accounts (``resident_month``) are computed month by month, each from the month's events
and the previous computed month's cumulative figures, for every resident seen so far (residents
without events in the month keep their cumulative points and level). A month can only be
computed when no earlier events are left unaccounted; recomputing a month also recomputes the
computed months after it, whose cumulative figures depend on it.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Engine

from accounting.readings import Rejection
from accounting.resident_events import RawResidentEvents, validate_events
from accounting.residents import (
    MonthEvents,
    ResidentTables,
    compute_month,
    load_resident_tables,
    month_parameters,
)
from finance_engine.config import Settings
from finance_engine.db import unit_of_work
from finance_engine.services.reference import record_factor_set, resolve_factor_set
from finance_engine.services.residents_formats import read_event_file
from finance_engine.services.residents_store import MonthRows, ResidentStore, resident_transaction
from finance_engine.storage.batches import (
    close_ingest_batch,
    file_sha256,
    first_read,
    open_ingest_batch,
)
from finance_engine.storage.timezones import local_day, zone

CHUNK_ROWS = 1_000_000
REPORT_REJECTIONS = 1000
"""Rejections kept in the stored batch report (all are returned to the caller)."""

Progress = Callable[[int], None]


class ResidentAccountsError(ValueError):
    """A month cannot be computed (earlier events unaccounted, no tables...)."""


@dataclass(frozen=True)
class ResidentIngestReport:
    """The outcome of one ingest call. ``rows == accepted + duplicates + len(rejected)``.

    ``months`` maps ``YYYYMM`` to newly stored events: the months to (re)compute.
    """

    batch_id: int
    source: str
    rows: int
    accepted: int
    duplicates: int
    rejected: tuple[Rejection, ...]
    months: dict[int, int]

    def to_dict(self, limit: int | None = None) -> dict[str, Any]:
        """JSON-ready form (at most ``limit`` rejections listed)."""
        return {
            "batch_id": self.batch_id,
            "source": self.source,
            "rows": self.rows,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected_count": len(self.rejected),
            "rejected": [r.to_dict() for r in self.rejected[:limit]],
            "rejection_reasons": dict(Counter(r.field for r in self.rejected)),
            "months": {str(k): v for k, v in sorted(self.months.items())},
        }


@dataclass
class _Tally:
    rows: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    months: Counter[int] = field(default_factory=Counter)


def local_months(utc_s: np.ndarray[Any, Any], tz_name: str) -> np.ndarray[Any, Any]:
    """``YYYYMM`` (int32) of the local month of each instant."""
    days = local_day(utc_s, zone(tz_name)).astype("datetime64[D]")
    m = days.astype("datetime64[M]").astype(np.int64)
    return ((m // 12 + 1970) * 100 + m % 12 + 1).astype(np.int32)


def _store_chunk(
    engine: Engine,
    raw: RawResidentEvents,
    tables: ResidentTables,
    settings: Settings,
    now_s: int,
    batch_id: int,
    tally: _Tally,
) -> None:
    checked = validate_events(raw, tables, zone(settings.timezone), now_s)
    tally.rejected += checked.rejections
    tally.duplicates += checked.duplicates
    if not len(checked.events):
        return
    months = local_months(checked.events.occurred_at_s, settings.timezone)
    with resident_transaction(engine, lock_events=True) as store:
        stored = store.store_events(checked.events, months, batch_id)
    tally.accepted += stored.inserted
    tally.duplicates += stored.duplicates
    tally.rejected += stored.conflicts
    tally.months.update(stored.months)


def _run(
    engine: Engine,
    settings: Settings,
    chunks: Iterable[tuple[RawResidentEvents, Sequence[Rejection], int]],
    source: str,
    sha256: str,
    now: datetime | None,
    progress: Progress | None,
) -> ResidentIngestReport:
    tables = load_resident_tables()
    now_s = int((now or datetime.now(UTC)).timestamp())
    batch_id = open_ingest_batch(engine, source, sha256)
    tally = _Tally()
    for raw, parse_rejections, records in chunks:
        tally.rows += records
        tally.rejected += parse_rejections
        if len(raw):
            _store_chunk(engine, raw, tables, settings, now_s, batch_id, tally)
        if progress is not None:
            progress(records)
    report = ResidentIngestReport(
        batch_id,
        source,
        tally.rows,
        tally.accepted,
        tally.duplicates,
        tuple(sorted(tally.rejected)),
        dict(tally.months),
    )
    details = report.to_dict(limit=REPORT_REJECTIONS)
    close_ingest_batch(engine, report, {"kind": "resident_events", **details})
    return report


def ingest_resident_arrays(
    engine: Engine,
    raw: RawResidentEvents,
    settings: Settings,
    *,
    source: str = "arrays",
    chunk_rows: int = CHUNK_ROWS,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> ResidentIngestReport:
    """Ingest events held in memory (e.g. the synthetic residents), in chunks of rows.

    ``now`` is the clock for the "in the future" check (default: the current time).
    """
    digest = hashlib.sha256(raw.event_id.tobytes() + raw.quantity.tobytes()).hexdigest()
    chunks = (
        (_take(raw, slice(i, i + chunk_rows)), (), min(chunk_rows, len(raw) - i))
        for i in range(0, len(raw), chunk_rows)
    )
    return _run(engine, settings, chunks, source, digest, now, progress)


def _take(raw: RawResidentEvents, part: slice) -> RawResidentEvents:
    return RawResidentEvents(
        raw.row[part],
        raw.event_id[part],
        raw.resident_id[part],
        raw.occurred_at_s[part],
        raw.behaviour_ref[part],
        raw.behaviour_names,
        raw.quantity[part],
        None if raw.unit_ref is None else raw.unit_ref[part],
        raw.units,
    )


def ingest_resident_file(
    engine: Engine,
    path: Path,
    settings: Settings,
    *,
    fmt: str | None = None,
    source: str = "",
    chunk_rows: int = CHUNK_ROWS,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> ResidentIngestReport:
    """Ingest a CSV or JSON event file (``docs/residents.md``).

    Raises :class:`~finance_engine.storage.formats.FormatError` when the file's structure is
    wrong; bad rows are rejected in the report instead.
    """
    chunks = first_read(
        read_event_file(path, timezone=zone(settings.timezone), fmt=fmt, chunk_rows=chunk_rows)
    )
    return _run(engine, settings, chunks, source or str(path), file_sha256(path), now, progress)


# --------------------------------------------------------------------------- months


def month_key(day: date) -> int:
    """``YYYYMM`` of a date."""
    return day.year * 100 + day.month


def month_first(key: int) -> date:
    """First day of month ``YYYYMM``."""
    if not (1 <= key % 100 <= 12 and 1970 <= key // 100 <= 2199):
        raise ResidentAccountsError(f"month: {key} is not a YYYYMM month")
    return date(key // 100, key % 100, 1)


def _next_month(key: int) -> int:
    return key + 89 if key % 100 == 12 else key + 1


def month_span_s(key: int, tz_name: str) -> tuple[int, int]:
    """``[start, end)`` epoch seconds UTC of local month ``YYYYMM``."""
    tz = zone(tz_name)
    start, end = month_first(key), month_first(_next_month(key))
    as_s = [int(datetime(d.year, d.month, d.day, tzinfo=tz).timestamp()) for d in (start, end)]
    return as_s[0], as_s[1]


@dataclass(frozen=True)
class MonthRun:
    """One computed month: residents and events counted, totals, level counts, versions."""

    month: int
    residents: int
    events: int
    reduction_kg: float
    points: int
    levels: dict[int, int]
    versions: dict[str, str]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {**self.__dict__, "levels": {str(k): v for k, v in self.levels.items()}}


def compute_resident_months(
    engine: Engine,
    settings: Settings,
    months: Sequence[int],
    *,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> list[MonthRun]:
    """Compute the ``YYYYMM`` months (ascending), then recompute computed months after them.

    Months starting after ``now`` are skipped. Raises :class:`ResidentAccountsError` when
    events before the first month are not yet accounted.
    """
    today = (now or datetime.now(UTC)).date()
    wanted = sorted({m for m in months if month_first(m) <= today})
    if not wanted:
        return []
    with resident_transaction(engine) as store:
        later = [m for m in store.computed_months() if m > wanted[0] and m not in wanted]
    runs = []
    for key in sorted(wanted + later):
        runs.append(compute_resident_month(engine, settings, key))
        if progress is not None:
            progress(1)
    return runs


def _check_nothing_unaccounted(
    store: ResidentStore, key: int, previous: int | None, tz: str
) -> None:
    start_s, _ = month_span_s(key, tz)
    since = month_span_s(previous, tz)[1] if previous is not None else -(2**62)
    first_s = store.first_event_s(since, start_s) if since < start_s else None
    if first_s is not None:
        first = int(local_months(np.array([first_s]), tz)[0])
        raise ResidentAccountsError(
            f"events before {key // 100}-{key % 100:02d} are not accounted yet: compute "
            f"{first // 100}-{first % 100:02d} first (or the whole year with --year)"
        )


def _month_inputs(
    store: ResidentStore, key: int, tz: str
) -> tuple[NDArray[np.int64], MonthEvents, NDArray[np.int64], NDArray[np.float64]]:
    """Resident ids seen so far, the month's events indexed into them, previous cumulatives."""
    previous = max([m for m in store.computed_months() if m < key], default=None)
    _check_nothing_unaccounted(store, key, previous, tz)
    empty = [np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)]
    prev_ids, prev_points, prev_g = store.month_state(previous) if previous else empty
    start_s, end_s = month_span_s(key, tz)
    res_id, at_s, behaviour, quantity = store.month_events(start_s, end_s)
    ids: NDArray[np.int64] = np.union1d(prev_ids, res_id)
    at = np.searchsorted(ids, prev_ids)
    points, grams = np.zeros(len(ids), np.int64), np.zeros(len(ids))
    points[at], grams[at] = prev_points, prev_g
    day = local_day(at_s, zone(tz)) - (month_first(key) - date(1970, 1, 1)).days
    events = MonthEvents(
        np.searchsorted(ids, res_id).astype(np.int32),
        day.astype(np.int8),
        behaviour.astype(np.int8),
        quantity,
    )
    return ids, events, points, grams


def compute_resident_month(engine: Engine, settings: Settings, key: int) -> MonthRun:
    """Compute and store month ``YYYYMM`` of every resident seen so far."""
    started = time.perf_counter()
    first = month_first(key)
    with unit_of_work(engine) as session:
        factor_set = resolve_factor_set(session, settings, None, first)
        record_factor_set(session, factor_set)
    params = month_parameters(load_resident_tables(), factor_set, first, settings.grid_region)
    with resident_transaction(engine) as store:
        ids, events, points, grams = _month_inputs(store, key, settings.timezone)
        acc = compute_month(events, len(ids), params, points, grams)
        rows = MonthRows(
            ids,
            acc.reduction_g,
            acc.capped_g,
            acc.points,
            acc.cumulative_points,
            acc.cumulative_reduction_g,
            acc.level,
        )
        store.replace_month(key, rows, list(params.versions.values()))
    return MonthRun(
        key,
        len(ids),
        len(events),
        float(acc.reduction_g.sum()) / 1000,
        int(acc.points.sum()),
        acc.level_counts(),
        params.versions,
        round(time.perf_counter() - started, 3),
    )
