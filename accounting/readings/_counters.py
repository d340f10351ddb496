"""Cumulative counters -> interval quantities: rollovers, resets, gaps, anchors, revisions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from accounting.readings._model import (
    COUNTER_FLAGS,
    SLOT_S,
    CounterHistory,
    MeterSpec,
    ReadingFlag,
)
from accounting.readings._rejects import Rejects, num


def per_meter(meters: tuple[MeterSpec, ...], name: str) -> NDArray[np.float64]:
    values = [getattr(s, name) for s in meters]
    return np.array([np.nan if v is None else v for v in values] + [np.nan], dtype=np.float64)


@dataclass(frozen=True)
class Counters:
    """Accepted counter readings (positions in the batch, quantities, flags), the positions of
    readings equal to stored ones, and the stored readings to revise."""

    pos: NDArray[np.intp]
    quantity: NDArray[np.float64]
    flags: NDArray[np.int16]
    stored_duplicates: NDArray[np.intp]
    revisions: CounterHistory


@dataclass(frozen=True)
class _Series:
    """Batch (``src`` 0) and stored (``src`` 1) counter readings sorted by meter, interval,
    source; ``j`` indexes the batch arrays or the history."""

    src: NDArray[np.int8]
    j: NDArray[np.intp]
    meter: NDArray[np.intp]
    slot: NDArray[np.int64]
    counter: NDArray[np.float64]

    def select(self, mask: NDArray[np.bool_]) -> _Series:
        return _Series(
            self.src[mask], self.j[mask], self.meter[mask], self.slot[mask], self.counter[mask]
        )


def _merge_history(
    m: NDArray[np.intp],
    slot: NDArray[np.int64],
    counter: NDArray[np.float64],
    history: CounterHistory,
) -> _Series:
    nh = len(history.meter_index)
    src = np.concatenate([np.zeros(len(m), np.int8), np.ones(nh, np.int8)])
    j = np.concatenate([np.arange(len(m)), np.arange(nh)])
    mm = np.concatenate([m, history.meter_index]).astype(np.intp)
    ss = np.concatenate([slot, history.interval_start_s // SLOT_S])
    cc = np.concatenate([counter, history.counter_value])
    order = np.lexsort((src, ss, mm))
    return _Series(src[order], j[order], mm[order], ss[order], cc[order])


def difference_counters(
    meters: tuple[MeterSpec, ...],
    m: NDArray[np.intp],
    slot: NDArray[np.int64],
    counter: NDArray[np.float64],
    flags: NDArray[np.int16],
    pos: NDArray[np.intp],
    history: CounterHistory,
    rej: Rejects,
) -> Counters:
    """Counter readings (one per meter and interval) -> interval quantities (module rule 5)."""
    s = _merge_history(m, slot, counter, history)
    s, stored_duplicates = _drop_stored_twins(s, pos, rej)
    has_prev = np.zeros(len(s.src), dtype=bool)
    has_prev[1:] = s.meter[1:] == s.meter[:-1]
    k = s.slot - np.append(s.slot[:1], s.slot[:-1])
    delta, new_flags = _deltas(s, has_prev, k, per_meter(meters, "counter_rollover"))
    rated = per_meter(meters, "rated_max_per_interval")[s.meter]
    implausible = (s.src == 0) & has_prev & (delta > rated * k)
    rej.add_at(
        pos[s.j[implausible]],
        "quantity",
        [
            f"{num(d)} {meters[mi].unit}{f' over {kk} intervals' if kk > 1 else ''} above the "
            f"meter's rated maximum {num(r)} per interval"
            for d, mi, kk, r in zip(
                delta[implausible].tolist(),
                s.meter[implausible].tolist(),
                k[implausible].tolist(),
                rated[implausible].tolist(),
                strict=True,
            )
        ],
    )
    accepted = (s.src == 0) & ~implausible
    return Counters(
        pos=pos[s.j[accepted]],
        quantity=delta[accepted],
        flags=(flags[s.j[accepted]] | new_flags[accepted]).astype(np.int16),
        stored_duplicates=stored_duplicates,
        revisions=_revisions(history, s, has_prev, implausible, delta, new_flags),
    )


def _drop_stored_twins(
    s: _Series, pos: NDArray[np.intp], rej: Rejects
) -> tuple[_Series, NDArray[np.intp]]:
    """Remove batch readings of an interval already stored: equal counters are duplicates
    (their batch positions are returned), different ones are rejected."""
    twin = np.zeros(len(s.src), dtype=bool)
    twin[:-1] = (s.src[:-1] == 0) & (s.meter[:-1] == s.meter[1:]) & (s.slot[:-1] == s.slot[1:])
    stored_value = np.append(s.counter[1:], np.nan)
    same = twin & (s.counter == stored_value)
    clash = twin & ~same
    rej.add_at(
        pos[s.j[clash]],
        "quantity",
        [
            f"counter {num(a)} conflicts with the stored counter {num(b)} for this interval"
            for a, b in zip(s.counter[clash].tolist(), stored_value[clash].tolist(), strict=True)
        ],
    )
    return s.select(~twin), pos[s.j[same]]


def _deltas(
    s: _Series,
    has_prev: NDArray[np.bool_],
    k: NDArray[np.int64],
    rollover_per_meter: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.int16]]:
    """Interval quantity and counter flags of each reading of the merged series."""
    prev = np.append(np.nan, s.counter[:-1])
    delta = s.counter - prev
    rollover = rollover_per_meter[s.meter]
    drop = has_prev & (delta < 0)
    rolled, reset = drop & np.isfinite(rollover), drop & ~np.isfinite(rollover)
    delta = np.where(rolled, rollover - prev + s.counter, np.where(reset, s.counter, delta))
    flags = (
        np.where(has_prev & (k > 1), ReadingFlag.SPANS_GAP.value, 0)
        | np.where(rolled, ReadingFlag.COUNTER_ROLLOVER.value, 0)
        | np.where(reset, ReadingFlag.COUNTER_RESET.value, 0)
        | np.where(has_prev, 0, ReadingFlag.ANCHOR.value)
    ).astype(np.int16)
    return np.where(has_prev, delta, 0.0), flags


def _revisions(
    history: CounterHistory,
    s: _Series,
    has_prev: NDArray[np.bool_],
    implausible: NDArray[np.bool_],
    delta: NDArray[np.float64],
    new_flags: NDArray[np.int16],
) -> CounterHistory:
    """Stored readings whose quantity or counter flags change now that their predecessor moved.

    A stored reading whose new predecessor was rejected as implausible keeps its stored value.
    """
    after_rejected = np.append(False, implausible[:-1])
    stored = (s.src == 1) & has_prev & ~after_rejected
    h = s.j[stored]
    flags = (history.flags[h] & ~np.int16(COUNTER_FLAGS.value)) | new_flags[stored]
    changed = (delta[stored] != history.quantity[h]) | (flags != history.flags[h])
    h = h[changed]
    return CounterHistory(
        meter_index=history.meter_index[h],
        interval_start_s=history.interval_start_s[h],
        counter_value=history.counter_value[h],
        quantity=delta[stored][changed],
        flags=flags[changed].astype(np.int16),
    )
