"""CLI commands: ``residents ingest FILE``, ``residents compute``, ``residents show ID``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click

from accounting.resident_behaviours import FactorTableError
from finance_engine.cli.common import (
    UserError,
    echo_json,
    get_context,
    json_option,
    progress_bar,
)
from finance_engine.services.reference import ReferenceDataError
from finance_engine.services.residents import (
    MonthRun,
    ResidentAccountsError,
    ResidentIngestReport,
    compute_resident_months,
    ingest_resident_file,
)
from finance_engine.services.residents_formats import EVENT_FORMATS
from finance_engine.services.residents_view import ResidentView, resident_view
from finance_engine.storage.formats import FormatError

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group("residents")
def residents_group() -> None:
    """Residents' personal carbon accounts: behaviour events, monthly points and levels."""


@residents_group.command("ingest")
@click.argument("file", type=_FILE)
@click.option("--format", "fmt", type=click.Choice(EVENT_FORMATS), help="Default: the suffix.")
@click.option("--source", default="", help="Label stored with the batch (default: the path).")
@click.option(
    "--show",
    type=click.IntRange(0),
    default=20,
    show_default=True,
    help="Rejected rows listed in text mode.",
)
@json_option
def ingest_command(file: Path, fmt: str | None, source: str, show: int, as_json: bool) -> None:
    """Ingest a CSV or JSON file of behaviour events (docs/residents.md).

    Idempotent by event id: re-sending a file stores nothing new.
    """
    context = get_context()
    try:
        with progress_bar(" events", leave=False) as progress:
            report = ingest_resident_file(
                context.engine(),
                file,
                context.settings,
                fmt=fmt,
                source=source,
                progress=progress,
            )
    except FormatError as exc:
        raise UserError(str(exc)) from None
    if as_json:
        echo_json(report.to_dict())
    else:
        click.echo(_report_lines(report, show))


def _report_lines(report: ResidentIngestReport, show: int) -> str:
    months = ", ".join(f"{m // 100}-{m % 100:02d}" for m in sorted(report.months))
    lines = [
        f"batch {report.batch_id}: {report.rows:,} events from {report.source}",
        f"  accepted    {report.accepted:>12,}",
        f"  duplicates  {report.duplicates:>12,}",
        f"  rejected    {len(report.rejected):>12,}",
    ]
    if months:
        lines.append(f"  months with new events: {months} (run 'residents compute')")
    if report.rejected and show:
        more = f" (first {show} of {len(report.rejected):,})" if len(report.rejected) > show else ""
        lines += [f"rejected rows{more}:", *(f"  {r}" for r in report.rejected[:show])]
    return "\n".join(lines)


def _months(month: str | None, year: int | None) -> list[int]:
    if (month is None) == (year is None):
        raise UserError("give exactly one of --month YYYY-MM or --year YYYY")
    if year is not None:
        return [year * 100 + m for m in range(1, 13)]
    assert month is not None
    found = re.fullmatch(r"(\d{4})-(\d{2})", month.strip())
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise UserError(f"--month: {month!r} is not a month like 2024-05")
    return [int(found.group(1)) * 100 + int(found.group(2))]


@residents_group.command("compute")
@click.option("--month", help="One month, YYYY-MM (later computed months are recomputed too).")
@click.option("--year", type=click.IntRange(1970, 2199), help="All months of a year.")
@json_option
def compute_command(month: str | None, year: int | None, as_json: bool) -> None:
    """Compute the monthly accounts of every resident (points, levels, reductions)."""
    context = get_context()
    wanted = _months(month, year)
    try:
        with progress_bar(" months", total=len(wanted), leave=False) as progress:
            runs = compute_resident_months(
                context.engine(), context.settings, wanted, progress=progress
            )
    except (ResidentAccountsError, FactorTableError, ReferenceDataError) as exc:
        raise UserError(str(exc)) from None
    if as_json:
        echo_json({"months": [r.to_dict() for r in runs]})
    else:
        click.echo("\n".join(_run_lines(runs)))


def _run_lines(runs: list[MonthRun]) -> list[str]:
    if not runs:
        return ["nothing to compute (no month has started yet)"]
    lines = ["month    residents      events   reduction kg        points  levels 1..n"]
    for r in runs:
        levels = " ".join(f"{r.levels[k]:,}" for k in sorted(r.levels))
        lines.append(
            f"{r.month // 100}-{r.month % 100:02d} {r.residents:>11,} {r.events:>11,} "
            f"{r.reduction_kg:>14,.1f} {r.points:>13,}  {levels}"
        )
    v = runs[-1].versions
    lines.append(
        f"factor table {v['factor_table']}, points rules {v['points_rules']}, "
        f"factor set {v['factor_set']} ({v['grid_region']})"
    )
    return lines


@residents_group.command("show")
@click.argument("resident_id", type=click.IntRange(1))
@json_option
def show_command(resident_id: int, as_json: bool) -> None:
    """Show one resident's points, level, and monthly and cumulative reduction."""
    context = get_context()
    try:
        view = resident_view(context.engine(), context.settings, resident_id)
    except LookupError as exc:
        raise UserError(str(exc)) from None
    if as_json:
        echo_json(view.to_dict())
    else:
        click.echo("\n".join(_view_lines(view)))


def _view_lines(v: ResidentView) -> list[str]:
    if not v.months:
        return [
            f"resident {v.resident_id}: {v.events:,} events stored, no monthly accounts yet "
            "(run 'finance-engine residents compute')"
        ]
    lines = [
        f"resident {v.resident_id}: level {v.level} {v.level_name} ({v.level_name_zh}), "
        f"{v.cumulative_points:,} points, {v.cumulative_reduction_g / 1000:,.3f} kg CO2 avoided",
    ]
    if v.next_level:
        n = v.next_level
        lines.append(
            f"  next: level {n['level']} {n['name']} at {n['min_points']:,} points "
            f"({n['points_to_go']:,} to go)"
        )
    lines.append(f"  events stored {v.events:,}, not yet accounted {v.events_not_accounted:,}")
    lines.append("  month    events   reduction g      points   cumulative  level")
    for m in v.months:
        lines.append(
            f"  {m['month']} {m['events']:>8,} {m['reduction_g']:>13,.1f} {m['points']:>11,} "
            f"{m['cumulative_points']:>12,}  {m['level']}"
        )
    return lines


def calc_summary_lines(result: dict[str, Any]) -> list[str]:
    """Text rendering of :func:`accounting.residents.calc_resident`'s result (``account calc``)."""
    e, t = result["entity"], result["totals"]
    lines = [
        f"resident {e['id']}{' ' + e['name'] if e.get('name') else ''}, "
        f"{result['period']['start']} to {result['period']['end']}",
        f"level {t['level']} {t['level_name']}, {t['cumulative_points']:,} points cumulative, "
        f"{t['reduction_g'] / 1000:,.3f} kg CO2 avoided in the period ({t['events']} events)",
        "  month    events   reduction g      points   cumulative  level",
    ]
    for m in result["months"]:
        lines.append(
            f"  {m['month']} {m['events']:>8,} {m['reduction_g']:>13,.1f} {m['points']:>11,} "
            f"{m['cumulative_points']:>12,}  {m['level']}"
        )
    if result["next_level"]:
        n = result["next_level"]
        lines.append(
            f"next level {n['level']} at {n['min_points']:,} points ({n['points_to_go']:,} to go)"
        )
    last = result["months"][-1]
    lines.append(
        f"factor table {last['factor_table']}, points rules {last['points_rules']}, "
        f"factor set {last['factor_set']} ({last['grid_region']})"
    )
    return lines


def register(cli: click.Group) -> None:
    """Add this module's commands to ``cli``."""
    cli.add_command(residents_group)
