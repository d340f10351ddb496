"""Abnormal-use and data alerts on dense 15-minute interval arrays, vectorised over meters.

Input is ``quantity[meter, slot]`` (float, ``NaN`` = not received) on a regular 15-minute grid
that starts at ``start_s`` (epoch seconds, UTC, on the grid). Rules (thresholds from the
versioned file loaded by :func:`load_alert_config`):

- **baseline**: for each meter and slot, the median and the MAD of the same slot 1, 2, ...,
  ``baseline_weeks`` weeks earlier (672 slots per week). In a zone without daylight saving time
  (Asia/Shanghai) a whole-week lag is exactly the same local weekday and time of day, so the
  baseline never mixes weekdays or slots.
- **over-consumption**: actual > median + k·1.4826·MAD', actual > median × (1 + min_rel) and
  actual − median ≥ floor × the meter's typical interval quantity. MAD' is the slot's MAD, but
  at least the meter's pooled relative MAD (median over slots of MAD ÷ median) × the slot's
  median: a MAD from six values is sometimes near zero by chance.
- **flat line**: one non-zero value repeated for ≥ N intervals, or zero for ≥ N intervals where
  the baseline is clearly non-zero.
- **counter reset**: intervals flagged by ingest (``reset_mask``).
- **gap**: ≥ M consecutive missing intervals after the meter's first received value in the
  loaded window (before it nothing is known: the meter may not have existed yet).

Consecutive flagged intervals of one kind on one meter merge into one alert (run detection with
``np.diff`` on the padded mask). Only the building of the (few) alert records loops in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from accounting.alert_baseline import (
    INTERVAL_S,
    REST_DAY,
    SLOTS_PER_DAY,
    SLOTS_PER_WEEK,
    WORKING_DAY,
    DayCalendar,
    pooled_relative_mad,
    weekly_baseline,
)
from accounting.alert_config import (
    DEFAULT_ALERT_CONFIG_PATH,
    AlertConfig,
    AlertConfigError,
    Severity,
    SeverityCuts,
    load_alert_config,
)

__all__ = [
    "DEFAULT_ALERT_CONFIG_PATH",
    "INTERVAL_S",
    "REST_DAY",
    "SLOTS_PER_DAY",
    "SLOTS_PER_WEEK",
    "WORKING_DAY",
    "AlertConfig",
    "AlertConfigError",
    "AlertKind",
    "DayCalendar",
    "MeterAlert",
    "Severity",
    "SeverityCuts",
    "detect_alerts",
    "load_alert_config",
    "pooled_relative_mad",
    "weekly_baseline",
]

MAD_TO_SIGMA = 1.4826
"""Scales a median absolute deviation to a normal standard deviation."""

Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]
Ints = NDArray[np.int64]


class AlertKind(StrEnum):
    """What an alert is about. The value is the stable code stored in the database."""

    OVER_CONSUMPTION = "over_consumption"
    FLAT_LINE = "flat_line"
    COUNTER_RESET = "counter_reset"
    GAP = "gap"


@dataclass(frozen=True)
class MeterAlert:
    """One alert: a run of flagged intervals of one kind on one meter.

    Attributes
    ----------
    meter_index:
        Row of the input array.
    kind, severity:
        What and how urgent.
    start_slot, end_slot:
        The run's slots in the input array, ``end_slot`` exclusive.
    interval_start_s, interval_end_s:
        The same as epoch seconds (UTC); the end is the end of the last interval.
    expected:
        The baseline: sum of the baseline medians over the run (native unit of the meter), or
        None where no baseline exists.
    actual:
        Sum of the received quantities over the run (native unit), or None for a gap.
    message:
        One line for a human, with the local weekday and time of the start.
    """

    meter_index: int
    kind: AlertKind
    severity: Severity
    start_slot: int
    end_slot: int
    interval_start_s: int
    interval_end_s: int
    expected: float | None
    actual: float | None
    message: str

    @property
    def intervals(self) -> int:
        """Length of the run, intervals."""
        return self.end_slot - self.start_slot


def _runs(mask: Bools) -> tuple[Ints, Ints, Ints]:
    """Runs of True in each row of ``mask``: (row, start, end exclusive), row-major order."""
    meters, slots = mask.shape
    padded = np.zeros((meters, slots + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    step = np.diff(padded, axis=1)
    rows, starts = np.nonzero(step == 1)
    _, ends = np.nonzero(step == -1)
    return rows.astype(np.int64), starts.astype(np.int64), ends.astype(np.int64)


@dataclass(frozen=True)
class _Runs:
    """Runs of one kind, as columns, in slots of the full input array."""

    kind: AlertKind
    rows: Ints
    starts: Ints
    ends: Ints


def _long_runs(kind: AlertKind, mask: Bools, min_len: int, offset: int = 0) -> _Runs:
    rows, starts, ends = _runs(mask)
    keep = ends - starts >= min_len
    return _Runs(kind, rows[keep], starts[keep] + offset, ends[keep] + offset)


def _flat_runs(q: Floats, min_len: int, eval_from: int) -> _Runs:
    """Runs of one non-zero value repeated ≥ ``min_len`` times that reach the evaluated slots."""
    same = np.zeros(q.shape, dtype=np.bool_)
    same[:, 1:] = (q[:, 1:] == q[:, :-1]) & (q[:, 1:] != 0)  # NaN never equals NaN
    rows, starts, ends = _runs(same)
    starts = starts - 1  # the first value of the run is the one the repeats equal
    keep = (ends - starts >= min_len) & (ends > eval_from)
    return _Runs(AlertKind.FLAT_LINE, rows[keep], starts[keep], ends[keep])


def detect_alerts(
    quantity: NDArray[np.floating],
    start_s: int,
    config: AlertConfig,
    *,
    eval_from_slot: int = 0,
    reset_mask: NDArray[np.bool_] | None = None,
    over_consumption_meters: NDArray[np.bool_] | None = None,
    utc_offset_s: int = 8 * 3600,
    day_kind: NDArray[np.int8] | None = None,
) -> list[MeterAlert]:
    """Find alerts in slots ``[eval_from_slot, slots)`` of ``quantity``.

    Parameters
    ----------
    quantity:
        ``(meters, slots)`` interval quantities, native unit of each meter; ``NaN`` = missing.
        Slots before ``eval_from_slot`` are history (the baseline reads them).
    start_s:
        Epoch seconds (UTC) of the start of slot 0; must lie on the 15-minute grid.
    config:
        Thresholds (:func:`load_alert_config`).
    eval_from_slot:
        First slot to raise alerts for. Flat-line and gap runs that began earlier but reach
        the evaluated slots are reported with their true start (stable keys on re-evaluation).
    reset_mask:
        ``(meters, slots)`` True where ingest flagged a counter reset.
    over_consumption_meters:
        ``(meters,)`` False for meters that measure generation (no over-consumption rule).
    utc_offset_s:
        Local time offset (seconds east of UTC): maps slots to local days and names local times
        in messages. It must be fixed over the array (true of Asia/Shanghai, which has no
        daylight saving time), so a whole-week lag is the same local weekday and time.
    day_kind:
        Optional ``(days,)`` ``WORKING_DAY``/``REST_DAY`` for each local day the array touches
        (from the day of slot 0): the baseline then compares working days with working days and
        rest days with rest days (see :func:`weekly_baseline`).

    Returns
    -------
    list of MeterAlert
        Sorted by meter, start slot and kind.
    """
    q = np.asarray(quantity, dtype=np.float64)
    _check_inputs(q, start_s, eval_from_slot, reset_mask, over_consumption_meters)
    calendar = None if day_kind is None else DayCalendar.for_grid(day_kind, start_s, utc_offset_s)
    median, mad = weekly_baseline(
        q, eval_from_slot, config.baseline_weeks, config.min_weeks_present, calendar
    )
    actual = q[:, eval_from_slot:]
    with np.errstate(invalid="ignore"):
        typical = _typical(median)
        over = _over_mask(actual, median, mad, typical, config)
        zero = (actual == 0) & (median >= config.zero_baseline_min_fraction_of_typical * typical)
    if over_consumption_meters is not None:
        over &= np.asarray(over_consumption_meters, dtype=np.bool_)[:, None]
    gaps = _leading_trimmed(np.isnan(q))
    groups = [
        _long_runs(AlertKind.OVER_CONSUMPTION, over, 1, eval_from_slot),
        _flat_runs(q, config.flat_line_min_intervals, eval_from_slot),
        _long_runs(AlertKind.FLAT_LINE, zero, config.zero_min_intervals, eval_from_slot),
        _reaching(_long_runs(AlertKind.GAP, gaps, config.gap_min_intervals), eval_from_slot),
    ]
    if reset_mask is not None:
        resets = np.asarray(reset_mask, dtype=np.bool_)[:, eval_from_slot:]
        groups.append(_long_runs(AlertKind.COUNTER_RESET, resets, 1, eval_from_slot))
    alerts = _records(groups, q, median, eval_from_slot, start_s, utc_offset_s, config)
    return sorted(alerts, key=lambda a: (a.meter_index, a.start_slot, a.kind.value))


def _check_inputs(
    q: Floats,
    start_s: int,
    eval_from: int,
    reset_mask: NDArray[np.bool_] | None,
    over_meters: NDArray[np.bool_] | None,
) -> None:
    if q.ndim != 2:
        raise ValueError(f"quantity: must be 2-D (meters, slots), got shape {q.shape}")
    if start_s % INTERVAL_S:
        raise ValueError(f"start_s: {start_s} is not on the 15-minute grid")
    if not 0 <= eval_from <= q.shape[1]:
        raise ValueError(f"eval_from_slot: {eval_from} is outside 0..{q.shape[1]}")
    if reset_mask is not None and np.shape(reset_mask) != q.shape:
        raise ValueError(f"reset_mask: shape {np.shape(reset_mask)} differs from {q.shape}")
    if over_meters is not None and np.shape(over_meters) != (q.shape[0],):
        raise ValueError(f"over_consumption_meters: shape must be ({q.shape[0]},)")


def _typical(median: Floats) -> Floats:
    """``(meters, 1)`` mean baseline median: the meter's typical interval quantity."""
    present = ~np.isnan(median)
    count = present.sum(axis=1, keepdims=True)
    total = np.where(present, median, 0.0).sum(axis=1, keepdims=True)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _over_mask(
    actual: Floats, median: Floats, mad: Floats, typical: Floats, config: AlertConfig
) -> Bools:
    floor = config.mad_floor_fraction_of_pooled * pooled_relative_mad(median, mad) * median
    scale = np.fmax(mad, floor)
    robust = actual > median + config.mad_k * MAD_TO_SIGMA * scale
    relative = actual > median * (1.0 + config.min_relative_excess)
    big_enough = actual - median >= config.min_excess_fraction_of_typical * typical
    mask: Bools = robust & relative & big_enough
    return mask


def _leading_trimmed(missing: Bools) -> Bools:
    """``missing`` without each row's leading run: before a meter's first received value in
    the loaded window nothing is known (not yet commissioned, or not yet loaded)."""
    seen = np.logical_or.accumulate(~missing, axis=1)
    out: Bools = missing & seen
    return out


def _reaching(runs: _Runs, eval_from: int) -> _Runs:
    """Runs that reach ``eval_from`` or later."""
    keep = runs.ends > eval_from
    return _Runs(runs.kind, runs.rows[keep], runs.starts[keep], runs.ends[keep])


def _records(
    groups: list[_Runs],
    q: Floats,
    median: Floats,
    eval_from: int,
    start_s: int,
    utc_offset_s: int,
    config: AlertConfig,
) -> list[MeterAlert]:
    """Build one :class:`MeterAlert` per run (a loop over runs, not readings)."""
    q_filled = np.where(np.isnan(q), 0.0, q)
    cum_q = np.concatenate([np.zeros((q.shape[0], 1)), np.cumsum(q_filled, axis=1)], axis=1)
    med_full = np.full(q.shape, np.nan)
    med_full[:, eval_from:] = median
    has_med = ~np.isnan(med_full)
    cum_m = np.concatenate(
        [np.zeros((q.shape[0], 1)), np.cumsum(np.where(has_med, med_full, 0.0), axis=1)], axis=1
    )
    cum_has = np.concatenate(
        [np.zeros((q.shape[0], 1), dtype=np.int64), np.cumsum(has_med, axis=1)], axis=1
    )
    out: list[MeterAlert] = []
    for group in groups:
        actual = cum_q[group.rows, group.ends] - cum_q[group.rows, group.starts]
        expected = cum_m[group.rows, group.ends] - cum_m[group.rows, group.starts]
        known = cum_has[group.rows, group.ends] > cum_has[group.rows, group.starts]
        for i in range(len(group.rows)):
            exp = float(expected[i]) if known[i] else None
            act = None if group.kind is AlertKind.GAP else float(actual[i])
            out.append(
                _record(
                    group.kind,
                    int(group.rows[i]),
                    int(group.starts[i]),
                    int(group.ends[i]),
                    exp,
                    act,
                    start_s,
                    utc_offset_s,
                    config,
                )
            )
    return out


def _record(
    kind: AlertKind,
    row: int,
    start: int,
    end: int,
    expected: float | None,
    actual: float | None,
    start_s: int,
    utc_offset_s: int,
    config: AlertConfig,
) -> MeterAlert:
    length = end - start
    if kind is AlertKind.OVER_CONSUMPTION:
        ratio = (actual or 0.0) / expected if expected else float("inf")
        severity = config.over_consumption_severity.severity(ratio)
        what = f"over-consumption {actual:.4g} vs expected {expected or 0.0:.4g} ({ratio:.2f}x)"
    elif kind is AlertKind.FLAT_LINE:
        severity = config.flat_line_severity.severity(length)
        value = (actual or 0.0) / length
        what = f"flat line at {value:.4g} per interval"
    elif kind is AlertKind.GAP:
        severity = config.gap_severity.severity(length)
        what = "no data"
    else:
        severity = config.counter_reset_severity
        what = "counter reset"
    first_s = start_s + start * INTERVAL_S
    local = datetime.fromtimestamp(first_s, UTC) + timedelta(seconds=utc_offset_s)
    message = f"{what} for {length} interval(s) from {local:%a %Y-%m-%d %H:%M} local"
    return MeterAlert(
        meter_index=row,
        kind=kind,
        severity=severity,
        start_slot=start,
        end_slot=end,
        interval_start_s=first_s,
        interval_end_s=start_s + end * INTERVAL_S,
        expected=expected,
        actual=actual,
        message=message,
    )
