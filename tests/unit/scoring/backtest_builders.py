"""Histories, catalogs and one-by-one decisions for the backtest tests."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from accounting.vocab import Colour, Sector
from finance_engine.synth.loans import generate_loan_history
from products import load_catalog
from products.catalog import Catalog
from scoring.applications import Application, Financials
from scoring.backtest.data import BacktestData, history_data
from scoring.carbon_features import AccountView, OpenAlerts, ProjectMetrics
from scoring.features import FEATURE_NAMES

CATALOG = load_catalog()
COLOUR_CODES: tuple[str, ...] = tuple(
    sorted({p.code for p in CATALOG.products if p.grade_basis.value == "colour"})
)
"""Every product graded by colour."""

SOUND_FIRM: dict[str, float] = {
    "revenue_10k_yuan": 8000.0,
    "leverage": 0.45,
    "current_ratio": 1.6,
    "return_on_assets": 0.07,
    "years_operating": 15.0,
    "overdue_count_24m": 0.0,
    "carbon_efficiency_grade": 2.0,
    "k_ratio": 0.7,
    "carbon_score": 80.0,
    "intensity_trend_pct": -2.0,
    "data_completeness": 0.99,
    "alert_count_12m": 0.0,
    "colour_rank": 1.0,
}


def synthetic(seed: int, n: int, codes: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """A synthetic history's columns (2020-2025), product codes drawn from ``codes``."""
    chosen = codes or tuple(CATALOG.codes())
    columns = dict(generate_loan_history(seed, n, 2020, 6, product_codes=chosen).columns)
    columns["pd"] = columns["true_pd"]
    return columns


def hand_book(rows: list[Mapping[str, Any]]) -> dict[str, np.ndarray]:
    """History columns from a few hand-written rows (unspecified values: a sound firm,
    1m yuan at 4.00%, 12 months, drawn in full, LGD 0.5, no default, product ABC-QZ-ESR)."""
    defaults: dict[str, Any] = {
        **SOUND_FIRM,
        "application_id": "",
        "entity_id": "E",
        "application_date": np.datetime64("2024-06-01"),
        "product_code": "ABC-QZ-ESR",
        "base_limit_fen": 100_000_000,
        "base_rate_pct": 4.0,
        "term_months": 12,
        "disbursed_fen": 100_000_000,
        "ead_fen": 100_000_000,
        "lgd": 0.5,
        "default_12m": 0,
        "default_month": 0,
        "months_on_book": 12,
        "loss_fen": 0,
    }
    names = list(defaults) + sorted({name for row in rows for name in row} - set(defaults))
    columns: dict[str, list[Any]] = {name: [] for name in names}
    for i, row in enumerate(rows):
        for name in names:
            value = row.get(name, defaults.get(name, math.nan))
            columns[name].append(f"APP-{i}" if name == "application_id" and not value else value)
    return {name: np.asarray(values) for name, values in columns.items()}


def data_of(columns: Mapping[str, np.ndarray]) -> BacktestData:
    """Validated backtest data of history columns."""
    return history_data(columns)


def only(*codes: str) -> Catalog:
    """The packaged catalog restricted to ``codes`` (every version)."""
    return Catalog(
        products=tuple(p for p in CATALOG.products if p.code in codes),
        lpr=CATALOG.lpr,
        digest="test-" + "-".join(codes),
    )


# ------------------------------------------------------------------ one-by-one decisions


def _opt_decimal(value: float) -> Decimal | None:
    return None if math.isnan(value) else Decimal(repr(float(value)))


def application_of(columns: Mapping[str, np.ndarray], i: int) -> Application:
    """The application of row ``i`` as a bank system would send it."""
    features = {name: float(columns[name][i]) for name in FEATURE_NAMES}
    requested = columns.get("requested_amount_fen")
    amount = None
    if requested is not None and not math.isnan(float(requested[i])):
        amount = Decimal(int(requested[i])).scaleb(-2)
    return Application(
        application_id=str(columns["application_id"][i]),
        entity_id=str(columns["entity_id"][i]),
        base_limit_yuan=Decimal(int(columns["base_limit_fen"][i])).scaleb(-2),
        base_rate_pct=Decimal(repr(float(columns["base_rate_pct"][i]))),
        financials=Financials(
            revenue_10k_yuan=Decimal(repr(features["revenue_10k_yuan"])),
            leverage=features["leverage"],
            current_ratio=features["current_ratio"],
            return_on_assets=features["return_on_assets"],
            years_operating=features["years_operating"],
            overdue_count_24m=int(features["overdue_count_24m"]),
        ),
        product_code=str(columns["product_code"][i]),
        requested_amount_yuan=amount,
        requested_term_months=int(columns["term_months"][i]),
        project=ProjectMetrics(
            emissions_cut_tco2e=_opt_decimal(float(columns["emissions_cut_tco2e"][i])),
            renewable_share_pct=_opt_decimal(float(columns["renewable_share_pct"][i])),
        ),
    )


def _opt(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def account_of(columns: Mapping[str, np.ndarray], i: int) -> AccountView | None:
    """The carbon account of row ``i`` (None without one)."""
    completeness = float(columns["data_completeness"][i])
    if math.isnan(completeness):
        return None
    end = columns["account_period_end"][i].astype(object)
    grade = _opt(float(columns["carbon_efficiency_grade"][i]))
    colour = _opt(float(columns["colour_rank"][i]))
    critical = int(columns["open_critical_alerts"][i])
    return AccountView(
        entity_id=str(columns["entity_id"][i]),
        sector=Sector(str(columns["sector"][i])),
        industry_code=str(columns["industry_code"][i]),
        period_start=end - timedelta(days=364),
        period_end=end,
        carbon_efficiency=None if grade is None else int(grade),
        colour=None if colour is None else list(Colour)[int(colour) - 1],
        score=_opt(float(columns["carbon_score"][i])),
        k=_opt(float(columns["k_ratio"][i])),
        provisional=bool(columns["provisional"][i] == 1),
        trend_pct=_opt(float(columns["intensity_trend_pct"][i])),
        completeness=completeness,
        quality_tier=int(columns["quality_tier"][i]),
        factor_set_version="",
        benchmark_version="",
        grading_version="",
        open_alerts=OpenAlerts(critical=critical, warning=int(columns["open_warning_alerts"][i])),
    )


def day(value: np.datetime64) -> date:
    """A numpy day as a date."""
    result: date = value.astype("datetime64[D]").astype(object)
    return result
