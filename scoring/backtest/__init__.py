"""Backtests: replay product rules and the risk model over historical applications.

A *rule set* (a product catalog, or a patch on one) is replayed over every historical
application at once with numpy (:mod:`scoring.backtest.replay`: the rules of
:func:`scoring.decide.decide`, vectorised), and two rule sets are measured side by side: volume,
pricing, losses, bad rates by carbon grade and PD band, swap sets, model performance and
stability, vintage curves and PCAF financed emissions. ``docs/backtests.md`` describes it all.

Pure: values in, values out; ``load_patch`` is the one function that reads a file.
"""

from scoring.backtest.data import BacktestData, BacktestDataError, Categorical, backtest_data
from scoring.backtest.patch import PatchError, RulePatch, apply_patch, load_patch, patch_from_dict
from scoring.backtest.render import jsonable, summary_json
from scoring.backtest.replay import APPROVE, DECLINE, REFER, Replay, replay
from scoring.backtest.run import (
    STAGES,
    BacktestOptions,
    BacktestRun,
    Progress,
    RuleSet,
    delta,
    run_backtest,
)
from scoring.backtest.stability import Period, PeriodError
from scoring.backtest.table import RuleSetError, VersionPolicy

__all__ = [
    "APPROVE",
    "DECLINE",
    "REFER",
    "STAGES",
    "BacktestData",
    "BacktestDataError",
    "BacktestOptions",
    "BacktestRun",
    "Categorical",
    "PatchError",
    "Period",
    "PeriodError",
    "Progress",
    "Replay",
    "RulePatch",
    "RuleSet",
    "RuleSetError",
    "VersionPolicy",
    "apply_patch",
    "backtest_data",
    "delta",
    "jsonable",
    "load_patch",
    "patch_from_dict",
    "replay",
    "run_backtest",
    "summary_json",
]
