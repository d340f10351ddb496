"""CLI commands on stored accounts: ``account compute``, ``account list``, ``account show``."""

from __future__ import annotations

import re
from datetime import date

import click

from accounting.account import Period
from finance_engine.cli.account import account_group, summary_lines
from finance_engine.cli.common import UserError, echo_json, get_context, json_option
from finance_engine.services.accounts import (
    AccountRun,
    compute_period_accounts,
    latest_account,
    list_accounts,
)
from finance_engine.services.reference import ReferenceDataError

_YEAR = re.compile(r"^\d{4}$")


def parse_period(text: str) -> Period:
    """``2024`` (a calendar year) or ``2024-01-01..2024-06-30`` (inclusive dates)."""
    try:
        if _YEAR.match(text):
            year = int(text)
            return Period(date(year, 1, 1), date(year, 12, 31))
        start, end = text.split("..")
        period = Period(date.fromisoformat(start), date.fromisoformat(end))
    except ValueError:
        raise UserError(
            f"--period: {text!r} is not a year (2024) or a range (2024-01-01..2024-06-30)"
        ) from None
    if period.end < period.start:
        raise UserError(f"--period: {text!r} ends before it starts")
    return period


@account_group.command("compute")
@click.option("--period", "period_text", required=True, help="2024, or 2024-01-01..2024-06-30.")
@click.option("--factor-set", default=None, help="Factor-set version (default: effective one).")
@click.option(
    "--benchmark",
    default=None,
    help="Stored benchmark version or benchmark JSON file (default: the period's own median).",
)
@click.option("--percentile", default=50.0, show_default=True, help="Population benchmark.")
@json_option
def compute_command(
    period_text: str,
    factor_set: str | None,
    benchmark: str | None,
    percentile: float,
    as_json: bool,
) -> None:
    """Compute, grade and store the industry and energy accounts of a period."""
    if not 0 < percentile < 100:
        raise UserError("--percentile: must be between 0 and 100")
    context = get_context()
    try:
        run = compute_period_accounts(
            context.engine(),
            context.settings,
            parse_period(period_text),
            factor_set=factor_set,
            benchmark=benchmark,
            percentile=percentile,
        )
    except ReferenceDataError as exc:
        raise UserError(str(exc)) from None
    if as_json:
        echo_json(run.to_dict())
    else:
        click.echo("\n".join(run_lines(run)))


def run_lines(run: AccountRun) -> list[str]:
    """A readable summary of an account run."""
    lines = [
        f"period {run.period.start} to {run.period.end}: {run.stored} accounts stored, "
        f"{run.already_stored} already stored, {len(run.skipped)} skipped, "
        f"{run.provisional} provisional",
        f"factor set {run.factor_set_version}, benchmark {run.benchmark_version}, "
        f"grading {run.grading_version}",
    ]
    for sector, colours in run.colours.items():
        parts = ", ".join(f"{c} {n}" for c, n in colours.items())
        grades = ", ".join(f"{g}: {n}" for g, n in run.grades.get(sector, {}).items())
        lines.append(f"  {sector:<12} colours: {parts}")
        lines.append(f"  {'':<12} grades:  {grades}")
        labels = ", ".join(f"{k} {n}" for k, n in run.labels.get(sector, {}).items())
        if labels:
            lines.append(f"  {'':<12} labels:  {labels}")
    lines += [f"  skipped {s['entity']}: {s['reason']}" for s in run.skipped[:10]]
    if len(run.skipped) > 10:
        lines.append(f"  ... and {len(run.skipped) - 10} more skipped (see --json)")
    return lines


@account_group.command("list")
@click.option("--entity", "entity_id", default=None)
@click.option("--period-end", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--colour", type=click.Choice(["dark_green", "light_green", "yellow", "red"]))
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--offset", default=0, type=click.IntRange(0))
@json_option
def list_command(
    entity_id: str | None,
    period_end: object,
    colour: str | None,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    """List stored accounts, newest period first."""
    end = period_end.date() if hasattr(period_end, "date") else None
    rows = list_accounts(
        get_context().engine(),
        entity_id=entity_id,
        period_end=end,
        colour=colour,
        limit=limit,
        offset=offset,
    )
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        click.echo(
            f"{r['entity_id']:<18} {r['period']['end']}  {r['colour'] or '-':<11} "
            f"grade {r['carbon_efficiency_grade'] or '-'}  score {_fmt(r['score'])}  "
            f"{r['emissions_tco2e']:>12,.1f} tCO2e  tier {r['quality_tier']}"
            f"{'  provisional' if r['provisional'] else ''}"
        )
    if not rows:
        click.echo("no accounts (run 'finance-engine account compute --period YEAR' first)")


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


@account_group.command("show")
@click.argument("entity_id")
@json_option
def show_command(entity_id: str, as_json: bool) -> None:
    """Show the latest stored account of an entity."""
    account = latest_account(get_context().engine(), entity_id)
    if account is None:
        raise UserError(f"no stored account for entity {entity_id!r}")
    if as_json:
        echo_json(account)
    else:
        click.echo("\n".join(summary_lines(account)))
