"""CLI commands: ``ingest readings FILE``, ``ingest meters FILE``, ``ingest activity FILE``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from finance_engine.cli.common import (
    UserError,
    echo_json,
    get_context,
    json_option,
    progress_bar,
)
from finance_engine.services.activity import read_activity_file, store_activity
from finance_engine.services.ingest import (
    BatchReport,
    ingest_file,
    register_from_file,
)
from finance_engine.storage.formats import FORMATS, FormatError

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group("ingest")
def ingest_group() -> None:
    """Load meter readings and the meter registry (formats: docs/ingest-formats.md)."""


@ingest_group.command("readings")
@click.argument("file", type=_FILE)
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Default: from the suffix.")
@click.option("--source", default="", help="Label stored with the batch (default: the path).")
@click.option(
    "--show",
    type=click.IntRange(0),
    default=20,
    show_default=True,
    help="Rejected rows and gaps listed in text mode.",
)
@click.option("--no-alerts", is_flag=True, help="Do not evaluate alerts on the new readings.")
@json_option
def readings_command(
    file: Path, fmt: str | None, source: str, show: int, no_alerts: bool, as_json: bool
) -> None:
    """Ingest a CSV, JSON or Parquet file of 15-minute readings and print the batch report.

    Re-sending a file changes nothing: its readings come back as duplicates.
    """
    context = get_context()
    engine = context.engine()
    try:
        with progress_bar(" rows", desc="ingest") as progress:
            report = ingest_file(
                engine,
                file,
                context.settings,
                fmt=fmt,
                source=source,
                progress=progress,
                alerts=not no_alerts,
            )
    except FormatError as exc:
        raise UserError(str(exc)) from None
    if as_json:
        echo_json(report.to_dict())
    else:
        click.echo(render_report(report, ZoneInfo(context.settings.timezone), show))


def _local(seconds: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(seconds, zone).isoformat(timespec="minutes")


def render_report(report: BatchReport, zone: ZoneInfo, show: int) -> str:
    """The batch report as text: totals, then the first ``show`` rejections and gaps."""
    missing = sum(g.intervals for g in report.gaps)
    lines = [
        f"batch {report.batch_id}: {report.rows:,} rows from {report.source}",
        f"  accepted    {report.accepted:>12,}",
        f"  duplicates  {report.duplicates:>12,}",
        f"  rejected    {len(report.rejected):>12,}",
        f"  gaps        {len(report.gaps):>12,}  ({missing:,} intervals missing)",
    ]
    if report.revised:
        lines.append(f"  revised     {report.revised:>12,}  (stored counter readings)")
    if report.alerts is not None:
        lines.append(f"  alerts      {report.alerts:>12,}")
    if report.start_s is not None and report.end_s is not None:
        lines.append(
            f"  stored span  {_local(report.start_s, zone)} .. {_local(report.end_s, zone)}"
        )
    for title, items in (
        ("rejected rows", [str(r) for r in report.rejected]),
        (
            "gaps",
            [
                f"{g.meter}: {_local(g.start_s, zone)} .. {_local(g.end_s, zone)} "
                f"({g.intervals} intervals)"
                for g in report.gaps
            ],
        ),
    ):
        if items and show:
            more = f" (first {show} of {len(items):,})" if len(items) > show else ""
            lines += [f"{title}{more}:", *(f"  {item}" for item in items[:show])]
    return "\n".join(lines)


@ingest_group.command("meters")
@click.argument("file", type=_FILE)
@json_option
def meters_command(file: Path, as_json: bool) -> None:
    """Create or update entities and meters from a CSV or JSON meters file."""
    context = get_context()
    try:
        outcome = register_from_file(context.engine(), file)
    except (FormatError, ValueError) as exc:
        raise UserError(str(exc)) from None
    result = {
        "entities_created": outcome.entities_created,
        "entities_updated": outcome.entities_updated,
        "meters_created": outcome.meters_created,
        "meters_updated": outcome.meters_updated,
    }
    if as_json:
        echo_json(result)
    else:
        click.echo(", ".join(f"{k.replace('_', ' ')} {v}" for k, v in result.items()))


@ingest_group.command("activity")
@click.argument("file", type=_FILE)
@click.option("--replace", is_flag=True, help="Correct stored records that differ.")
@json_option
def activity_command(file: Path, replace: bool, as_json: bool) -> None:
    """Store activity data (value added, output, sector data, declared energy) from JSON."""
    context = get_context()
    try:
        records = read_activity_file(file)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    report = store_activity(context.engine(), records, replace=replace)
    if as_json:
        echo_json(report.to_dict())
    else:
        click.echo(
            f"{report.records} records: {report.stored} stored, {report.replaced} replaced, "
            f"{report.duplicates} duplicates, {len(report.rejected)} rejected"
        )
        for item in report.rejected[:20]:
            click.echo(f"  record {item['record']}: {item['error']}")
    if report.rejected and not (report.stored or report.replaced or report.duplicates):
        raise UserError(f"{file.name}: every record was rejected")


def register(cli: click.Group) -> None:
    """Add this module's commands to ``cli``."""
    cli.add_command(ingest_group)
