"""Measure the alert rules against the synthetic city's injected faults.

    python -m finance_engine.synth.evaluation --seed 7 --scale 0.02 [--no-calendar]

runs :func:`accounting.alerts.detect_alerts` on every meter's year (the first ``baseline_weeks``
weeks are history only), with counter resets flagged where they were injected (as ingest would
flag them), and compares the alerts with the truth:

- **detection**: share of injected faults of a kind that an alert of the matching kind overlaps
  (spikes → over-consumption; flat lines → flat line; gaps of at least the gap threshold → gap;
  counter resets → counter reset);
- **false alarms**: alerts that overlap no injected fault (duplicates excluded: they do not change
  interval values), per meter-day evaluated, by kind and by severity.
"""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from numpy.typing import NDArray

from accounting.alert_calendar import load_holiday_calendar
from accounting.alerts import (
    SLOTS_PER_WEEK,
    AlertConfig,
    AlertKind,
    MeterAlert,
    detect_alerts,
    load_alert_config,
)
from accounting.energy import EnergyType
from finance_engine.synth.city import City, build_city
from finance_engine.synth.faults import FaultTable, ragged_slots

_GENERATION = (EnergyType.RENEWABLE_SELF_CONSUMED, EnergyType.RENEWABLE_EXPORTED)
_EXPECTED_KIND = {
    "spike": AlertKind.OVER_CONSUMPTION,
    "flat_line": AlertKind.FLAT_LINE,
    "gap": AlertKind.GAP,
    "counter_reset": AlertKind.COUNTER_RESET,
}


@dataclass(frozen=True)
class AlertPerformance:
    """Detection and false alarms of one run over a city.

    Attributes
    ----------
    meters, meter_days:
        Meters evaluated and meter-days evaluated (after the baseline weeks).
    injected, found:
        Faults expected to raise an alert, and those an alert of the matching kind overlaps, by
        fault kind.
    alerts:
        Alerts raised, by alert kind.
    false_alarms:
        Alerts overlapping no injected fault, by alert kind.
    false_by_severity:
        The same by severity.
    """

    meters: int
    meter_days: int
    injected: dict[str, int] = field(default_factory=dict)
    found: dict[str, int] = field(default_factory=dict)
    alerts: dict[str, int] = field(default_factory=dict)
    false_alarms: dict[str, int] = field(default_factory=dict)
    false_by_severity: dict[str, int] = field(default_factory=dict)

    def detection_rate(self, kind: str) -> float:
        """Share of injected faults of ``kind`` found (NaN without any)."""
        n = self.injected.get(kind, 0)
        return self.found.get(kind, 0) / n if n else float("nan")

    @property
    def false_alarms_per_meter_day(self) -> float:
        """Alerts overlapping no injected fault ÷ meter-days evaluated."""
        return sum(self.false_alarms.values()) / self.meter_days


def measure_alert_performance(
    city: City,
    config: AlertConfig | None = None,
    *,
    calendar: bool = True,
    chunk_meters: int = 128,
) -> AlertPerformance:
    """Run the alert rules over all of ``city``'s meters and score them against the faults.

    Parameters
    ----------
    config:
        Thresholds; default the packaged ``alerts-v1``.
    calendar:
        Use the public-holiday calendar in the baseline (as the service does).
    chunk_meters:
        Meters evaluated at once (memory).
    """
    config = config or load_alert_config()
    eval_from = config.baseline_weeks * SLOTS_PER_WEEK
    kinds = (
        load_holiday_calendar().day_kinds(date(city.year, 1, 1), city.days) if calendar else None
    )
    tally: dict[str, Counter[str]] = {k: Counter() for k in _TALLIES}
    for index, values in city.iter_meter_arrays(chunk_meters):
        flat = values.reshape(index.size, -1)
        faults = city.faults.select(np.isin(city.faults.meter, index))
        rows = np.searchsorted(index, faults.meter)
        resets = np.zeros(flat.shape, dtype=bool)
        is_reset = faults.kind == "counter_reset"
        resets[rows[is_reset], faults.start_slot[is_reset]] = True
        consumption = np.array([city.meters[i].energy_type not in _GENERATION for i in index])
        raised = detect_alerts(
            flat,
            city.start_s,
            config,
            eval_from_slot=eval_from,
            reset_mask=resets,
            over_consumption_meters=consumption,
            day_kind=kinds,
        )
        _score(raised, faults, rows, flat.shape, config, tally["injected"], tally["found"])
        for alert, is_false in zip(raised, _false(raised, faults, rows, flat.shape), strict=True):
            tally["alerts"][alert.kind.value] += 1
            if is_false:
                tally["false_alarms"][alert.kind.value] += 1
                tally["false_by_severity"][alert.severity.value] += 1
    meter_days = len(city.meters) * (city.slots - eval_from) // 96
    return AlertPerformance(len(city.meters), meter_days, **{k: dict(v) for k, v in tally.items()})


_TALLIES = ("injected", "found", "alerts", "false_alarms", "false_by_severity")


def _paint(
    shape: tuple[int, ...],
    rows: NDArray[np.int64],
    starts: NDArray[np.int64],
    lengths: NDArray[np.int64],
) -> NDArray[np.bool_]:
    mask = np.zeros(shape, dtype=bool)
    run, slot = ragged_slots(starts, lengths)
    mask[rows[run], slot] = True
    return mask


def _touched(
    mask: NDArray[np.bool_],
    rows: NDArray[np.int64],
    starts: NDArray[np.int64],
    lengths: NDArray[np.int64],
) -> NDArray[np.bool_]:
    """For each run, whether ``mask`` is True anywhere in it."""
    run, slot = ragged_slots(starts, lengths)
    hits = np.bincount(run, weights=mask[rows[run], slot], minlength=starts.size)
    out: NDArray[np.bool_] = hits > 0
    return out


def _alert_columns(alerts: list[MeterAlert]) -> tuple[NDArray[np.int64], ...]:
    rows = np.array([a.meter_index for a in alerts], dtype=np.int64)
    starts = np.array([a.start_slot for a in alerts], dtype=np.int64)
    lengths = np.array([a.intervals for a in alerts], dtype=np.int64)
    return rows, starts, lengths


def _score(
    raised: list[MeterAlert],
    faults: FaultTable,
    rows: NDArray[np.int64],
    shape: tuple[int, ...],
    config: AlertConfig,
    injected: Counter[str],
    found: Counter[str],
) -> None:
    kinds = np.array([a.kind.value for a in raised])
    columns = _alert_columns(raised)
    for fault_kind, alert_kind in _EXPECTED_KIND.items():
        expected = faults.kind == fault_kind
        if fault_kind == "gap":
            expected &= faults.length >= config.gap_min_intervals
        if fault_kind == "flat_line":
            expected &= faults.length >= config.flat_line_min_intervals
        of_kind = kinds == alert_kind.value
        mask = _paint(shape, *(c[of_kind] for c in columns))
        hit = _touched(mask, rows[expected], faults.start_slot[expected], faults.length[expected])
        injected[fault_kind] += int(expected.sum())
        found[fault_kind] += int(hit.sum())


def _false(
    raised: list[MeterAlert], faults: FaultTable, rows: NDArray[np.int64], shape: tuple[int, ...]
) -> NDArray[np.bool_]:
    """For each alert, True if it overlaps no injected fault (duplicates excluded)."""
    real = faults.kind != "duplicate"
    truth = _paint(shape, rows[real], faults.start_slot[real], faults.length[real])
    out: NDArray[np.bool_] = ~_touched(truth, *_alert_columns(raised))
    return out


def main(argv: list[str] | None = None) -> None:
    """Print the measured detection and false-alarm rates of a city."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scale", type=float, default=0.02)
    parser.add_argument(
        "--no-calendar",
        action="store_true",
        help="same-weekday baseline without the public-holiday calendar",
    )
    args = parser.parse_args(argv)
    city = build_city(args.seed, args.scale)
    perf = measure_alert_performance(city, calendar=not args.no_calendar)
    print(
        f"city seed {args.seed} scale {args.scale}: {perf.meters} meters, "
        f"{perf.meter_days} meter-days evaluated"
    )
    for kind in _EXPECTED_KIND:
        print(
            f"  {kind:<14} found {perf.found.get(kind, 0):>5} of {perf.injected.get(kind, 0):>5}"
            f"  ({perf.detection_rate(kind):.2%})"
        )
    print(f"  alerts {sum(perf.alerts.values())} {perf.alerts}")
    print(
        f"  false alarms {sum(perf.false_alarms.values())} {perf.false_alarms}"
        f" by severity {perf.false_by_severity}"
    )
    print(f"  false alarms per meter-day {perf.false_alarms_per_meter_day:.5f}")


if __name__ == "__main__":
    main()
