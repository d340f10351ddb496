"""Row rules of :func:`validate_readings`: meters, units, grid, values, duplicates, gaps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from accounting.energy import EnergyType, to_native
from accounting.readings._counters import Counters, difference_counters, per_meter
from accounting.readings._model import (
    MAX_TIMESTAMP_S,
    SLOT_BITS,
    SLOT_S,
    CounterHistory,
    Gap,
    MeterSpec,
    RawReadings,
    ReadingFlag,
    ReadingKind,
    ValidatedBatch,
)
from accounting.readings._rejects import Rejects, num


def validate_readings(
    raw: RawReadings,
    meters: Sequence[MeterSpec],
    snap_tolerance_s: int,
    *,
    history: CounterHistory | None = None,
) -> ValidatedBatch:
    """Validate and clean a batch of raw readings (rules in the module docstring).

    Parameters
    ----------
    raw:
        The batch.
    meters:
        The meters readings may name; accepted readings refer to them by index.
    snap_tolerance_s:
        Largest distance from the 15-minute grid, seconds, that is snapped rather than rejected.
    history:
        Stored counter readings of the batch's cumulative meters; without it each cumulative
        meter's first reading is an anchor.
    """
    meters = tuple(meters)
    rej = Rejects(raw.row)
    rows = _row_rules(raw, meters, snap_tolerance_s, rej)
    keep, duplicates = _dedupe(rows.m, rows.slot, rows.value, rej)
    cum = keep[rows.is_cum[keep]]
    counters = difference_counters(
        meters,
        rows.m[cum],
        rows.slot[cum],
        rows.value[cum],
        rows.flags[cum],
        cum,
        history or CounterHistory(),
        rej,
    )
    return _assemble(raw, meters, rows, keep[~rows.is_cum[keep]], counters, duplicates, rej)


@dataclass(frozen=True)
class _Rows:
    """Per raw row: meter index (-1 unknown), value in the meter's unit, flags so far, interval
    slot (epoch seconds // 900 of the interval start) and whether the meter is cumulative."""

    m: NDArray[np.intp]
    value: NDArray[np.float64]
    flags: NDArray[np.int16]
    slot: NDArray[np.int64]
    is_cum: NDArray[np.bool_]


def _row_rules(
    raw: RawReadings, meters: tuple[MeterSpec, ...], tolerance_s: int, rej: Rejects
) -> _Rows:
    """Rules that look at one row at a time: meter, unit, value, timestamp, grid."""
    m = _resolve_meters(raw, meters, rej)
    value, flags = _convert_units(raw, meters, m, rej)
    rej.add(~np.isfinite(value), "quantity", lambda i: "not a finite number")
    t = raw.timestamp_s
    rej.add((t < SLOT_S) | (t >= MAX_TIMESTAMP_S), "timestamp", lambda i: "outside 1970-2199")
    offset = np.remainder(t, SLOT_S)
    offset = np.where(offset > SLOT_S // 2, offset - SLOT_S, offset)
    rej.add(
        np.abs(offset) > tolerance_s,
        "timestamp",
        lambda i: f"{abs(int(offset[i]))} s off the 15-minute grid (tolerance {tolerance_s} s)",
    )
    flags |= np.where(offset != 0, ReadingFlag.SNAPPED.value, 0).astype(np.int16)
    cumulative = np.array([s.reading_kind is ReadingKind.CUMULATIVE for s in meters] + [False])
    is_cum = cumulative[m]
    _check_values(meters, m, value, is_cum, rej)
    slot = (t - offset) // SLOT_S - is_cum  # a counter read at t closes the interval before t
    return _Rows(m, value, flags, slot, is_cum)


def _assemble(
    raw: RawReadings,
    meters: tuple[MeterSpec, ...],
    rows: _Rows,
    interval_pos: NDArray[np.intp],
    counters: Counters,
    duplicates: int,
    rej: Rejects,
) -> ValidatedBatch:
    """Accepted interval and counter readings, sorted by meter and interval, and the report."""
    pos = np.concatenate([interval_pos, counters.pos])
    qty = np.concatenate([rows.value[interval_pos], counters.quantity])
    counter = np.concatenate([np.full(len(interval_pos), np.nan), rows.value[counters.pos]])
    flags = np.concatenate([rows.flags[interval_pos], counters.flags]).astype(np.int16)
    key = (rows.m[pos].astype(np.int64) << SLOT_BITS) | rows.slot[pos]
    order = np.argsort(key, kind="stable")
    pos, qty, counter, flags = pos[order], qty[order], counter[order], flags[order]
    present = np.concatenate([pos, counters.stored_duplicates])
    return ValidatedBatch(
        meters=meters,
        rows=len(raw),
        row=raw.row[pos],
        meter_index=rows.m[pos].astype(np.int32),
        interval_start_s=rows.slot[pos] * SLOT_S,
        quantity=qty,
        counter_value=counter,
        flags=flags,
        rejections=tuple(sorted(rej.items)),
        duplicates=duplicates + len(counters.stored_duplicates),
        gaps=_gaps(meters, rows.m[present], rows.slot[present]),
        revisions=counters.revisions,
    )


def _resolve_meters(
    raw: RawReadings, meters: tuple[MeterSpec, ...], rej: Rejects
) -> NDArray[np.intp]:
    """Index of each row's meter in ``meters``; -1 for a missing or unknown meter."""
    index = {s.code: i for i, s in enumerate(meters)}
    lookup = np.array([index.get(c, -1) for c in raw.meter_codes] + [-1], dtype=np.intp)
    blank = np.array([c == "" for c in raw.meter_codes] + [True])
    m = lookup[raw.meter_ref]
    rej.add(blank[raw.meter_ref], "meter", lambda i: "missing")
    rej.add(m < 0, "meter", lambda i: f"unknown meter {raw.meter_codes[raw.meter_ref[i]]!r}")
    return m


def unit_scale(spec: MeterSpec, unit: str) -> float:
    """Factor converting a quantity in ``unit`` to ``spec.unit``; ``ValueError`` if it cannot."""
    if unit == spec.unit:
        return 1.0
    if spec.energy_type is EnergyType.STEAM and {unit, spec.unit} <= {"t", "GJ"}:
        raise ValueError(
            f"{unit!r} cannot be converted to the meter's {spec.unit!r} "
            "(steam t and GJ convert only with the enthalpy)"
        )
    try:
        return to_native(spec.energy_type, 1.0, unit) / to_native(spec.energy_type, 1.0, spec.unit)
    except ValueError as exc:
        raise ValueError(str(exc).removeprefix("unit ")) from None


def _convert_units(
    raw: RawReadings, meters: tuple[MeterSpec, ...], m: NDArray[np.intp], rej: Rejects
) -> tuple[NDArray[np.float64], NDArray[np.int16]]:
    """Quantities in each meter's unit, and the ``UNIT_CONVERTED`` flag where they changed."""
    flags = np.zeros(len(raw), dtype=np.int16)
    if raw.unit_ref is None:
        return raw.quantity.copy(), flags
    given = (raw.unit_ref >= 0) & (m >= 0)
    pair = m * (len(raw.units) + 1) + raw.unit_ref
    distinct, inverse = np.unique(pair[given], return_inverse=True)
    scales = np.ones(len(distinct))
    problems: dict[int, str] = {}
    for j, p in enumerate(distinct.tolist()):
        spec, unit = meters[p // (len(raw.units) + 1)], raw.units[p % (len(raw.units) + 1)]
        try:
            scales[j] = unit_scale(spec, unit)
        except ValueError as exc:
            scales[j], problems[j] = np.nan, str(exc)
    scale = np.ones(len(raw))
    scale[given] = scales[inverse]
    which = np.full(len(raw), -1)
    which[given] = inverse
    rej.add(np.isnan(scale), "unit", lambda i: problems[int(which[i])])
    flags[given & (scale != 1.0)] = ReadingFlag.UNIT_CONVERTED.value
    return raw.quantity * np.nan_to_num(scale, nan=1.0), flags


def _check_values(
    meters: tuple[MeterSpec, ...],
    m: NDArray[np.intp],
    value: NDArray[np.float64],
    is_cum: NDArray[np.bool_],
    rej: Rejects,
) -> None:
    """Reject negative and implausible interval values, negative or wrapped counters."""
    units = [s.unit for s in meters] + [""]
    rated, rollover = (
        per_meter(meters, "rated_max_per_interval")[m],
        per_meter(meters, "counter_rollover")[m],
    )
    rej.add(~is_cum & (value < 0), "quantity", lambda i: f"negative ({num(value[i])})")
    rej.add(
        ~is_cum & (value > rated),
        "quantity",
        lambda i: (
            f"{num(value[i])} {units[m[i]]} above the meter's rated maximum "
            f"{num(rated[i])} per interval"
        ),
    )
    rej.add(is_cum & (value < 0), "quantity", lambda i: f"negative counter ({num(value[i])})")
    rej.add(
        is_cum & (value >= rollover),
        "quantity",
        lambda i: (
            f"counter {num(value[i])} at or above the meter's rollover value {num(rollover[i])}"
        ),
    )


def _dedupe(
    m: NDArray[np.intp], slot: NDArray[np.int64], value: NDArray[np.float64], rej: Rejects
) -> tuple[NDArray[np.intp], int]:
    """Rows to keep (one per meter and interval, sorted by both) and the duplicate count.

    Rows sharing a meter and interval with equal values are one reading; with differing values
    all of them are rejected.
    """
    index = np.flatnonzero(~rej.mask)
    key = (m[index].astype(np.int64) << SLOT_BITS) | slot[index]
    if len(key) < 2 or bool(np.all(key[1:] > key[:-1])):
        return index, 0
    order = np.lexsort((value[index], key))
    index, key, vals = index[order], key[order], value[index][order]
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    starts = np.flatnonzero(first)
    ends = np.append(starts[1:], len(key)) - 1
    conflicted = vals[starts] != vals[ends]
    rows = rej.rows
    reasons: dict[int, str] = {}
    for s, e in zip(starts[conflicted].tolist(), ends[conflicted].tolist(), strict=True):
        for p in range(s, e + 1):
            other = min(
                (q for q in range(s, e + 1) if vals[q] != vals[p]), key=lambda q: rows[index[q]]
            )
            reasons[int(index[p])] = (
                f"conflicts with row {rows[index[other]]} ({num(vals[p])} vs {num(vals[other])})"
            )
    conflict = conflicted[np.cumsum(first) - 1]
    flagged = np.zeros(len(rej.mask), dtype=bool)
    flagged[index[conflict]] = True
    rej.add(flagged, "duplicate", lambda i: reasons[i])
    duplicates = int(np.count_nonzero(~first & ~conflict))
    return index[first & ~conflict], duplicates


def _gaps(
    meters: tuple[MeterSpec, ...], m: NDArray[np.intp], slot: NDArray[np.int64]
) -> tuple[Gap, ...]:
    """Runs of missing intervals between each meter's first and last interval present."""
    key = np.sort((m.astype(np.int64) << SLOT_BITS) | slot)  # cheap on sorted input
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    key = key[first]
    mk, sk = key >> SLOT_BITS, key & ((1 << SLOT_BITS) - 1)
    hole = np.flatnonzero((mk[1:] == mk[:-1]) & (sk[1:] - sk[:-1] > 1))
    return tuple(
        Gap(meters[mi].code, (s0 + 1) * SLOT_S, s1 * SLOT_S)
        for mi, s0, s1 in zip(
            mk[hole].tolist(), sk[hole].tolist(), sk[hole + 1].tolist(), strict=True
        )
    )
