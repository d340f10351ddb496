"""Monthly personal carbon accounts of 2.33 million residents from their events.

Run: ``.venv/bin/python -m benchmarks.bench_residents [--residents 2330000] [--month 5]
[--repeat 5]``

Generates one month of the synthetic residents' events (about 20 million at full scale, in
canonical order, as the generator and a store ordered by resident produce them) and prints, each
beside the floors measured in the same run on the same event arrays:

- floor: the bare numpy group-by sum of the month's reduction by resident,
  ``np.bincount(resident, weights=quantity x g_per_unit[behaviour])`` (target: within 3x);
- floor without the factor lookup: ``np.bincount(resident, weights=quantity)`` (for reference);
- monthly accounts (:func:`accounting.resident_accounts.compute_month`): reduction, daily caps per
  (resident, day, behaviour), points, cumulative points and reduction, levels;
- the same from shuffled events (the general path: a stable sort first).

Timings are the best and the median of ``--repeat`` runs; peak memory is the process's maximum
resident set size (``resource.getrusage``), target under 8 GiB.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Callable
from datetime import date
from statistics import median
from typing import Any

import numpy as np

from accounting.factors import load_factor_set_dir
from accounting.resident_accounts import (
    MonthEvents,
    MonthlyAccounts,
    MonthParameters,
    compute_month,
    month_parameters,
)
from accounting.resident_points import load_resident_tables
from finance_engine.synth.residents import FULL_SCALE_RESIDENTS, build_residents


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Best and median seconds of ``repeat`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), median(times), result


def peak_rss_gib() -> float:
    """Peak resident set size of this process, GiB (Linux reports KiB)."""
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / (1 << 20) if sys.platform != "darwin" else kib / (1 << 30)


def _setup(args: argparse.Namespace) -> tuple[MonthEvents, int, MonthParameters]:
    """Generate the month's events (not timed) and resolve its parameters."""
    started = time.perf_counter()
    residents = build_residents(seed=7, scale=args.residents / FULL_SCALE_RESIDENTS, year=args.year)
    month = residents.month_events(args.month)
    ev, n = month.events, residents.n_residents
    print(
        f"generated {n:,} residents, {len(ev):,} events in {args.year}-{args.month:02d} "
        f"({time.perf_counter() - started:.1f} s, not timed below)"
    )
    first = date(args.year, args.month, 1)
    params = month_parameters(
        load_resident_tables(), load_factor_set_dir().effective_on(first), first
    )
    return ev, n, params


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--residents", type=int, default=FULL_SCALE_RESIDENTS)
    parser.add_argument("--month", type=int, default=5, choices=range(1, 13))
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    ev, n, params = _setup(args)
    previous = np.zeros(n, dtype=np.int64), np.zeros(n)
    shuffled = ev.take(np.random.default_rng(1).permutation(len(ev)))

    def floor() -> Any:
        g = ev.quantity * params.g_per_unit[ev.behaviour]
        return np.bincount(ev.resident_index, weights=g, minlength=n)

    def quantity_only() -> Any:
        return np.bincount(ev.resident_index, weights=ev.quantity, minlength=n)

    def canonical() -> MonthlyAccounts:
        return compute_month(ev, n, params, *previous)

    def unordered() -> MonthlyAccounts:
        return compute_month(shuffled, n, params, *previous)

    paired = [_paired(floor, canonical) for _ in range(args.repeat)]
    rows = [
        ("floor: bincount of reduction (q x factor)", *_stats([p[0] for p in paired])),
        ("floor: bincount of quantity only", *timed(quantity_only, args.repeat)[:2]),
        ("monthly accounts, canonical order", *_stats([p[1] for p in paired])),
        ("monthly accounts, shuffled events", *timed(unordered, max(1, args.repeat // 2))[:2]),
    ]
    _report(rows, ev)
    ratios = sorted(c / f for f, c in paired)
    print(
        f"monthly accounts / floor, paired runs: median {median(ratios):.2f}x "
        f"(min {ratios[0]:.2f}x, max {ratios[-1]:.2f}x; target <= 3x)"
    )
    acc = canonical()
    assert np.allclose(acc.reduction_g, floor()), "accounts disagree with the floor"
    capped = int((acc.capped_g < acc.reduction_g - 1e-6).sum())
    print(
        f"levels (first month, no history): {acc.level_counts()}; "
        f"residents with capped points: {capped:,}"
    )
    rss = peak_rss_gib()
    print(f"peak memory {rss:.2f} GiB (target < 8 GiB){'' if rss < 8 else '  OVER TARGET'}")


def _paired(floor: Callable[[], Any], accounts: Callable[[], Any]) -> tuple[float, float]:
    """Seconds of one floor run and one accounts run, back to back (same machine load)."""
    start = time.perf_counter()
    floor()
    middle = time.perf_counter()
    accounts()
    return middle - start, time.perf_counter() - middle


def _stats(times: list[float]) -> tuple[float, float]:
    return min(times), median(times)


def _report(rows: list[tuple[str, float, float]], ev: MonthEvents) -> None:
    best_floor = rows[0][1]
    print(f"{'':44} {'best s':>8} {'median s':>9} {'M events/s':>11} {'x floor':>8}")
    for label, best, med in rows:
        rate = len(ev) / best / 1e6 if best else float("inf")
        print(f"{label:44} {best:8.3f} {med:9.3f} {rate:11.1f} {best / best_floor:8.2f}")


if __name__ == "__main__":
    main()
