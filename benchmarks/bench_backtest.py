"""Benchmark: a backtest of 1 million applications under champion and challenger, beside the
floor of the bare model prediction (``Booster.predict``) on the same rows in the same run.

Run ``python -m benchmarks.bench_backtest [--rows 1000000] [--train-rows 40000]``. It trains the
PD model on a synthetic history, generates a history of ``--rows`` applications (2020-2025, the
packaged catalog's industrial products), then times in the same run:

- the floor: LightGBM ``Booster.predict`` on the history's feature matrix;
- in memory: the model's calibrated PDs plus :func:`scoring.backtest.run_backtest` (both rule
  sets replayed, measured, swap sets, performance, stability, vintages, carbon), per stage;
- from files: :func:`finance_engine.services.backtests.run_backtest` reading the Parquet history
  and writing ``backtest.json``, ``swaps.csv`` and the PDF, per stage.

The challenger is the champion with red declined everywhere and every PD cut-off at 3%.
Target: under 30 s in all for 1 million applications.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from finance_engine.services.backtests import run_backtest as run_from_files
from finance_engine.synth.loans import LoanHistory, generate_loan_history, write_loan_history
from products import load_catalog
from scoring.backtest import RuleSet, apply_patch, patch_from_dict, run_backtest
from scoring.backtest.data import history_data
from scoring.features import feature_matrix
from scoring.risk_model import RiskModel

CHALLENGER = {
    "format": "finance-engine/rule-patch@1",
    "name": "decline-red-pd-3pct",
    "changes": [{"products": "*", "decline_grades": ["red"]}, {"products": "*", "max_pd": "0.03"}],
}


class StageClock:
    """Seconds spent in each stage, from progress callbacks."""

    def __init__(self) -> None:
        self.stages: list[tuple[str, float]] = []
        self.last = time.perf_counter()

    def __call__(self, stage: str) -> None:
        now = time.perf_counter()
        self.stages.append((stage, now - self.last))
        self.last = now


T = TypeVar("T")


def _timed(call: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


def _setup(rows: int, train_rows: int) -> tuple[RiskModel, LoanHistory, RuleSet, RuleSet]:
    train = generate_loan_history(1, train_rows)
    model = RiskModel().fit(
        feature_matrix(train.feature_columns()),
        train["default_12m"],
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    catalog = load_catalog()
    codes = tuple(sorted({p.code for p in catalog.products if "industry" in p.sectors}))
    history, seconds = _timed(lambda: generate_loan_history(2, rows, 2020, 6, product_codes=codes))
    patch = patch_from_dict(CHALLENGER)
    print(
        f"model: {model.booster_.num_trees()} trees; history: {rows:,} applications "
        f"({seconds:.1f} s to generate)"
    )
    return (
        model,
        history,
        RuleSet(catalog, "packaged catalog"),
        RuleSet(apply_patch(catalog, patch), "patch", patch),
    )


def _in_memory(model: RiskModel, history: LoanHistory, rule_sets: tuple[RuleSet, RuleSet]) -> float:
    """Time the in-memory backtest; print its stages and the floor; return the floor, s."""
    data, encode_s = _timed(lambda: history_data(history.columns))
    matrix = data.features
    _, floor_s = _timed(lambda: model.booster_.predict(matrix))
    pd, pd_s = _timed(lambda: model.predict_pd(matrix))
    clock = StageClock()
    _, run_s = _timed(lambda: run_backtest(data, pd, *rule_sets, progress=clock))
    print("\nin memory")
    print(f"  {'encode and validate columns':<32}{encode_s:8.2f} s")
    print(f"  {'model PDs (predict_pd)':<32}{pd_s:8.2f} s")
    for stage, seconds in clock.stages:
        print(f"  {stage:<32}{seconds:8.2f} s")
    ours = pd_s + run_s
    print(f"  {'backtest (PDs + both rule sets)':<32}{ours:8.2f} s")
    print(f"  {'floor: Booster.predict':<32}{floor_s:8.2f} s   ratio {ours / floor_s:.2f}")
    return floor_s


def _from_files(model: RiskModel, history: LoanHistory, floor_s: float) -> float:
    """Time the service from a Parquet file to the written outputs; return the total, s."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "history.parquet"
        write_loan_history(history, path)
        patch_path = Path(folder) / "patch.json"
        patch_path.write_text(json.dumps(CHALLENGER), encoding="utf-8")
        clock = StageClock()
        _, total = _timed(
            lambda: run_from_files(
                path, None, patch_path, Path(folder) / "out", progress=clock, model=model
            )
        )
    print("\nfrom files (Parquet in; JSON, swaps CSV and PDF out)")
    for stage, seconds in clock.stages:
        print(f"  {stage:<32}{seconds:8.2f} s")
    print(f"  {'total':<32}{total:8.2f} s   ratio to the floor {total / floor_s:.2f}")
    return total


def main() -> None:
    """Train, generate, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--train-rows", type=int, default=40_000)
    args = parser.parse_args()
    model, history, champion, challenger = _setup(args.rows, args.train_rows)
    floor_s = _in_memory(model, history, (champion, challenger))
    total = _from_files(model, history, floor_s)
    verdict = "met" if total < 30 else "NOT met"
    print(f"\ntarget: under 30 s in all for {args.rows:,} applications: {verdict}")


if __name__ == "__main__":
    main()
