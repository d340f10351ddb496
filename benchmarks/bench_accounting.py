"""City-year accounting benchmark: 1,100 metered firms x 4 meters x 35,040 intervals.

Run: ``.venv/bin/python -m benchmarks.bench_accounting [--firms 1100] [--repeat 3]``

Prints, each beside the floor measured in the same run on the same array (numpy's bare daily
sum ``values.sum(axis=2)`` over the dense ``(meters, days, 96)`` float32 array):

- accounting from raw interval arrays: daily rollups with completeness, per-meter and per-firm
  totals, emissions, intensities, population benchmarks, regional aggregates, grades, colours,
  scores and quality tiers for every firm (target: within 3x of the floor);
- accounting from daily rollups (the stored accounting input): the same minus the rollup.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from statistics import median
from typing import Any

import numpy as np

from accounting.emissions import COLUMN_INDEX, EMISSION_COLUMNS, factor_matrix
from accounting.energy import EnergyType
from accounting.factors import load_factor_set_dir
from accounting.grading import load_grading_config
from accounting.population import account_population
from accounting.rollup import (
    SLOTS_PER_DAY,
    DailyRollup,
    daily_rollup,
    entity_completeness,
    entity_energy_totals,
)

METER_TYPES = (EnergyType.ELECTRICITY, EnergyType.NATURAL_GAS, EnergyType.STEAM, EnergyType.HEAT)


def make_city(firms: int, days: int, seed: int = 11) -> dict[str, Any]:
    """Dense interval arrays with daily/weekly shape, noise and 0.5% of days with gaps."""
    rng = np.random.default_rng(seed)
    meters = firms * len(METER_TYPES)
    slot = np.arange(SLOTS_PER_DAY)
    shape = (1.0 + 0.6 * np.sin((slot - 30) / SLOTS_PER_DAY * 2 * np.pi)).astype(np.float32)
    weekly = np.where(np.arange(days) % 7 >= 5, 0.6, 1.0).astype(np.float32)
    scale = rng.lognormal(3.0, 1.0, meters).astype(np.float32)
    values = np.empty((meters, days, SLOTS_PER_DAY), dtype=np.float32)
    for m0 in range(0, meters, 256):  # chunked generation keeps temporaries small
        m1 = min(m0 + 256, meters)
        noise = rng.random((m1 - m0, days, SLOTS_PER_DAY), dtype=np.float32) * 0.2 + 0.9
        values[m0:m1] = scale[m0:m1, None, None] * weekly[None, :, None] * shape * noise
    gappy = rng.random((meters, days)) < 0.005
    mi, di = np.nonzero(gappy)
    values[mi, di, :8] = np.nan
    return {
        "values": values,
        "meter_entity": np.repeat(np.arange(firms), len(METER_TYPES)),
        "meter_type": np.tile([COLUMN_INDEX[t] for t in METER_TYPES], firms),
        "value_added": rng.lognormal(7.0, 1.0, firms),
        "industry": rng.choice([f"C{c}" for c in range(13, 43)], firms),
        "region": rng.choice(
            ["kecheng", "qujiang", "longyou", "jiangshan", "changshan", "kaihua"], firms
        ),
        "previous": rng.lognormal(0.0, 0.7, firms),
    }


def account_from_rollup(rollup: DailyRollup, city: dict[str, Any], context: dict[str, Any]) -> Any:
    """Daily rollups -> graded accounts of every firm."""
    firms = len(city["value_added"])
    meter_totals = rollup.quantity.sum(axis=1) * context["unit_scale"]
    received = rollup.intervals.sum(axis=1, dtype=np.int64)
    expected = np.full(received.shape, rollup.intervals.shape[1] * SLOTS_PER_DAY)
    quantities = entity_energy_totals(
        meter_totals, city["meter_entity"], city["meter_type"], firms, len(EMISSION_COLUMNS)
    )
    completeness = entity_completeness(received, expected, city["meter_entity"], firms)
    return account_population(
        quantities,
        context["factors"],
        denominators=city["value_added"],
        value_added_10k_yuan=city["value_added"],
        sectors=np.full(firms, "industry"),
        industry_codes=city["industry"],
        regions=city["region"],
        metrics=np.full(firms, "tco2_per_10k_yuan_value_added"),
        previous_intensity=city["previous"],
        completeness=completeness,
        metered=np.ones(firms, dtype=bool),
        grading=context["grading"],
        period="2023",
    )


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median wall time (s) of ``repeat`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return median(times), result


def main() -> None:
    """Run the benchmark and print figures beside the same-run floor."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=1100)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    t0 = time.perf_counter()
    city = make_city(args.firms, args.days)
    values = city["values"]
    print(
        f"city: {args.firms} firms, {values.shape[0]} meters x {values.shape[1] * 96} intervals"
        f" = {values.size / 1e6:.0f}M values ({values.nbytes / 2**20:.0f} MiB), "
        f"generated in {time.perf_counter() - t0:.1f} s"
    )
    fs = load_factor_set_dir().get("CN-2023")
    steam = COLUMN_INDEX[EnergyType.STEAM]
    context = {
        "factors": factor_matrix(fs, [""] * args.firms),
        "grading": load_grading_config(),
        "unit_scale": np.where(city["meter_type"] == steam, fs.steam_gj_per_t(), 1.0),
    }
    floor, _ = timed(lambda: values.sum(axis=2), args.repeat)
    raw, result = timed(
        lambda: account_from_rollup(daily_rollup(values), city, context), args.repeat
    )
    rollup = daily_rollup(values)
    from_rollup, _ = timed(lambda: account_from_rollup(rollup, city, context), args.repeat)
    colours = np.bincount(result.grades.colour, minlength=4)
    print(f"floor  numpy daily sum (bare)          {floor * 1e3:9.1f} ms")
    print(
        f"ours   accounting from raw intervals   {raw * 1e3:9.1f} ms   "
        f"{raw / floor:5.2f}x floor (target <= 3x)"
    )
    print(
        f"ours   accounting from daily rollups   {from_rollup * 1e3:9.1f} ms   "
        f"{from_rollup / floor:5.2f}x floor"
    )
    print(
        f"graded {args.firms} firms; colours dark/light green, yellow, red = {colours.tolist()}; "
        f"grades 1-5 = {np.bincount(result.grades.carbon_efficiency, minlength=6)[1:].tolist()}"
    )


if __name__ == "__main__":
    main()
