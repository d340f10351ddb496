"""One backtest: the champion and the challenger replayed over the same history, side by side.

:func:`run_backtest` is pure: it takes the history (:class:`~scoring.backtest.data.BacktestData`),
each application's PD (the risk model's, computed once: the PD does not depend on the rule set)
and the two rule sets, and returns a JSON-ready summary plus the per-application replays. Reading
files, the model and writing outputs is the job of ``finance_engine.services.backtests``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
from numpy.typing import NDArray

from products.catalog import Catalog
from scoring.backtest import carbon, stability, vintage
from scoring.backtest.data import BacktestData
from scoring.backtest.measures import (
    COLOUR_GROUPS,
    colour_index,
    exposure,
    rule_set_measures,
)
from scoring.backtest.patch import RulePatch
from scoring.backtest.reasons import BACKTEST_CODES
from scoring.backtest.replay import Replay, replay, unevaluated_rules
from scoring.backtest.rows import RowInputs, row_inputs
from scoring.backtest.stability import Period
from scoring.backtest.swaps import SwapSets, swap_summary
from scoring.backtest.table import VersionPolicy, assign_slots, product_table
from scoring.calibration import RiskBands, default_risk_bands
from scoring.decision_rules import DecisionRules, default_decision_rules

FloatArray = NDArray[np.float64]
Progress = Callable[[str], None]
"""Called with the name of each stage as it finishes."""
SUMMARY_FORMAT = "finance-engine/backtest@1"
STAGES: tuple[str, ...] = (
    "replay champion",
    "replay challenger",
    "rule-set measures",
    "swap sets",
    "model performance",
    "stability",
    "vintage curves",
    "carbon",
)
"""The stages :func:`run_backtest` reports to ``progress``, in order."""


@dataclass(frozen=True)
class RuleSet:
    """A catalog under test, where it came from, and the patch that made it (if any)."""

    catalog: Catalog
    source: str
    """A catalog directory, or the patch applied to the champion (for reports)."""
    patch: RulePatch | None = None

    def describe(self) -> dict[str, Any]:
        """JSON-ready identity of the rule set."""
        out: dict[str, Any] = {
            "source": self.source,
            "digest": self.catalog.digest,
            "products": len(self.catalog.codes()),
            "versions": len(self.catalog.products),
        }
        if self.patch is not None:
            out["patch"] = {
                "name": self.patch.name,
                "description": self.patch.description,
                "sha256": self.patch.digest,
            }
        return out


@dataclass(frozen=True)
class BacktestOptions:
    """Choices of a backtest (defaults in brackets).

    Attributes
    ----------
    versions:
        Which product version applies to an application [latest].
    reference, recent:
        Periods compared for stability [first and last 12 months, or the halves].
    rules:
        Engine-wide decision rules [the packaged file].
    bands:
        Risk bands [the packaged file].
    """

    versions: VersionPolicy = field(default_factory=VersionPolicy)
    reference: Period | None = None
    recent: Period | None = None
    rules: DecisionRules | None = None
    bands: RiskBands | None = None


@dataclass(frozen=True)
class BacktestRun:
    """A backtest's JSON-ready summary and the per-application results behind it."""

    summary: dict[str, Any]
    champion: Replay
    challenger: Replay
    swaps: SwapSets


def _skip_progress(stage: str) -> None:
    del stage


def delta(before: Any, after: Any) -> Any:
    """``after - before`` for every number in two summaries of the same shape (None where a side
    is missing; lists of ``{"group": ...}`` rows matched by group; text left out)."""
    if isinstance(before, bool) or isinstance(after, bool):
        return None
    if isinstance(before, Decimal) and isinstance(after, Decimal):
        return after - before
    if isinstance(before, int | float) and isinstance(after, int | float):
        return after - before
    if isinstance(before, dict) and isinstance(after, dict):
        out = {}
        for key in [*before, *(k for k in after if k not in before)]:
            a, b = before.get(key), after.get(key)
            if a is None and isinstance(b, int) and not isinstance(b, bool):
                a = 0
            if b is None and isinstance(a, int) and not isinstance(a, bool):
                b = 0
            if isinstance(a, str) or isinstance(b, str):
                continue
            out[key] = delta(a, b)
        return out
    if isinstance(before, list) and isinstance(after, list):
        rows = {row.get("group"): row for row in after if isinstance(row, dict)}
        return [
            {"group": row["group"], **delta(row, rows[row["group"]])}
            for row in before
            if isinstance(row, dict) and row.get("group") in rows
        ]
    return None


def _replay_both(
    data: BacktestData,
    rows: RowInputs,
    rule_sets: tuple[RuleSet, RuleSet],
    options: BacktestOptions,
    rules: DecisionRules,
    progress: Progress,
) -> tuple[Replay, Replay]:
    results = []
    for rule_set, stage in zip(rule_sets, STAGES[:2], strict=True):
        assignment = assign_slots(rule_set.catalog, data, options.versions)
        table = product_table(assignment.products, rules)
        excluded = None if data.industry is None else table.exclusions(data.industry.labels)
        results.append(replay(rows, table, assignment, rules, excluded))
        progress(stage)
    return results[0], results[1]


def _vintage(data: BacktestData, champion: Replay, challenger: Replay) -> dict[str, Any]:
    months = vintage.max_months_on_book(data)
    colours = colour_index(data)
    everyone = np.ones(len(data), dtype=bool)
    years, year_index = vintage.origination_years(data)
    single = np.zeros(len(data), dtype=np.int64)

    def by_colour(mask: NDArray[np.bool_]) -> dict[str, Any]:
        return {
            **vintage.curves(COLOUR_GROUPS, colours, data, mask, months),
            **vintage.curves(("all",), single, data, mask, months),
        }

    return {
        "max_months_on_book": months,
        "by_colour": {
            "all_applications": by_colour(everyone),
            "champion": by_colour(champion.booked),
            "challenger": by_colour(challenger.booked),
        },
        "by_origination_year": {
            "all_applications": vintage.curves(years, year_index, data, everyone, months),
        },
    }


def _inputs(
    data: BacktestData, champion: RuleSet, challenger: RuleSet, options: BacktestOptions
) -> dict[str, Any]:
    rules = options.rules or default_decision_rules()
    return {
        "history": {
            "applications": len(data),
            "first_application": str(data.application_date.min()),
            "last_application": str(data.application_date.max()),
            "product_codes": len(data.product.labels),
        },
        "champion": champion.describe(),
        "challenger": challenger.describe(),
        "versions": options.versions.describe(),
        "decision_rules": rules.version,
        "risk_bands": (options.bands or default_risk_bands()).version,
    }


def _assumptions(data: BacktestData) -> dict[str, Any]:
    return {
        "booked": "approved or referred (a referral's terms are those an officer may approve)",
        "exposure": "drawn, EAD and realised loss scale with final limit / base limit",
        "interest_forgone": "drawn x (base rate - final rate) x term / 12, simple interest",
        "rules_not_evaluated": unevaluated_rules(data),
        "backtest_reason_codes": BACKTEST_CODES,
    }


def _model_sections(
    data: BacktestData, pd: FloatArray, options: BacktestOptions, bands: RiskBands, report: Progress
) -> tuple[dict[str, Any], dict[str, Any]]:
    default_ref, default_new = stability.default_periods(data.application_date)
    periods = (options.reference or default_ref, options.recent or default_new)
    performance = stability.model_performance(data, pd, bands, periods)
    report(STAGES[4])
    stable = stability.stability(data, pd, bands, periods)
    report(STAGES[5])
    return performance, stable


def _side_by_side(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    return {"champion": first, "challenger": second, "delta": delta(first, second)}


def run_backtest(
    data: BacktestData,
    pd: FloatArray,
    champion: RuleSet,
    challenger: RuleSet,
    options: BacktestOptions | None = None,
    progress: Progress | None = None,
) -> BacktestRun:
    """Replay both rule sets over ``data`` and measure them side by side.

    Parameters
    ----------
    pd
        ``(n,)`` calibrated 12-month PD of every application (the risk model's).
    progress
        Called with each of :data:`STAGES` as it finishes.
    """
    chosen = options or BacktestOptions()
    report = progress or _skip_progress
    rules = chosen.rules or default_decision_rules()
    bands = chosen.bands or default_risk_bands()
    rows = row_inputs(data, pd)
    replays = _replay_both(data, rows, (champion, challenger), chosen, rules, report)
    ex = [exposure(data, pd, r) for r in replays]
    measured = [rule_set_measures(data, pd, r, bands, e) for r, e in zip(replays, ex, strict=True)]
    report(STAGES[2])
    sets = SwapSets.of(*replays)
    swaps = swap_summary(sets, data, pd, (replays[0], ex[0]), (replays[1], ex[1]))
    report(STAGES[3])
    performance, stable = _model_sections(data, pd, chosen, bands, report)
    curves = _vintage(data, *replays)
    report(STAGES[6])
    emissions = [carbon.financed_emissions(data, r, e) for r, e in zip(replays, ex, strict=True)]
    report(STAGES[7])
    summary = {
        "format": SUMMARY_FORMAT,
        "inputs": _inputs(data, champion, challenger, chosen),
        "assumptions": _assumptions(data),
        "rule_sets": _side_by_side(*measured),
        "swap_sets": swaps,
        "model_performance": performance,
        "stability": stable,
        "vintage": curves,
        "carbon": _side_by_side(*emissions),
    }
    return BacktestRun(summary, replays[0], replays[1], sets)
