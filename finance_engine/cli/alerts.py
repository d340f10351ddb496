"""CLI commands: ``alerts list`` (stored abnormal-use and data alerts)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import click

from accounting.alerts import AlertKind, Severity
from finance_engine.cli.common import UserError, echo_json, get_context, json_option
from finance_engine.services.alerts import AlertView, list_alerts


@click.group("alerts")
def alerts_group() -> None:
    """Abnormal-use and data alerts (evaluated at ingest)."""


@alerts_group.command("list")
@click.option("--entity", "entity_id", help="Only this entity's alerts.")
@click.option("--kind", type=click.Choice([k.value for k in AlertKind]), help="Only this kind.")
@click.option(
    "--severity", type=click.Choice([s.value for s in Severity]), help="Only this severity."
)
@click.option(
    "--since",
    help="Only alerts starting at or after this local date or date-time (YYYY-MM-DD[THH:MM]).",
)
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@json_option
def list_command(
    entity_id: str | None,
    kind: str | None,
    severity: str | None,
    since: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """List stored alerts, most severe first, then newest first."""
    context = get_context()
    zone = ZoneInfo(context.settings.timezone)
    since_s = _parse_since(since, zone) if since else None
    try:
        alerts = list_alerts(
            context.engine(),
            entity_id=entity_id,
            kind=kind,
            severity=severity,
            since=since_s,
            limit=limit,
        )
    except ValueError as exc:
        raise UserError(str(exc)) from None
    rendered = [_render(a, zone) for a in alerts]
    if as_json:
        echo_json(rendered)
        return
    if not rendered:
        click.echo("no alerts")
    for row in rendered:
        click.echo(
            f"{row['severity']:<8} {row['kind']:<16} {row['entity_id']:<12} {row['meter_code']:<20}"
            f" {row['start_local']}  {row['message']} [{row['unit']}]"
        )


def _parse_since(value: str, zone: ZoneInfo) -> int:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UserError(
            f"--since: {value!r} is not a date or date-time (YYYY-MM-DD[THH:MM])"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return int(moment.timestamp())


def _render(alert: AlertView, zone: ZoneInfo) -> dict[str, Any]:
    row = asdict(alert)
    row["start_local"] = _local(alert.interval_start_s, zone)
    row["end_local"] = _local(alert.interval_end_s, zone)
    return row


def _local(epoch_s: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).astimezone(zone).isoformat(timespec="minutes")


def register(cli: click.Group) -> None:
    """Add this module's commands to ``cli``."""
    cli.add_command(alerts_group)
