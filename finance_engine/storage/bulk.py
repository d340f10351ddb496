"""Store a validated batch: classify against stored rows, insert, revise, recompute rollups.

Runs inside one :func:`~finance_engine.storage.readings.bulk_transaction`, whose meter locks make
every step exact (see that module). The classification and the daily sums are numpy over the
batch and over the stored rows of the local days the batch touches; the databases only do what
they are fast at (bulk writes and index range reads).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from accounting.readings import (
    SLOT_S,
    CounterHistory,
    MeterSpec,
    RawReadings,
    ReadingFlag,
    ReadingKind,
    Rejection,
    ValidatedBatch,
)
from finance_engine.storage.readings import MeterRanges, ReadingRows, ReadingStore
from finance_engine.storage.timezones import day_span_s, local_day

_KEY_BITS = 32  # key = meter_id << 32 | interval slot (slots stay below 2**23)
_MERGE_DAYS = 31  # touched days of a meter closer than this are fetched as one range


@dataclass(frozen=True)
class StoreOutcome:
    """What storing a validated batch did.

    Attributes
    ----------
    inserted:
        Readings newly stored.
    duplicates:
        Accepted readings already stored with the same values.
    conflicts:
        Accepted readings whose interval is stored with a different value (not stored).
    revised:
        Stored counter readings whose quantity was recomputed.
    rollups:
        Daily rollup rows written.
    meter_ids, start_s, end_s:
        Meters with newly stored readings and the span ``[start_s, end_s)`` (epoch seconds UTC)
        of those readings; ``start_s == end_s == 0`` when nothing was stored.
    """

    inserted: int
    duplicates: int
    conflicts: tuple[Rejection, ...]
    revised: int
    rollups: int
    meter_ids: tuple[int, ...]
    start_s: int
    end_s: int


def _keys(meter_id: NDArray[np.int64], interval_start_s: NDArray[np.int64]) -> NDArray[np.int64]:
    return (meter_id << _KEY_BITS) | (interval_start_s // SLOT_S)


def _lookup(keys: NDArray[np.int64], among: NDArray[np.int64]) -> NDArray[np.intp]:
    """Position of each of ``keys`` in ``among`` (any order), -1 where absent."""
    if not len(among):
        return np.full(len(keys), -1, dtype=np.intp)
    order = np.argsort(among, kind="stable")
    at = np.searchsorted(among[order], keys)
    found = at < len(among)
    found[found] = among[order][at[found]] == keys[found]
    return np.where(found, order[np.minimum(at, len(among) - 1)], -1)


def classify(new: ReadingRows, stored: ReadingRows) -> tuple[NDArray[np.bool_], NDArray[np.intp]]:
    """Which accepted rows are not stored yet, and the stored row each one matches (-1: none).

    A matched row is a duplicate when quantity and counter are equal (NaN counters equal each
    other), otherwise a conflict.
    """
    at = _lookup(
        _keys(new.meter_id, new.interval_start_s), _keys(stored.meter_id, stored.interval_start_s)
    )
    return at < 0, at


def daily_totals(
    meter_id: NDArray[np.int64],
    day: NDArray[np.int64],
    quantity: NDArray[np.float64],
    counted: NDArray[np.bool_],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
    """Sum ``quantity`` and count ``counted`` rows per (meter, day): ids, days, sums, counts."""
    key = (meter_id << _KEY_BITS) | day
    if len(key) and bool(np.all(key[1:] >= key[:-1])):  # the usual case: rows in key order
        first = np.r_[True, key[1:] != key[:-1]]
        groups, inverse = key[first], np.cumsum(first) - 1
    else:
        groups, inverse = np.unique(key, return_inverse=True)
    sums = np.bincount(inverse, weights=quantity, minlength=len(groups)).astype(np.float64)
    counts = np.bincount(inverse, weights=counted, minlength=len(groups)).astype(np.int64)
    ids: NDArray[np.int64] = groups >> _KEY_BITS
    days: NDArray[np.int64] = groups & ((1 << _KEY_BITS) - 1)
    return ids, days, sums, counts


def touched_ranges(
    meter_id: NDArray[np.int64], day: NDArray[np.int64], tz: ZoneInfo
) -> MeterRanges:
    """UTC ranges covering the local days touched per meter (nearby days merged)."""
    key = np.unique((meter_id << _KEY_BITS) | day)
    m, d = key >> _KEY_BITS, key & ((1 << _KEY_BITS) - 1)
    starts = np.flatnonzero(np.r_[True, (m[1:] != m[:-1]) | (d[1:] - d[:-1] > _MERGE_DAYS)])
    ends = np.r_[starts[1:], len(key)] - 1
    spans = [
        day_span_s(a, b, tz) for a, b in zip(d[starts].tolist(), d[ends].tolist(), strict=True)
    ]
    return MeterRanges(
        m[starts],
        np.array([s for s, _ in spans], dtype=np.int64),
        np.array([e for _, e in spans], dtype=np.int64),
    )


def _conflicts(
    batch: ValidatedBatch, new: ReadingRows, stored: ReadingRows, at: NDArray[np.intp]
) -> tuple[NDArray[np.bool_], tuple[Rejection, ...]]:
    matched = at >= 0
    sq = np.append(stored.quantity, np.nan)[at]  # at == -1 picks the NaN
    sc = np.append(stored.counter_value, np.nan)[at]
    same = (sq == new.quantity) & (
        (sc == new.counter_value) | (np.isnan(sc) & np.isnan(new.counter_value))
    )
    conflict = matched & ~same
    rejections = tuple(
        Rejection(r, "quantity", f"{q!r} conflicts with the stored value {s!r} for this interval")
        for r, q, s in zip(
            batch.row[conflict].tolist(),
            new.quantity[conflict].tolist(),
            sq[conflict].tolist(),
            strict=True,
        )
    )
    return matched & same, rejections


def store_validated(
    store: ReadingStore,
    batch: ValidatedBatch,
    meter_ids: NDArray[np.int64],
    tz: ZoneInfo,
    batch_id: int,
) -> StoreOutcome:
    """Store ``batch`` (its ``meter_index`` refers to ``meter_ids``) and refresh the rollups."""
    new = ReadingRows(
        meter_ids[batch.meter_index],
        batch.interval_start_s,
        batch.quantity,
        batch.counter_value,
        batch.flags,
    )
    rev = batch.revisions
    revised = ReadingRows(
        meter_ids[rev.meter_index], rev.interval_start_s, rev.quantity, rev.counter_value, rev.flags
    )
    both = [new, revised]
    days = [local_day(r.interval_start_s, tz) for r in both]
    all_ids, all_days = np.concatenate([r.meter_id for r in both]), np.concatenate(days)
    if not len(all_ids):
        return StoreOutcome(0, 0, (), 0, 0, (), 0, 0)
    stored = store.fetch(touched_ranges(all_ids, all_days, tz))
    is_new, at = classify(new, stored)
    duplicate, conflicts = _conflicts(batch, new, stored, at)
    fresh = new.take(is_new)
    store.insert(fresh, batch_id)
    store.revise(revised)
    rollups = _refresh_rollups(store, stored, fresh, revised, (all_ids << _KEY_BITS) | all_days, tz)
    ids = tuple(int(i) for i in np.unique(fresh.meter_id))
    span = (
        (int(fresh.interval_start_s.min()), int(fresh.interval_start_s.max()) + SLOT_S)
        if len(fresh)
        else (0, 0)
    )
    return StoreOutcome(
        len(fresh), int(duplicate.sum()), conflicts, len(revised), rollups, ids, *span
    )


def _refresh_rollups(
    store: ReadingStore,
    stored: ReadingRows,
    fresh: ReadingRows,
    revised: ReadingRows,
    touched: NDArray[np.int64],
    tz: ZoneInfo,
) -> int:
    """Recompute the touched (meter, day) rollups from stored (revised) plus new rows."""
    quantity, flags = stored.quantity.copy(), stored.flags.copy()
    at = _lookup(
        _keys(revised.meter_id, revised.interval_start_s),
        _keys(stored.meter_id, stored.interval_start_s),
    )
    quantity[at[at >= 0]], flags[at[at >= 0]] = revised.quantity[at >= 0], revised.flags[at >= 0]
    meter_id = np.concatenate([stored.meter_id, fresh.meter_id])
    day = local_day(np.concatenate([stored.interval_start_s, fresh.interval_start_s]), tz)
    keep = np.ones(len(meter_id), dtype=bool)  # new rows are on touched days by definition
    keep[: len(stored)] = np.isin(
        (meter_id[: len(stored)] << _KEY_BITS) | day[: len(stored)], touched
    )
    quantity = np.concatenate([quantity, fresh.quantity])[keep]
    flags = np.concatenate([flags, fresh.flags])[keep]
    counted = (flags & ReadingFlag.ANCHOR.value) == 0
    ids, days, sums, counts = daily_totals(meter_id[keep], day[keep], quantity, counted)
    store.upsert_rollups(ids, days, sums, counts)
    return len(ids)


def load_counter_history(
    store: ReadingStore,
    raw: RawReadings,
    specs: list[MeterSpec],
    ids: NDArray[np.int64],
    tolerance_s: int,
) -> CounterHistory | None:
    """Stored counter readings around ``raw`` for its cumulative meters (None if it has none).

    ``specs`` are the locked meters and ``ids`` their meter ids; the span searched per meter
    is widened by the snap tolerance.
    """
    cumulative = np.array([s.reading_kind is ReadingKind.CUMULATIVE for s in specs], dtype=bool)
    if not cumulative.any():
        return None
    index = {s.code: i for i, s in enumerate(specs)}
    lookup = np.array([index.get(c, -1) for c in raw.meter_codes] + [-1], dtype=np.intp)
    m = lookup[raw.meter_ref]
    rows = (m >= 0) & np.append(cumulative, False)[m]
    lo = np.full(len(specs), np.iinfo(np.int64).max)
    hi = np.full(len(specs), np.iinfo(np.int64).min)
    np.minimum.at(lo, m[rows], raw.timestamp_s[rows])
    np.maximum.at(hi, m[rows], raw.timestamp_s[rows])
    present = np.flatnonzero(hi >= lo)
    stored = store.counter_history(
        MeterRanges(
            ids[present], lo[present] - SLOT_S - tolerance_s, hi[present] - SLOT_S + tolerance_s
        )
    )
    position = {int(i): p for p, i in enumerate(ids.tolist())}
    return CounterHistory(
        meter_index=np.array([position[int(i)] for i in stored.meter_id.tolist()], dtype=np.int32),
        interval_start_s=stored.interval_start_s,
        counter_value=stored.counter_value,
        quantity=stored.quantity,
        flags=stored.flags,
    )


def chunks_by_meter(raw: RawReadings, chunk_rows: int) -> Iterator[RawReadings]:
    """Split into chunks of about ``chunk_rows`` rows, never splitting a meter's rows."""
    if len(raw) <= chunk_rows:
        yield raw
        return
    ref = raw.meter_ref
    order = (
        np.arange(len(raw)) if bool(np.all(ref[1:] >= ref[:-1])) else np.argsort(ref, kind="stable")
    )
    starts = np.flatnonzero(np.r_[True, ref[order][1:] != ref[order][:-1]])
    cuts = np.unique(
        starts[
            np.minimum(
                np.searchsorted(starts, np.arange(chunk_rows, len(raw), chunk_rows)),
                len(starts) - 1,
            )
        ]
    )
    bounds = [0, *[int(c) for c in cuts if c > 0], len(raw)]
    for a, b in itertools.pairwise(bounds):
        if b > a:
            yield raw.take(order[a:b])
