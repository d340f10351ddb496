"""Benchmark: risk-model prediction beside the floor of a bare LightGBM ``Booster.predict``.

Run ``python -m benchmarks.bench_model [--rows N] [--batch-rows N]``. Trains the PD model on a
synthetic history, then measures on the same rows, in the same run:

- single row: :meth:`RiskModel.predict_pd_row` (calibrated PD) against
  ``Booster.predict(row, num_threads=1)`` (p50 / p99 over ``--rows`` calls), plus the reason-code
  path (``pred_contrib``) a decision also needs;
- batch: :meth:`RiskModel.predict_pd` rows/s against ``Booster.predict`` rows/s.

Prints each figure beside its floor and their ratio (ours / floor: < 1 is faster than the floor).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np

from finance_engine.synth.loans import generate_loan_history
from scoring.features import feature_matrix
from scoring.risk_model import RiskModel


def _latencies_us(call: Callable[[np.ndarray], object], rows: np.ndarray) -> np.ndarray:
    for row in rows[:200]:  # warm-up
        call(row)
    out = np.empty(rows.shape[0])
    clock = time.perf_counter_ns
    for i, row in enumerate(rows):
        start = clock()
        call(row)
        out[i] = clock() - start
    return out / 1000.0


def _rows_per_s(call: Callable[[np.ndarray], object], matrix: np.ndarray, repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        call(matrix)
        best = min(best, time.perf_counter() - start)
    return float(matrix.shape[0] / best)


def main() -> None:
    """Train, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-rows", type=int, default=40_000)
    parser.add_argument("--rows", type=int, default=20_000, help="single-row calls to time")
    parser.add_argument("--batch-rows", type=int, default=1_000_000)
    args = parser.parse_args()

    history = generate_loan_history(1, args.train_rows)
    x = feature_matrix(history.feature_columns())
    model = RiskModel().fit(x, history["default_12m"], created_at=datetime(2025, 1, 1, tzinfo=UTC))
    booster = model.booster_
    print(
        f"model {model.version}: {booster.num_trees()} trees, {model.num_leaves} leaves max, "
        f"{x.shape[1]} features; C fast path: {model._fast.uses_c_api}"
    )

    rows = feature_matrix(generate_loan_history(2, args.rows).feature_columns())
    ours = _latencies_us(model.predict_pd_row, rows)
    bare = _latencies_us(lambda r: booster.predict(r.reshape(1, -1), num_threads=1), rows)
    reasons = _latencies_us(model.reason_codes, rows[: min(args.rows, 5000)])
    p50, p99 = np.percentile(ours, [50, 99])
    b50, b99 = np.percentile(bare, [50, 99])
    r50, r99 = np.percentile(reasons, [50, 99])
    print(f"single row, {rows.shape[0]} calls (µs):")
    print(f"  predict_pd_row        p50 {p50:7.1f}  p99 {p99:7.1f}")
    print(f"  bare Booster.predict  p50 {b50:7.1f}  p99 {b99:7.1f}   (floor)")
    print(f"  ratio ours/floor      p50 {p50 / b50:7.2f}  p99 {p99 / b99:7.2f}")
    print(f"  reason_codes (contrib) p50 {r50:6.1f}  p99 {r99:7.1f}")

    batch = feature_matrix(generate_loan_history(3, args.batch_rows).feature_columns())
    ours_rps = _rows_per_s(model.predict_pd, batch)
    bare_rps = _rows_per_s(lambda m: booster.predict(m), batch)
    print(f"batch, {batch.shape[0]} rows:")
    print(f"  predict_pd            {ours_rps:12,.0f} rows/s")
    print(f"  bare Booster.predict  {bare_rps:12,.0f} rows/s   (floor)")
    print(f"  ratio ours/floor      {ours_rps / bare_rps:12.2f}")


if __name__ == "__main__":
    main()
