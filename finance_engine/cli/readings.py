"""CLI commands: ``readings export`` (stored interval readings of chosen meters)."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from finance_engine.cli.common import UserError, echo_json, get_context, json_option
from finance_engine.services.readings_export import ExportError, export_readings

_OPEN_END_S = 1 << 40
"""``--to`` left out: every reading stored (epoch seconds far beyond any meter's life)."""


@click.group("readings")
def readings_group() -> None:
    """Stored interval readings (to ingest files, see 'ingest readings')."""


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{option}: {value!r} is not a date (YYYY-MM-DD)") from None


def _start_s(day: date, zone: ZoneInfo) -> int:
    return int(datetime.combine(day, time(), zone).timestamp())


@readings_group.command("export")
@click.argument("meters", nargs=-1, required=True)
@click.option("--from", "first", help="First local day (YYYY-MM-DD); default: the first stored.")
@click.option("--to", "last", help="Last local day, inclusive (YYYY-MM-DD); default: the last.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the CSV (with --json, the JSON) to this file instead of standard output.",
)
@json_option
def export_command(
    meters: tuple[str, ...],
    first: str | None,
    last: str | None,
    output: Path | None,
    as_json: bool,
) -> None:
    """Print the stored readings of METERS (meter codes) as CSV: meter, local interval start,
    quantity and unit, counter value, flags, ingest batch."""
    context = get_context()
    zone = ZoneInfo(context.settings.timezone)
    start_s = _start_s(_day(first, "--from"), zone) if first else 0
    end_s = _start_s(_day(last, "--to") + timedelta(days=1), zone) if last else _OPEN_END_S
    try:
        export = export_readings(
            context.engine(),
            list(dict.fromkeys(meters)),
            start_s=start_s,
            end_s=end_s,
            timezone=context.settings.timezone,
        )
    except ExportError as exc:
        raise UserError(str(exc)) from None
    if as_json:
        document = {"count": len(export), "readings": export.records()}
        if output is None:
            echo_json(document)
            return
        text = json.dumps(document, ensure_ascii=False, indent=1) + "\n"
    else:
        text = export.to_csv()
        if output is None:
            click.echo(text, nl=False)
            return
    output.write_text(text, "utf-8")
    click.echo(f"{len(export):,} readings written to {output}", err=True)


def register(cli: click.Group) -> None:
    """Attach the ``readings`` group to ``cli``."""
    cli.add_command(readings_group)
