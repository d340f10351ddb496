"""CLI command: ``backtest``: replay a champion and a challenger rule set over a loan history."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from finance_engine.cli.common import (
    UserError,
    echo_json,
    get_context,
    json_option,
    progress_enabled,
)
from finance_engine.services.backtests import (
    SERVICE_STAGES,
    BacktestServiceError,
    headline_rows,
    run_backtest,
)
from scoring.backtest import BacktestOptions, Period, PeriodError, RuleSetError, VersionPolicy


def _options(versions: str, reference: str | None, recent: str | None) -> BacktestOptions:
    try:
        return BacktestOptions(
            versions=VersionPolicy.parse(versions),
            reference=None if reference is None else Period.parse(reference, "--reference"),
            recent=None if recent is None else Period.parse(recent, "--recent"),
        )
    except (RuleSetError, PeriodError) as exc:
        raise UserError(str(exc)) from exc


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.4f}"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,}" if hasattr(value, "as_tuple") else str(value)


@click.command("backtest")
@click.option(
    "--history",
    type=click.Path(path_type=Path),
    required=True,
    help="Historical applications (.csv or .parquet, docs/backtests.md).",
)
@click.option(
    "--champion",
    type=click.Path(path_type=Path),
    default=None,
    help="Champion catalog directory (default: the packaged catalog).",
)
@click.option(
    "--challenger",
    type=click.Path(path_type=Path),
    required=True,
    help="Challenger catalog directory or file, or a rule-patch file applied to the champion.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder for backtest.json, swaps.csv and backtest.pdf.",
)
@click.option(
    "--model",
    "model_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Model folder (default: the current model under <instance>/models).",
)
@click.option(
    "--versions",
    default="latest",
    show_default=True,
    help="Product versions: latest, application-date, or those in force on YYYY-MM-DD.",
)
@click.option("--reference", default=None, help="Reference period START:END (stability).")
@click.option("--recent", default=None, help="Recent period START:END (stability).")
@click.option("--pdf/--no-pdf", default=True, show_default=True, help="Write backtest.pdf.")
@json_option
def backtest_command(
    history: Path,
    champion: Path | None,
    challenger: Path,
    out: Path,
    model_dir: Path | None,
    versions: str,
    reference: str | None,
    recent: str | None,
    pdf: bool,
    as_json: bool,
) -> None:
    """Replay the champion and the challenger over a history and compare them side by side."""
    options = _options(versions, reference, recent)
    settings = get_context().settings
    with tqdm(
        total=len(SERVICE_STAGES),
        file=sys.stderr,
        disable=not progress_enabled(),
        desc="backtest",
        unit="stage",
    ) as bar:

        def step(stage: str) -> None:
            bar.set_postfix_str(stage)
            bar.update(1)

        try:
            result = run_backtest(
                history,
                champion,
                challenger,
                out,
                progress=step,
                model=model_dir,
                settings=settings,
                options=options,
                pdf=pdf,
            )
        except BacktestServiceError as exc:
            raise UserError(str(exc)) from exc
    if as_json:
        echo_json(result.to_dict())
        return
    click.echo(f"{'':<28}{'champion':>22}{'challenger':>22}{'delta':>22}")
    for label, a, b, d in headline_rows(result.summary):
        click.echo(f"{label:<28}{_cell(a):>22}{_cell(b):>22}{_cell(d):>22}")
    swaps = result.summary["swap_sets"]
    click.echo(
        f"swap-out {swaps['swap_out']['applications']:,}  swap-in "
        f"{swaps['swap_in']['applications']:,}; wrote {result.out_dir}"
    )


def register(cli: click.Group) -> None:
    """Add the ``backtest`` command to ``cli``."""
    cli.add_command(backtest_command)
