"""Benchmark: decisions beside the floor of a bare LightGBM ``Booster.predict`` on the same rows.

Run ``python -m benchmarks.bench_decisions [--rows N] [--batch-rows N]``. Trains the PD model on
a synthetic history (in process, about 2 s), builds borrowers (application + carbon account)
from another synthetic history, assigns each an industry product of the packaged catalog, then
measures in the same run:

- single decision: :func:`scoring.decide.decide` latency p50 / p99 (model loaded, everything in
  process: features, fast PD, fast contributions, rules, terms, reasons) against
  ``Booster.predict(row, num_threads=1)`` on the same feature rows; with the split into the
  credit part (:func:`assess_credit`) and the rules part (:func:`decide_with_credit`);
- batch: :func:`scoring.offers.decide_batch` decisions/s against ``Booster.predict(matrix)``
  rows/s on the same matrix; with the split into the one vectorised model evaluation and the
  per-row rules;
- best offers: :func:`scoring.offers.best_offers_batch` (every industry product per borrower).

Prints each figure beside its floor and the ratio (ours / floor in time; floor / ours in rate).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import numpy as np

from accounting.vocab import Colour, Sector
from finance_engine.synth.loans import LoanHistory, generate_loan_history
from products import Product, load_catalog
from scoring.applications import Application, Financials
from scoring.carbon_features import AccountView, OpenAlerts
from scoring.decide import assess_credit, decide, decide_with_credit, feature_values, model_row
from scoring.decision_rules import default_decision_rules
from scoring.features import feature_matrix
from scoring.offers import assess_credit_batch, best_offers_batch, decide_batch
from scoring.risk_model import RiskModel

ON = date(2026, 6, 1)


def _account(history: LoanHistory, i: int, entity_id: str) -> AccountView:
    grade = history["carbon_efficiency_grade"][i]
    known = not np.isnan(grade)
    return AccountView(
        entity_id=entity_id,
        sector=Sector.INDUSTRY,
        industry_code="C2614",
        period_start=date(2025, 1, 1),
        period_end=date(2025, 12, 31),
        carbon_efficiency=int(grade) if known else None,
        colour=list(Colour)[int(history["colour_rank"][i]) - 1] if known else None,
        score=float(history["carbon_score"][i]) if known else None,
        k=float(history["k_ratio"][i]) if known else None,
        provisional=known and bool(history["data_completeness"][i] < 0.9),
        trend_pct=float(history["intensity_trend_pct"][i]) if known else None,
        completeness=float(history["data_completeness"][i]) if known else 0.0,
        quality_tier=2,
        factor_set_version="CN-2023",
        benchmark_version="SYNTH-2025",
        grading_version="ZJ-QZ-v1",
        open_alerts=OpenAlerts(warning=int(np.nan_to_num(history["alert_count_12m"][i]))),
    )


def borrowers(seed: int, n: int) -> tuple[list[Application], list[AccountView]]:
    """``n`` applications and accounts with features from a synthetic history."""
    h = generate_loan_history(seed, n)
    apps, views = [], []
    for i in range(n):  # building inputs, outside every timed section
        entity = f"E{i:07d}"
        fin = Financials(
            revenue_10k_yuan=Decimal(str(h["revenue_10k_yuan"][i])),
            leverage=float(h["leverage"][i]),
            current_ratio=float(h["current_ratio"][i]),
            return_on_assets=float(h["return_on_assets"][i]),
            years_operating=float(h["years_operating"][i]),
            overdue_count_24m=int(h["overdue_count_24m"][i]),
        )
        limit = Decimal(int(h["base_limit_fen"][i])) / 100
        rate = Decimal(str(round(float(h["base_rate_pct"][i]), 2)))
        apps.append(Application(f"A{i}", entity, limit, rate, fin))
        views.append(_account(h, i, entity))
    return apps, views


def _latencies_us(call: Callable[[int], object], n: int) -> np.ndarray:
    for i in range(min(n, 300)):  # warm-up
        call(i)
    out = np.empty(n)
    clock = time.perf_counter_ns
    for i in range(n):
        start = clock()
        call(i)
        out[i] = clock() - start
    return out / 1000.0


def _best_s(call: Callable[[], object], repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return float(best)


def _line(label: str, values: np.ndarray, floor: np.ndarray | None = None) -> str:
    p50, p99 = np.percentile(values, [50, 99])
    text = f"  {label:<34} p50 {p50:8.1f}  p99 {p99:8.1f}"
    if floor is not None:
        f50, f99 = np.percentile(floor, [50, 99])
        text += f"   x{p50 / f50:5.1f} / x{p99 / f99:5.1f} the floor"
    return text


def single(
    model: RiskModel,
    apps: Sequence[Application],
    views: Sequence[AccountView],
    products: Sequence[Product],
) -> None:
    """Single-decision latency beside a bare single-row Booster.predict."""
    rules = default_decision_rules()
    n = len(apps)
    rows = [model_row(model, feature_values(a, v)) for a, v in zip(apps, views, strict=True)]
    booster = model.booster_
    bare = _latencies_us(lambda i: booster.predict(rows[i].reshape(1, -1), num_threads=1), n)
    whole = _latencies_us(
        lambda i: decide(apps[i], views[i], products[i], model, on=ON, rules=rules), n
    )
    credits = [assess_credit(model, a, v, rules) for a, v in zip(apps, views, strict=True)]
    credit_part = _latencies_us(lambda i: assess_credit(model, apps[i], views[i], rules), n)
    rules_part = _latencies_us(
        lambda i: decide_with_credit(
            apps[i], views[i], products[i], credits[i], on=ON, rules=rules
        ),
        n,
    )
    contrib = _latencies_us(
        lambda i: booster.predict(rows[i].reshape(1, -1), pred_contrib=True, num_threads=1), n
    )
    print(f"single decision, {n} calls (µs):")
    print(_line("decide (model loaded)", whole, bare))
    print(_line("  of which assess_credit", credit_part))
    print(_line("  of which rules + terms + reasons", rules_part))
    print(_line("bare Booster.predict, 1 row", bare) + "   (floor)")
    print(_line("bare Booster.predict pred_contrib", contrib) + "   (reason-code floor)")
    target = "met" if np.percentile(whole, 99) < 1000 else "MISSED"
    print(f"  target p99 < 1 ms: {target}")


def batch(
    model: RiskModel,
    apps: Sequence[Application],
    views: Sequence[AccountView],
    products: Sequence[Product],
    catalog: Any,
) -> None:
    """Batch decisions/s beside a bare batch Booster.predict on the same rows."""
    n = len(apps)
    rules = default_decision_rules()
    matrix = feature_matrix(
        {
            name: np.array([feature_values(a, v)[name] for a, v in zip(apps, views, strict=True)])
            for name in model.feature_names_
        }
    )
    booster = model.booster_
    bare_s = _best_s(lambda: booster.predict(matrix))
    contrib_s = _best_s(lambda: booster.predict(matrix, pred_contrib=True), 1)
    ours_s = _best_s(lambda: decide_batch(apps, views, products, model, on=ON, rules=rules), 1)
    credit_s = _best_s(lambda: assess_credit_batch(model, apps, views, rules), 1)
    model_s = _best_s(lambda: (model.predict_pd(matrix), model.contributions(matrix)), 1)
    print(f"batch, {n} applications:")
    print(f"  decide_batch                 {n / ours_s:12,.0f} decisions/s")
    print(
        f"    of which model (PD+contrib)  {model_s:8.2f} s   credit reasons etc. "
        f"{credit_s - model_s:6.2f} s   rules {ours_s - credit_s:6.2f} s"
    )
    print(f"  bare Booster.predict         {n / bare_s:12,.0f} rows/s   (floor)")
    print(f"  ratio floor/ours             {ours_s / bare_s:12.1f}")
    print(f"  bare pred_contrib            {n / contrib_s:12,.0f} rows/s   (reason-code floor)")
    print(f"  ratio reason floor/ours      {ours_s / contrib_s:12.1f}")
    few = n // 10
    offers_s = _best_s(
        lambda: best_offers_batch(apps[:few], views[:few], catalog, model, on=ON, rules=rules), 1
    )
    per = len(catalog.for_sector("industry", ON))
    print(
        f"  best_offers_batch            {few * per / offers_s:12,.0f} decisions/s "
        f"({few} borrowers x {per} products)"
    )


def main() -> None:
    """Train, measure, print."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--train-rows", type=int, default=40_000)
    parser.add_argument("--rows", type=int, default=10_000, help="single decisions to time")
    parser.add_argument("--batch-rows", type=int, default=50_000)
    args = parser.parse_args()

    history = generate_loan_history(1, args.train_rows)
    x = feature_matrix(history.feature_columns())
    model = RiskModel().fit(x, history["default_12m"], created_at=datetime(2025, 1, 1, tzinfo=UTC))
    catalog = load_catalog()
    industry = catalog.for_sector("industry", ON)
    print(
        f"model {model.version}: {model.booster_.num_trees()} trees; "
        f"{len(industry)} industry products in force on {ON}"
    )

    apps, views = borrowers(2, args.rows)
    single(model, apps, views, [industry[i % len(industry)] for i in range(len(apps))])
    apps, views = borrowers(3, args.batch_rows)
    batch(model, apps, views, [industry[i % len(industry)] for i in range(len(apps))], catalog)


if __name__ == "__main__":
    main()
