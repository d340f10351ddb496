"""Injected faults with known truth: spikes, flat lines, gaps, counter resets, duplicates.

Faults are placed after a warm-up of :data:`WARMUP_DAYS` (so that every fault has a full alert
baseline before it), in separate two-day segments of each meter's year (so that no two faults of a
meter overlap or touch), and away from segment edges.

========== =================================================== =============================
kind       effect                                              magnitude
========== =================================================== =============================
spike      the meter's quantities × magnitude for 1-8 slots    2-5
flat_line  the value before the start repeated for 16-96 slots 1 (holds that value) or 0
                                                               (stuck at zero)
gap        no data for 2-180 slots (interval meters only)      0
counter_   a cumulative counter restarts from zero at the      0
reset      start of the slot (counters without a rollover
           value only: on those ingest reads a drop as a reset)
duplicate  1-4 consecutive rows sent twice in the raw stream   1 (extra copies)
========== =================================================== =============================

Spikes and flat lines are injected only on consumption meters (not on PV generation meters).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FAULT_KINDS: tuple[str, ...] = ("spike", "flat_line", "gap", "counter_reset", "duplicate")
WARMUP_DAYS = 56
"""No faults in the first 8 weeks: the alert baseline needs up to 8 previous weeks."""
SEGMENT_SLOTS = 192
"""Faults of one meter sit in distinct two-day segments."""
_RATES = {"spike": 4.0, "flat_line": 0.5, "gap": 1.0, "counter_reset": 0.5, "duplicate": 3.0}
"""Mean faults per meter and year by kind (counter resets: 1 + this where allowed)."""


@dataclass(frozen=True, eq=False)
class FaultTable:
    """Injected faults, as columns sorted by meter and start slot.

    Attributes
    ----------
    meter:
        ``(faults,)`` city meter index.
    kind:
        ``(faults,)`` one of :data:`FAULT_KINDS`.
    start_slot:
        ``(faults,)`` first affected slot of the year (slot 0 = local midnight on 1 January).
    length:
        ``(faults,)`` affected slots (rows, for duplicates).
    magnitude:
        ``(faults,)`` see the module table.
    """

    meter: NDArray[np.int64]
    kind: NDArray[np.str_]
    start_slot: NDArray[np.int64]
    length: NDArray[np.int64]
    magnitude: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.meter.size)

    def select(self, mask: NDArray[np.bool_]) -> FaultTable:
        """The faults where ``mask`` is True."""
        return FaultTable(
            self.meter[mask],
            self.kind[mask],
            self.start_slot[mask],
            self.length[mask],
            self.magnitude[mask],
        )

    def of_kind(self, kind: str) -> FaultTable:
        """The faults of one kind."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind: {kind!r} is not one of {', '.join(FAULT_KINDS)}")
        return self.select(self.kind == kind)


def draw_faults(
    rng: np.random.Generator,
    consumption: NDArray[np.bool_],
    cumulative: NDArray[np.bool_],
    resettable: NDArray[np.bool_],
    slots: int,
) -> FaultTable:
    """Draw the faults of every meter (vectorised over meters).

    Parameters
    ----------
    consumption:
        ``(meters,)`` True for consumption meters (spikes and flat lines allowed).
    cumulative:
        ``(meters,)`` True for counter meters (gaps not allowed).
    resettable:
        ``(meters,)`` True for counter meters without a rollover value (resets allowed).
    slots:
        Slots in the year.
    """
    n = consumption.size
    first = WARMUP_DAYS * 96
    segments = (slots - first) // SEGMENT_SLOTS
    allowed = np.stack([consumption, consumption, ~cumulative, resettable, np.ones(n, bool)], 1)
    counts = rng.poisson([_RATES[k] for k in FAULT_KINDS], size=(n, len(FAULT_KINDS)))
    counts[:, 3] += 1
    counts = np.where(allowed, counts, 0)
    counts = _cap(counts, segments)
    per_meter = counts.sum(axis=1)
    meter = np.repeat(np.arange(n), per_meter)
    kind_index = np.repeat(np.tile(np.arange(len(FAULT_KINDS)), n), counts.ravel())
    rank = np.arange(meter.size) - np.repeat(np.cumsum(per_meter) - per_meter, per_meter)
    order = np.argsort(rng.random((n, segments)), axis=1)
    segment = order[meter, rank]
    length = _lengths(rng, kind_index)
    room = SEGMENT_SLOTS - 2 - length
    start = first + segment * SEGMENT_SLOTS + 1 + (rng.random(meter.size) * (room + 1)).astype(int)
    magnitude = _magnitudes(rng, kind_index)
    by_time = np.lexsort((start, meter))
    kinds = np.array(FAULT_KINDS)[kind_index]
    return FaultTable(
        meter[by_time],
        kinds[by_time],
        start[by_time].astype(np.int64),
        length[by_time].astype(np.int64),
        magnitude[by_time],
    )


def _cap(counts: NDArray[np.int64], segments: int) -> NDArray[np.int64]:
    """Scale down rows that need more segments than the year has (only at tiny years)."""
    total = counts.sum(axis=1, keepdims=True)
    over = total > segments
    scaled = np.floor(counts * segments / np.maximum(total, 1)).astype(np.int64)
    out: NDArray[np.int64] = np.where(over, scaled, counts)
    return out


def _lengths(rng: np.random.Generator, kind: NDArray[np.int64]) -> NDArray[np.int64]:
    n = kind.size
    long_gap = rng.random(n) < 0.5
    gap = np.where(long_gap, rng.integers(8, 181, n), rng.integers(2, 8, n))
    by_kind = np.stack(
        [
            rng.integers(1, 9, n),
            rng.integers(16, 97, n),
            gap,
            np.ones(n, int),
            rng.integers(1, 5, n),
        ]
    )
    out: NDArray[np.int64] = by_kind[kind, np.arange(n)]
    return out


def _magnitudes(rng: np.random.Generator, kind: NDArray[np.int64]) -> NDArray[np.float64]:
    n = kind.size
    flat = np.where(rng.random(n) < 0.3, 0.0, 1.0)
    by_kind = np.stack([rng.uniform(2.0, 5.0, n), flat, np.zeros(n), np.zeros(n), np.ones(n)])
    out: NDArray[np.float64] = by_kind[kind, np.arange(n)]
    return out


def ragged_slots(
    start: NDArray[np.int64], length: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Expand runs to (run number, slot) pairs without a Python loop."""
    run = np.repeat(np.arange(start.size), length)
    within = np.arange(run.size) - np.repeat(np.cumsum(length) - length, length)
    return run, start[run] + within


def apply_faults(
    values: NDArray[np.float32], meters: NDArray[np.int64], faults: FaultTable
) -> None:
    """Inject spikes, flat lines and gaps into ``values`` in place.

    Parameters
    ----------
    values:
        ``(len(meters), slots)`` interval quantities of ``meters`` (sorted city indices).
    meters:
        The city meter index of each row.
    """
    inside = np.isin(faults.meter, meters)
    local = faults.select(inside)
    rows = np.searchsorted(meters, local.meter)
    spike, flat, gap = (local.kind == k for k in ("spike", "flat_line", "gap"))
    run, slot = ragged_slots(local.start_slot[spike], local.length[spike])
    values[rows[spike][run], slot] *= local.magnitude[spike][run].astype(np.float32)
    held = values[rows[flat], local.start_slot[flat] - 1] * local.magnitude[flat]
    run, slot = ragged_slots(local.start_slot[flat], local.length[flat])
    values[rows[flat][run], slot] = held[run]
    run, slot = ragged_slots(local.start_slot[gap], local.length[gap])
    values[rows[gap][run], slot] = np.nan
